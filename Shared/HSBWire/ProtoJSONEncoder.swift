internal import CProtobufC
import Foundation

extension ProtoJSON {
    /// The message as ProtoJSON, by its own protobuf-c descriptor, so nothing it carries is ever
    /// dropped: keys are the proto field names in declaration order; fields at their default are
    /// left out; enums are their value names; 64-bit integers are strings; bytes are base64;
    /// `hsb.common.v1.Date` is `YYYY-MM-DD` (as the reader takes it). Pretty-printed.
    public static func encode<M: WireMessage>(_ message: M) throws(WireError) -> String {
        guard let described = M.self as? any SchemaDescribed.Type else {
            throw .invalidJSON(field: M.protoName, reason: "has no schema to write JSON with")
        }
        let bytes = try message.encoded()
        var descriptor = described.cDescriptor
        return withUnsafePointer(to: &descriptor) { pointer in
            object(bytes[...], pointer, indent: "")
        }
    }

    /// A varint at the front of `bytes`, advancing it; nil when cut short.
    static func varint(_ bytes: inout ArraySlice<UInt8>) -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.popFirst() {
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift >= 64 { return nil }
        }
        return nil
    }

    /// Caller-supplied text (a key, an id) for an error message: a plain name of up to `limit`
    /// printable ASCII characters as it is; anything else quoted with control characters escaped
    /// and cut at `limit` characters, so a hostile key cannot fill a terminal or send it escape codes.
    public static func excerpt(_ text: some StringProtocol, limit: Int = 60) -> String {
        let head = text.unicodeScalars.prefix(limit + 1)
        if head.count <= limit, head.allSatisfy({ (0x21...0x7E).contains($0.value) && $0 != "\"" }) { return String(text) }
        return quotedExcerpt(text, limit: limit)
    }

    /// A caller's value for an error message, always quoted: control characters escaped, cut at `limit`.
    public static func quotedExcerpt(_ text: some StringProtocol, limit: Int = 60) -> String {
        let head = text.unicodeScalars.prefix(limit + 1)
        return quoted(String(String.UnicodeScalarView(head.prefix(limit)))) + (head.count > limit ? "…" : "")
    }

    /// `text` as a JSON string literal (control characters escaped).
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// One scalar (not message) value of `field` from its wire value.
    static func scalar(_ raw: UInt64, _ field: ProtobufCFieldDescriptor) -> String {
        switch field.type {
        case PROTOBUF_C_TYPE_BOOL: return raw != 0 ? "true" : "false"
        case PROTOBUF_C_TYPE_INT32: return String(Int32(truncatingIfNeeded: raw))
        case PROTOBUF_C_TYPE_UINT32: return String(UInt32(truncatingIfNeeded: raw))
        case PROTOBUF_C_TYPE_INT64: return "\"\(Int64(bitPattern: raw))\""
        case PROTOBUF_C_TYPE_UINT64: return "\"\(raw)\""
        case PROTOBUF_C_TYPE_ENUM:
            let value = Int32(truncatingIfNeeded: raw)
            let enumeration = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            let values = UnsafeBufferPointer(start: enumeration.pointee.values, count: Int(enumeration.pointee.n_values))
            // An enum value this build does not know is carried as its number (proto3 enums are open).
            return values.first { $0.value == value }.map { quoted(String(cString: $0.name)) } ?? String(value)
        default: return String(raw)
        }
    }

    /// A message's fields as a JSON object, in declaration order.
    static func object(_ bytes: ArraySlice<UInt8>, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, indent: String) -> String {
        let name = String(cString: descriptor.pointee.name)
        var values: [Int: [String]] = [:]
        var rest = bytes
        if name == "hsb.common.v1.Date" { return date(bytes) }
        while !rest.isEmpty {
            guard let key = varint(&rest) else { break }
            let number = UInt32(truncatingIfNeeded: key >> 3)
            guard let field = protobuf_c_message_descriptor_get_field(descriptor, number) else {
                // An unknown field: skipped, as a reader of an older contract does.
                if !skip(wire: key & 7, &rest) { break }
                continue
            }
            let index = field - descriptor.pointee.fields
            let child = indent + "  "
            switch key & 7 {
            case 0:
                guard let raw = varint(&rest) else { return "{}" }
                // A singular field at zero is its default (proto3 JSON leaves it out), whatever its type.
                if raw == 0 && field.pointee.label != PROTOBUF_C_LABEL_REPEATED {
                    values[index] = nil
                    continue
                }
                values[index, default: []].append(scalar(raw, field.pointee))
            case 2:
                guard let length = varint(&rest), length <= UInt64(rest.count) else { return "{}" }
                let body = rest.prefix(Int(length))
                rest = rest.dropFirst(Int(length))
                switch field.pointee.type {
                case PROTOBUF_C_TYPE_STRING: values[index, default: []].append(quoted(String(decoding: body, as: UTF8.self)))
                case PROTOBUF_C_TYPE_BYTES: values[index, default: []].append(quoted(Data(body).base64EncodedString()))
                case PROTOBUF_C_TYPE_MESSAGE:
                    let nested = field.pointee.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                    values[index, default: []].append(object(body, nested, indent: child))
                default:
                    // A packed run of varints.
                    var run = body
                    while !run.isEmpty, let raw = varint(&run) { values[index, default: []].append(scalar(raw, field.pointee)) }
                }
            default:
                if !skip(wire: key & 7, &rest) { return "{}" }
            }
        }
        var members: [String] = []
        for index in 0..<Int(descriptor.pointee.n_fields) {
            guard let found = values[index], !found.isEmpty else { continue }
            let field = descriptor.pointee.fields[index]
            let key = quoted(String(cString: field.name))
            if field.label == PROTOBUF_C_LABEL_REPEATED {
                let inner = indent + "    "
                members.append("\(indent)  \(key): [\n" + found.map { inner + $0 }.joined(separator: ",\n") + "\n\(indent)  ]")
            } else if let last = found.last, !isDefault(last) {
                members.append("\(indent)  \(key): \(last)")
            }
        }
        return members.isEmpty ? "{}" : "{\n" + members.joined(separator: ",\n") + "\n\(indent)}"
    }

    static func isDefault(_ value: String) -> Bool { value == "\"\"" }

    static func date(_ bytes: ArraySlice<UInt8>) -> String {
        var parts = [1: Int64(0), 2: 0, 3: 0]
        var rest = bytes
        while !rest.isEmpty, let key = varint(&rest), key & 7 == 0, let raw = varint(&rest) {
            parts[Int(key >> 3)] = Int64(Int32(truncatingIfNeeded: raw))
        }
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value.magnitude)
            return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\"\(pad(parts[1]!, 4))-\(pad(parts[2]!, 2))-\(pad(parts[3]!, 2))\""
    }

    static func skip(wire: UInt64, _ rest: inout ArraySlice<UInt8>) -> Bool {
        switch wire {
        case 0: return varint(&rest) != nil
        case 1: guard rest.count >= 8 else { return false }; rest = rest.dropFirst(8); return true
        case 5: guard rest.count >= 4 else { return false }; rest = rest.dropFirst(4); return true
        case 2:
            guard let length = varint(&rest), length <= UInt64(rest.count) else { return false }
            rest = rest.dropFirst(Int(length))
            return true
        default: return false
        }
    }
}
