internal import CProtobufC

/// Protobuf bytes for a message type, made from the type's own schema with the values a hostile
/// or careless peer would send: extreme numbers (±2^31, ±2^63, -1), enums outside their range,
/// strings with NUL bytes, invalid UTF-8 or 70,000 characters, repeated fields with thousands of
/// entries, dates in year -2^31, and fields the schema does not have. For the fuzzer
/// (`hsb-fuzz`) and the tests that drive every message type through every handler.
public struct HostileMessages {
    private var state: UInt64

    /// A generator whose output is fixed by `seed`, so a failing frame can be made again.
    public init(seed: UInt64) { state = seed }

    /// SplitMix64.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<bound.
    public mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

    /// Random bytes, `count` of them.
    public mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    /// One encoding of `type` (which must be a message of the wire contract), or random bytes for
    /// a type the generator has no schema for.
    public mutating func message(_ type: any WireMessage.Type) -> [UInt8] {
        guard let described = type as? any SchemaDescribed.Type else { return bytes(below(64)) }
        var descriptor = described.cDescriptor
        return withUnsafePointer(to: &descriptor) { pointer in message(pointer, depth: 0) }
    }

    static let numbers: [UInt64] = [
        0, 1, 2, 3, 12, 13, 31, 100, 2000, 2010, 2026, 2200, 9999,
        UInt64(bitPattern: -1), UInt64(bitPattern: Int64(Int32.min)), UInt64(Int32.max), UInt64(bitPattern: Int64.min), UInt64(Int64.max),
        UInt64(UInt32.max), UInt64.max,
    ]

    mutating func number() -> UInt64 { below(4) == 0 ? next() : Self.numbers[below(Self.numbers.count)] }

    mutating func text() -> [UInt8] {
        switch below(10) {
        case 0: return []
        case 1: return Array("Ann\u{0}e".utf8)
        case 2: return [0xFF, 0xFE, 0x41]
        case 3: return [UInt8](repeating: 0x41, count: 70_000)
        case 4: return Array("brook/13-17/red/8".utf8)
        case 5: return Array("social-care".utf8)
        case 6: return Array("   ".utf8)
        case 7: return Array("Zoë 🙂 \u{202E}".utf8)
        default: return Array("child-\(below(4))".utf8)
        }
    }

    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    static func key(_ number: UInt32, _ wire: UInt32, into out: inout [UInt8]) {
        varint(UInt64(number) << 3 | UInt64(wire), into: &out)
    }

    static func delimited(_ number: UInt32, _ body: [UInt8], into out: inout [UInt8]) {
        key(number, 2, into: &out)
        varint(UInt64(body.count), into: &out)
        out += body
    }

    mutating func message(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, depth: Int) -> [UInt8] {
        var out: [UInt8] = []
        for index in 0..<Int(descriptor.pointee.n_fields) {
            let field = descriptor.pointee.fields[index]
            if below(3) == 0 { continue }
            var count = 1
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                switch below(12) {
                case 0: count = 4097
                case 1: count = 0
                default: count = 1 + below(3)
                }
            }
            for _ in 0..<count {
                switch field.type {
                case PROTOBUF_C_TYPE_STRING, PROTOBUF_C_TYPE_BYTES:
                    Self.delimited(field.id, count > 100 ? [] : text(), into: &out)
                case PROTOBUF_C_TYPE_MESSAGE:
                    let body =
                        depth < 5 && count <= 100
                        ? message(field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), depth: depth + 1) : []
                    Self.delimited(field.id, body, into: &out)
                case PROTOBUF_C_TYPE_BOOL:
                    Self.key(field.id, 0, into: &out)
                    Self.varint(below(5) == 0 ? 2 : UInt64(below(2)), into: &out)
                case PROTOBUF_C_TYPE_ENUM:
                    Self.key(field.id, 0, into: &out)
                    Self.varint(below(4) == 0 ? number() : UInt64(below(12)), into: &out)
                default:
                    Self.key(field.id, 0, into: &out)
                    Self.varint(number(), into: &out)
                }
            }
        }
        // A field the schema does not have, now and then.
        if below(8) == 0 { Self.delimited(UInt32(900 + below(50)), text(), into: &out) }
        // And, rarely, a cut or a flipped byte, for unpack's own checks.
        if below(20) == 0, !out.isEmpty { out.removeLast(1 + below(out.count)) }
        if below(20) == 0, !out.isEmpty { out[below(out.count)] ^= UInt8(truncatingIfNeeded: next() | 1) }
        return out
    }
}
