package import CProtobufC
internal import HSBProtoC

/// A JSON value, as a practitioner's event file holds it.
public indirect enum JSONValue: Sendable, Hashable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// Generated messages whose protobuf-c descriptor is known, so that a JSON object can be read
/// into them field by field.
package protocol SchemaDescribed {
    static var cDescriptor: ProtobufCMessageDescriptor { get }
}

/// Reads JSON into a generated message by the message's own protobuf-c descriptor: keys are the
/// proto field names (snake_case), enums are their value names (`SENTENCE_OTHER`) or the short
/// form (`other`), `hsb.common.v1.Date` fields take `YYYY-MM-DD`. The bytes written are then
/// decoded as the message, so every check the wire applies (required fields, enum ranges,
/// strings) applies to the file too. Errors name the field.
public enum ProtoJSON {
    public static func decode<M: WireMessage>(_ type: M.Type, from json: JSONValue) throws(WireError) -> M {
        guard let described = M.self as? any SchemaDescribed.Type else {
            throw .invalidJSON(field: M.protoName, reason: "has no schema to read JSON with")
        }
        var descriptor = described.cDescriptor
        var bytes: [UInt8] = []
        try withUnsafePointer(to: &descriptor) { (pointer) throws(WireError) in
            try encode(json, as: pointer, path: "", into: &bytes)
        }
        return try M(decoding: bytes)
    }

    /// The proto names of a message's fields, in declaration order.
    static func fieldNames(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [String] {
        (0..<Int(descriptor.pointee.n_fields)).map { String(cString: descriptor.pointee.fields[$0].name) }
    }

    static func encode(
        _ json: JSONValue, as descriptor: UnsafePointer<ProtobufCMessageDescriptor>, path: String, into out: inout [UInt8]
    ) throws(WireError) {
        let messageName = String(cString: descriptor.pointee.name)
        guard case .object(let members) = json else {
            throw .invalidJSON(field: path.isEmpty ? messageName : path, reason: "must be an object (\(messageName)), not \(json.kindName)")
        }
        let fields = UnsafeBufferPointer(start: descriptor.pointee.fields, count: Int(descriptor.pointee.n_fields))
        for key in members.keys.sorted() {
            let value = members[key]!
            let fieldPath = path.isEmpty ? key : "\(path).\(key)"
            guard let field = fields.first(where: { String(cString: $0.name) == key }) else {
                throw .invalidJSON(
                    field: path.isEmpty ? ProtoJSON.excerpt(key) : "\(path).\(ProtoJSON.excerpt(key))",
                    reason: "is not a field of \(messageName); its fields are \(fieldNames(descriptor).joined(separator: ", "))")
            }
            if case .null = value { continue }
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                guard case .array(let items) = value else {
                    throw .invalidJSON(field: fieldPath, reason: "must be an array, not \(value.kindName)")
                }
                for (index, item) in items.enumerated() {
                    try encodeField(item, field, path: "\(fieldPath)[\(index)]", into: &out)
                }
            } else {
                try encodeField(value, field, path: fieldPath, into: &out)
            }
        }
    }

