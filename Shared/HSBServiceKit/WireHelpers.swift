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

/// When children's social care received a referral, as the practitioner records it: every
/// deadline counts from it, never from when it was typed in.
public enum ReferralReceipt {
    /// The recorded time, or `now` when none is recorded (0). A time in the future (beyond five
    /// minutes of clock difference) or more than a year back is INVALID_ARGUMENT naming the field.
    public static func receivedAt(_ recorded: Int64, now: Int64) throws(RPCError) -> Int64 {
        guard recorded != 0 else { return now }
        if recorded > now + 5 * 60_000 {
            throw RPCError(.invalidArgument, "referral.received_unix_ms is in the future; record when social care received the referral")
        }
        if recorded < now - 366 * 86_400_000 {
            throw RPCError(.invalidArgument, "referral.received_unix_ms is more than a year ago; check the date")
        }
        return min(recorded, now)
    }
}
