import Foundation
import HSBSafeguarding

/// A posted `application/x-www-form-urlencoded` body: hostile until read, bounded in size and in
/// fields, every value kept as text.
public struct FormBody: Sendable {
    public static let maxBytes = 256 * 1024
    public static let maxFields = 2000

    public private(set) var pairs: [(String, String)] = []

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init() {}

    mutating func appendPair(_ name: String, _ value: String) { pairs.append((name, value)) }

    public init(_ bytes: some Collection<UInt8>) throws(Invalid) {
        guard bytes.count <= Self.maxBytes else { throw Invalid(description: "the form is larger than \(Self.maxBytes) bytes") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Invalid(description: "the form is not UTF-8") }
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            guard pairs.count < Self.maxFields else { throw Invalid(description: "the form has more than \(Self.maxFields) fields") }
            let halves = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(halves[0]), let value = Self.decode(halves.count > 1 ? halves[1] : "") else {
                throw Invalid(description: "the form is not URL-encoded")
            }
            // NUL is never a character of a form a person filled in.
            guard !name.contains("\0"), !value.contains("\0") else { throw Invalid(description: "the form holds a NUL character") }
            pairs.append((name, value))
        }
    }

    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The first value of `name`, trimmed; "" when absent.
    public subscript(_ name: String) -> String {
        (pairs.first { $0.0 == name }?.1 ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every value of `name` (checkboxes), in order.
    public func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    public func has(_ name: String) -> Bool { pairs.contains { $0.0 == name } }

    /// A date asked for as day, month and year (`name.day`, `name.month`, `name.year`; the
    /// GOV.UK date input), as YYYY-MM-DD; `withTime` adds `name.time` (HH:MM) as
    /// YYYY-MM-DDTHH:MM. "" when every part is empty; an error naming what is wrong otherwise.
    /// A client that posts `name` whole (YYYY-MM-DD) is read as it is.
    public func date(_ name: String, label: String, withTime: Bool = false) -> Result<String, DateInvalid> {
        let whole = self[name]
        if !whole.isEmpty { return .success(whole) }
        let day = self["\(name).day"]
        let month = self["\(name).month"]
        let year = self["\(name).year"]
        let time = withTime ? self["\(name).time"] : ""
        if day.isEmpty && month.isEmpty && year.isEmpty && time.isEmpty { return .success("") }
        guard let d = Int(day), let m = Int(month), let y = Int(year), year.count == 4, CivilDate(year: y, month: m, day: d) != nil else {
            return .failure(DateInvalid(message: "\(label) must be a real date, for example 27 3 2012"))
        }
        var text = String(format: "%04d-%02d-%02d", y, m, d)
        if withTime {
            let parts = time.split(separator: ":")
            guard !time.isEmpty else { return .failure(DateInvalid(message: "\(label) must include a time, for example 16:00")) }
            guard parts.count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute) else {
                return .failure(DateInvalid(message: "\(label) must include a time of day as hours and minutes, for example 16:00"))
            }
            text += String(format: "T%02d:%02d", hour, minute)
        }
        return .success(text)
    }

    public struct DateInvalid: Error, Sendable {
        public let message: String
    }
}

/// What is wrong with a form, a message per field, in the order the fields appear: the page's
/// error summary links each to its field.
public struct FormErrors: Error, Sendable {
    public private(set) var items: [(field: String, message: String)] = []
    public init() {}
    public var isEmpty: Bool { items.isEmpty }
    public mutating func add(_ field: String, _ message: String) {
        guard self[field] == nil else { return }
        items.append((field, message))
    }
    public subscript(_ field: String) -> String? { items.first { $0.field == field }?.message }
}