    static func encodeField(_ value: JSONValue, _ field: ProtobufCFieldDescriptor, path: String, into out: inout [UInt8]) throws(WireError) {
        let number = UInt64(field.id)
        switch field.type {
        case PROTOBUF_C_TYPE_BOOL:
            guard case .bool(let flag) = value else { throw .invalidJSON(field: path, reason: "must be true or false, not \(value.kindName)") }
            varint(number << 3, into: &out)
            varint(flag ? 1 : 0, into: &out)
        case PROTOBUF_C_TYPE_INT32, PROTOBUF_C_TYPE_INT64, PROTOBUF_C_TYPE_UINT32, PROTOBUF_C_TYPE_UINT64:
            // ProtoJSON writes 64-bit integers as strings; both forms are read.
            let whole: Int64?
            switch value {
            case .integer(let number): whole = number
            case .string(let text): whole = Int64(text)
            default: whole = nil
            }
            guard let integer = whole else { throw .invalidJSON(field: path, reason: "must be a whole number, not \(value.kindName)") }
            let (low, high): (Int64, Int64) =
                switch field.type {
                case PROTOBUF_C_TYPE_INT32: (Int64(Int32.min), Int64(Int32.max))
                case PROTOBUF_C_TYPE_UINT32: (0, Int64(UInt32.max))
                case PROTOBUF_C_TYPE_UINT64: (0, Int64.max)
                default: (Int64.min, Int64.max)
                }
            guard (low...high).contains(integer) else { throw .invalidJSON(field: path, reason: "\(integer) is out of range") }
            varint(number << 3, into: &out)
            varint(UInt64(bitPattern: integer), into: &out)
        case PROTOBUF_C_TYPE_STRING:
            guard case .string(let text) = value else { throw .invalidJSON(field: path, reason: "must be a string, not \(value.kindName)") }
            lengthDelimited(number, Array(text.utf8), into: &out)
        case PROTOBUF_C_TYPE_ENUM:
            let enumeration = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            guard case .string(let name) = value else {
                throw .invalidJSON(field: path, reason: "must be one of \(enumNames(enumeration).joined(separator: ", ")), not \(value.kindName)")
            }
            guard let found = enumValue(enumeration, named: name) else {
                throw .invalidJSON(
                    field: path, reason: "\(ProtoJSON.quotedExcerpt(name)) is not one of \(enumNames(enumeration).joined(separator: ", "))")
            }
            varint(number << 3, into: &out)
            varint(UInt64(bitPattern: Int64(found)), into: &out)
        case PROTOBUF_C_TYPE_MESSAGE:
            let nested = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
            var inner: [UInt8] = []
            if String(cString: nested.pointee.name) == "hsb.common.v1.Date", case .string(let text) = value {
                try encode(try date(text, path: path), as: nested, path: path, into: &inner)
            } else {
                try encode(value, as: nested, path: path, into: &inner)
            }
            lengthDelimited(number, inner, into: &out)
        default:
            throw .invalidJSON(field: path, reason: "has a type that cannot be written in JSON here")
        }
    }

    /// `YYYY-MM-DD` as an `hsb.common.v1.Date` object.
    static func date(_ text: String, path: String) throws(WireError) -> JSONValue {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]) else {
            throw .invalidJSON(field: path, reason: "\(ProtoJSON.quotedExcerpt(text)) must be a date YYYY-MM-DD")
        }
        return .object(["year": .integer(year), "month": .integer(month), "day": .integer(day)])
    }

    /// Accepted names: the proto name (`SENTENCE_OTHER`) or its short form (`other`, `imprisonment-for-life-or-at-least-30-months`).
    static func enumValue(_ enumeration: UnsafePointer<ProtobufCEnumDescriptor>, named name: String) -> Int32? {
        let values = UnsafeBufferPointer(start: enumeration.pointee.values, count: Int(enumeration.pointee.n_values))
        let prefix = enumPrefix(enumeration)
        for value in values where value.value != 0 {
            let full = String(cString: value.name)
            if full == name || shortName(full, prefix: prefix) == name { return value.value }
        }
        return nil
    }

    static func enumNames(_ enumeration: UnsafePointer<ProtobufCEnumDescriptor>) -> [String] {
        let prefix = enumPrefix(enumeration)
        return UnsafeBufferPointer(start: enumeration.pointee.values, count: Int(enumeration.pointee.n_values)).filter { $0.value != 0 }.map {
            shortName(String(cString: $0.name), prefix: prefix)
        }
    }

    /// The `SENTENCE_` of `SENTENCE_UNSPECIFIED`: what every value name of the enum starts with.
    static func enumPrefix(_ enumeration: UnsafePointer<ProtobufCEnumDescriptor>) -> String {
        let values = UnsafeBufferPointer(start: enumeration.pointee.values, count: Int(enumeration.pointee.n_values))
        guard let zero = values.first(where: { $0.value == 0 }) else { return "" }
        let name = String(cString: zero.name)
        return name.hasSuffix("_UNSPECIFIED") ? String(name.dropLast("UNSPECIFIED".count)) : ""
    }

    static func shortName(_ full: String, prefix: String) -> String {
        String(full.dropFirst(full.hasPrefix(prefix) ? prefix.count : 0)).lowercased().replacing("_", with: "-")
    }

    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    static func lengthDelimited(_ number: UInt64, _ bytes: [UInt8], into out: inout [UInt8]) {
        varint(number << 3 | 2, into: &out)
        varint(UInt64(bytes.count), into: &out)
        out.append(contentsOf: bytes)
    }
}
