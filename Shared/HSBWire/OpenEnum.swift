/// An enum of the wire contract. Proto3 enums are open: a number this build does not know (a
/// newer peer added it) decodes as `unrecognized(n)` and is carried on, so one agency's upgrade
/// never makes another's replies undecodable. Where a value must be acted on, code refuses the
/// unknown one with a clear error for that one request.
public protocol OpenEnum: RawRepresentable, Sendable, Hashable, CaseIterable, Codable where RawValue == Int32, AllCases == [Self] {
    init(rawValue: Int32)
}

extension OpenEnum {
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(Int32.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// False for a value this build does not know.
    public var isRecognized: Bool { Self.allCases.contains(self) }
}
