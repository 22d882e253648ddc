/// Why bytes could not become a message, or a message could not become bytes.
///
/// Every case names the field or the limit involved, so that the error can be sent back to a
/// caller as an `INVALID_ARGUMENT` message a person can act on.
public enum WireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// protobuf-c refused the bytes as `message` (bad tag, bad varint, truncated field, wrong wire type).
    case malformed(message: String, byteCount: Int)
    /// Decoding `message` would have allocated more than the budget tied to its size.
    case allocationBudgetExceeded(message: String, budget: Int)
    /// Fields that must be set are not (full protobuf names, e.g. `hsb.rpc.v1.Request.method`).
    case missingFields([String])
    /// An enum field carries a number the schema does not define.
    case enumOutOfRange(field: String, value: Int32)
    /// A string field is not valid UTF-8, or holds U+0000 (protobuf-c strings end at the first NUL).
    case invalidString(field: String, reason: String)
    /// A repeated field holds more entries than the schema allows.
    case tooManyEntries(field: String, count: Int, limit: Int)
    /// A JSON document does not fit the message's schema (`ProtoJSON`).
    case invalidJSON(field: String, reason: String)
    /// A string field is longer than the decode limits allow.
    case stringTooLong(field: String, bytes: Int, limit: Int)
    /// Sub-messages are nested deeper than the decode limits allow.
    case nestedTooDeeply(message: String, limit: Int)
    /// A field's value is outside what the contract accepts (a date that does not exist, a year
    /// outside the window, a negative count).
    case outOfRange(field: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let message, let byteCount):
            return "\(byteCount) bytes are not a valid \(message) (protobuf decoding failed)"
        case .allocationBudgetExceeded(let message, let budget):
            return "decoding \(message) needs more than its memory budget of \(budget) bytes"
        case .missingFields(let fields):
            return "missing required field\(fields.count == 1 ? "" : "s"): \(fields.joined(separator: ", "))"
        case .enumOutOfRange(let field, let value):
            return "\(field) has value \(value), which is not defined"
        case .invalidString(let field, let reason):
            return "\(field) \(reason)"
        case .tooManyEntries(let field, let count, let limit):
            return "\(field) has \(count) entries; at most \(limit) are allowed"
        case .invalidJSON(let field, let reason):
            return "\(field) \(reason)"
        case .stringTooLong(let field, let bytes, let limit):
            return "\(field) is \(bytes) bytes long; at most \(limit) are allowed"
        case .nestedTooDeeply(let message, let limit):
            return "\(message) nests sub-messages deeper than \(limit) levels"
        case .outOfRange(let field, let reason):
            return "\(field) \(reason)"
        }
    }
}

/// Limits applied when decoding bytes from an untrusted peer.
public struct DecodeLimits: Sendable, Hashable {
    /// Bytes one decode may allocate per byte of input. protobuf-c's worst case is an empty
    /// repeated sub-message: 2 bytes on the wire, and in memory its struct, its slot in the array
    /// and the 32-byte scan record protobuf-c keeps per field occurrence. The default derives that
    /// from the schema's largest struct, so every valid message decodes, and a hostile frame can
    /// make the server allocate at most this many times its size.
    public var bytesPerInputByte: Int
    /// Bytes one decode may always allocate, whatever the input size (the top-level structs).
    public var baseBudget: Int

    /// Entries one repeated field may hold in one message (packed scalars count by element).
    public var maxRepeatedEntries: Int
    /// Bytes one string field may hold; names and free text have tighter limits of their own
    /// where a service reads them (docs/REFERRAL_JSON.md).
    public var maxStringBytes: Int
    /// Levels of sub-messages; the schema is not recursive, so this only stops hostile nesting of
    /// unknown fields being read as known ones.
    public var maxDepth: Int

    public init(
        bytesPerInputByte: Int, baseBudget: Int, maxRepeatedEntries: Int = 4096, maxStringBytes: Int = 64 * 1024, maxDepth: Int = 16
    ) {
        self.bytesPerInputByte = bytesPerInputByte
        self.baseBudget = baseBudget
        self.maxRepeatedEntries = maxRepeatedEntries
        self.maxStringBytes = maxStringBytes
        self.maxDepth = maxDepth
    }

    /// Sized from the schema (see ``bytesPerInputByte``).
    public static let `default` = DecodeLimits(
        bytesPerInputByte: (WireSchema.largestMessageSize + MemoryLayout<UnsafeRawPointer>.size + 32 + 1) / 2,
        baseBudget: 16 * 1024 + 4 * WireSchema.largestMessageSize)

    /// The allocation budget for decoding `inputCount` bytes.
    public func budget(forInputCount inputCount: Int) -> Int {
        let (scaled, overflow) = inputCount.multipliedReportingOverflow(by: bytesPerInputByte)
        if overflow { return Int.max }
        let (total, overflow2) = scaled.addingReportingOverflow(baseBudget)
        return overflow2 ? Int.max : total
    }
}
