/// A PostgreSQL connection URL as the suite takes it (`--database-url`, `HSB_DATABASE_URL`):
/// `postgresql://user:password@host:port/database?sslmode=…`, with libpq's names for the few
/// parameters the suite reads. Anything else is refused by name, so a typo is not silently ignored.
public struct PostgresURL: Sendable, Hashable {
    /// libpq's `sslmode`: whether to use TLS to the database and what to check.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS if the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not checked (only `sslrootcert`'s presence checks it, as libpq does).
        case require
        /// TLS; the server's certificate must chain to `sslrootcert` (or the system's roots).
        case verifyCA = "verify-ca"
        /// As verify-ca, and the certificate must name the host.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// `sslrootcert`: a PEM file of the certificate authorities to trust for the database.
    public var rootCertificatePath: String?
    /// `connect_timeout`, seconds (libpq's; 10 when absent).
    public var connectTimeoutSeconds: Int
    /// `options`: passed to the server at start-up (`-c search_path=…`).
    public var options: String?
    /// `application_name`, shown in `pg_stat_activity`.
    public var applicationName: String?

    static let parameters: Set<String> = ["sslmode", "sslrootcert", "connect_timeout", "options", "application_name"]

    /// Parses `text`; the error names the part that is wrong and never repeats a password.
    public init(_ text: String) throws(StorageError) {
        func refuse(_ message: String) -> StorageError { StorageError(operation: "database URL", message: message) }
        guard text.utf8.count <= 4096 else { throw refuse("longer than 4096 bytes") }
        var rest = Substring(text)
        if rest.hasPrefix("postgresql://") {
            rest = rest.dropFirst("postgresql://".count)
        } else if rest.hasPrefix("postgres://") {
            rest = rest.dropFirst("postgres://".count)
        } else {
            throw refuse("must start with postgresql:// (or postgres://)")
        }
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var hostPort = rest
        var user = "postgres"
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                guard let name = Self.decode(credentials[..<colon]) else { throw refuse("the user name is not valid percent-encoding") }
                guard let secret = Self.decode(credentials[credentials.index(after: colon)...]) else {
                    throw refuse("the password is not valid percent-encoding")
                }
                user = name
                password = secret
            } else {
                guard let name = Self.decode(credentials) else { throw refuse("the user name is not valid percent-encoding") }
                user = name
            }
        }
        var host = "localhost"
        var port = 5432
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw refuse("an IPv6 host is missing its ]") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw refuse("unexpected text after the IPv6 host") }
        } else if let colon = hostPort.firstIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        } else if !hostPort.isEmpty {
            host = String(hostPort)
        }
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else { throw refuse("the port must be a number from 1 to 65535") }
            port = number
        }
        guard !host.isEmpty else { throw refuse("the host is empty") }
        guard let database = Self.decode(path), !database.isEmpty else { throw refuse("name the database after the host (…/database)") }
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.database = database
        self.tls = .prefer
        self.connectTimeoutSeconds = 10
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            guard Self.parameters.contains(name) else {
                throw refuse("unknown parameter \(Self.quoted(name)); the suite reads \(Self.parameters.sorted().joined(separator: ", "))")
            }
            guard parts.count == 2, let value = Self.decode(parts[1]) else { throw refuse("parameter \(name) needs a value (\(name)=…)") }
            switch name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw refuse(
                        "sslmode \(Self.quoted(value)) is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))"
                            + (value == "allow" ? " (use prefer)" : ""))
                }
                tls = mode
            case "sslrootcert": rootCertificatePath = value
            case "connect_timeout":
                guard let seconds = Int(value), (1...300).contains(seconds) else { throw refuse("connect_timeout must be seconds from 1 to 300") }
                connectTimeoutSeconds = seconds
            case "options": options = value
            default: applicationName = value
            }
        }
        if tls == .verifyFull && hostIsAddress {
            throw refuse(
                "sslmode verify-full checks the server's certificate against the host's name, and \(host) is an address: name the host as its certificate does, or use verify-ca"
            )
        }
    }

    /// Whether `host` is an IPv4 or IPv6 address rather than a name.
    public var hostIsAddress: Bool {
        host.contains(":") || (!host.isEmpty && host.allSatisfy { $0 == "." || $0.isASCII && $0.isNumber })
    }

    /// Where the database is, without credentials: `host:port/database`.
    public var location: String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)/\(database)"
    }

    /// Percent-decoding (`+` stays itself, as in libpq); nil for a malformed escape or bytes that are not UTF-8.
    static func decode(_ text: Substring) -> String? {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(), let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// A value from the URL, shown safely: at most 40 characters, controls escaped.
    static func quoted(_ text: String) -> String {
        let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "\"" + shown.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined() + "\""
    }
}
