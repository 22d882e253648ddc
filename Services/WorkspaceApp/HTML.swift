import Mustache

/// HTML written by hand where a page repeats a row hundreds of times (a case's chronology,
/// disclosures and deadlines): Mustache's lookups through `Any` cost most of a case page's time
/// (measured in BENCHMARKS.md section 6). Every value is escaped as Mustache's `{{x}}` would be.
struct HTML {
    private var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Markup the workspace wrote itself.
    mutating func raw(_ markup: String) { bytes.append(contentsOf: markup.utf8) }

    /// A value: `&`, `<`, `>`, `"` and `'` escaped.
    mutating func value(_ value: String) { HTML.escape(value.utf8, into: &bytes) }

    /// The bytes that need escaping, as bits of a mask over 0...63: `"` `&` `'` `<` `>`.
    static let special: UInt64 = (1 << 0x22) | (1 << 0x26) | (1 << 0x27) | (1 << 0x3C) | (1 << 0x3E)

    static func needsEscape(_ byte: UInt8) -> Bool { byte < 64 && (special >> UInt64(byte)) & 1 == 1 }

    static func escape(_ utf8: String.UTF8View, into out: inout [UInt8]) {
        // Native strings are contiguous: runs with nothing to escape are copied whole.
        let done: Void? = utf8.withContiguousStorageIfAvailable { buffer in
            var start = 0
            for index in buffer.indices where needsEscape(buffer[index]) {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<index]))
                out.append(contentsOf: replacement(buffer[index]))
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start...]))
        }
        guard done == nil else { return }
        for byte in utf8 {
            if needsEscape(byte) { out.append(contentsOf: replacement(byte)) } else { out.append(byte) }
        }
    }

    static let amp = Array("&amp;".utf8)
    static let lt = Array("&lt;".utf8)
    static let gt = Array("&gt;".utf8)
    static let quot = Array("&quot;".utf8)
    static let apos = Array("&#39;".utf8)

    static func replacement(_ byte: UInt8) -> [UInt8] {
        switch byte {
        case 0x26: amp
        case 0x3C: lt
        case 0x3E: gt
        case 0x22: quot
        default: apos
        }
    }

    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: needsEscape) else { return value }
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count + 16)
        escape(value.utf8, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A rule ID as a link to its page.
    mutating func rule(_ id: String) {
        raw("<a class=\"rule\" href=\"/rules/")
        value(id)
        raw("\">")
        value(id)
        raw("</a>")
    }
}

/// Mustache's own HTML escaping looks each character up in a dictionary of `Character`s (a fifth
/// of a case page's time); the templates name this one instead (`{{% CONTENT_TYPE: WORKSPACE_HTML}}`),
/// which escapes the same five characters byte by byte.
struct WorkspaceHTMLContentType: MustacheContentType {
    static let name = "WORKSPACE_HTML"
    static let pragma = "{{% CONTENT_TYPE: \(name)}}"
    func escapeText(_ text: String) -> String { HTML.escape(text) }
}
