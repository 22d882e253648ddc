public import HSBRuntime
public import HSBSafeguarding
public import HSBWire

/// A request payload decoded, or INVALID_ARGUMENT naming what failed.
public func decodePayload<M: WireMessage>(_ type: M.Type, _ payload: [UInt8]) throws(RPCError) -> M {
    do throws(WireError) { return try M(decoding: payload) } catch { throw RPCError.invalidPayload(error) }
}

extension CivilDate {
    /// The civil date of a wire date; nil when absent or not a real date.
    public init?(wire date: CalendarDate?) {
        guard let date, let civil = CivilDate(year: Int(date.year), month: Int(date.month), day: Int(date.day)) else { return nil }
        self = civil
    }
}

/// A request the rules cannot read is INVALID_ARGUMENT, naming every problem.
extension ScreeningInputError: RPCErrorConvertible {
    public var rpcError: RPCError { RPCError(.invalidArgument, problems.joined(separator: "; ")) }
}
