public import ArgumentParser
public import HSBRuntime
public import HSBWire
public import NIOSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads an environment variable; nil when unset or empty.
public func environment(_ name: String) -> String? {
    guard let value = getenv(name) else { return nil }
    let text = String(cString: value)
    return text.isEmpty ? nil : text
}

/// A configuration key that was given a value it cannot take.
public struct ConfigurationError: Error, CustomStringConvertible, Hashable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The options every service executable takes. Each flag falls back to its environment variable,
/// then to the default.
public struct ServiceOptions: ParsableArguments {
    @Option(help: "Address the RPC port binds to. Env: HSB_HOST. Default: 127.0.0.1.")
    public var host: String?

    @Option(
        help:
            "RPC port (0 picks a free one). Env: HSB_PORT. Default: the service's own (intake 7101, youth-justice 7102, camhs 7103, mappa 7104, orchestrator 7100)."
    )
    public var port: Int?

    @Option(name: .customLong("ops-host"), help: "Address the ops HTTP port binds to. Env: HSB_OPS_HOST. Default: 127.0.0.1.")
    public var opsHost: String?

    @Option(name: .customLong("ops-port"), help: "Ops HTTP port for /healthz, /readyz, /metrics. Env: HSB_OPS_PORT. Default: the RPC port + 100.")
    public var opsPort: Int?

    @Option(
        name: .customLong("ops-token-file"),
        help:
            "File holding the bearer token (32 characters or more) that /metrics requires, and /readyz to show its checks (without it, only the verdict a probe needs); /healthz stays open. Readable by the service's user only. Env: HSB_OPS_TOKEN_FILE. Default: none (all open to whoever reaches the ops port)."
    )
    public var opsTokenFile: String?

    @Option(
        name: .customLong("ops-tls-certificate"),
        help: "PEM certificate for serving the ops port over HTTPS (with --ops-tls-key). Env: HSB_OPS_TLS_CERTIFICATE. Default: plain HTTP.")
    public var opsTLSCertificate: String?

    @Option(name: .customLong("ops-tls-key"), help: "PEM key of --ops-tls-certificate. Env: HSB_OPS_TLS_KEY.")
    public var opsTLSKey: String?

    @Option(name: .customLong("data-dir"), help: "Folder holding the service's SQLite store (<name>.sqlite3). Env: HSB_DATA_DIR. Default: ./data.")
    public var dataDir: String?

    @Option(
        name: .customLong("database-url"),
        help:
            "PostgreSQL URL (postgresql://user:password@host:port/database) for the service's store; without it, SQLite in --data-dir. Env: HSB_DATABASE_URL."
    )
    public var databaseURL: String?

    @Option(
        name: .customLong("credentials-file"),
        help:
            "File of caller secrets, one 'agency-name hex-secret' per line ('#' comments). Env: HSB_CREDENTIALS_FILE. Secrets may also come from HSB_SECRET_<AGENCY> (e.g. HSB_SECRET_YOUTH_JUSTICE)."
    )
    public var credentialsFile: String?

    @Option(
        name: .customLong("tls-certificate"),
        help:
            "PEM certificate (chain) this service presents, naming its agency as a SAN URI hsb://agency/<agency> (hsbctl pki issue). With --tls-key and --tls-ca the RPC port takes mutual TLS only. Env: HSB_TLS_CERTIFICATE."
    )
    public var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-certificate. Env: HSB_TLS_KEY.")
    public var tlsKey: String?

    @Option(
        name: .customLong("tls-ca"),
        help:
            "PEM file of the CA certificates a peer's certificate must chain to (the partnership's CA; old and new during a rotation). Env: HSB_TLS_CA."
    )
    public var tlsCA: String?

    @Flag(name: .customLong("tls-allow-1.2"), help: "Accept TLS 1.2 as well as 1.3. Env: HSB_TLS_ALLOW_TLS12=1.")
    public var tlsAllow12 = false

    @Flag(
        name: .customLong("insecure-plaintext"),
        help:
            "Serve plaintext on an address other than loopback: requests, children's names among them, then cross the network readable by anyone on the path. Env: HSB_INSECURE_PLAINTEXT=1."
    )
    public var insecurePlaintext = false

    @Option(name: .customLong("max-frame-bytes"), help: "Largest frame accepted, in bytes. Env: HSB_MAX_FRAME_BYTES. Default: 4194304.")
    public var maxFrameBytes: Int?

    @Option(name: .customLong("max-connections"), help: "Connections served at once; more are refused. Env: HSB_MAX_CONNECTIONS. Default: 1024.")
    public var maxConnections: Int?

    @Option(
        name: .customLong("max-connections-per-peer"),
        help: "Connections one peer address may hold; past it, health checks only. Env: HSB_MAX_CONNECTIONS_PER_PEER. Default: 256.")
    public var maxConnectionsPerPeer: Int?

    @Option(
        name: .customLong("max-buffered-bytes"),
        help: "Bytes of partial frames all connections together may hold. Env: HSB_MAX_BUFFERED_BYTES. Default: 134217728 (128 MiB).")
    public var maxBufferedBytes: Int?

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may sit idle with nothing in flight. Env: HSB_IDLE_TIMEOUT. Default: 300.")
    public var idleTimeout: Int?

    @Option(
        name: .customLong("frame-timeout"),
        help: "Seconds a peer may take to send one whole frame once begun; slower peers are disconnected. Env: HSB_FRAME_TIMEOUT. Default: 30.")
    public var frameTimeout: Int?

    @Option(name: .customLong("drain-timeout"), help: "Seconds in-flight requests get to finish on shutdown. Env: HSB_DRAIN_TIMEOUT. Default: 10.")
    public var drainTimeout: Int?

    @Option(
        name: .customLong("replay-window"),
        help: "Seconds a signed request stays valid either side of this service's clock. Env: HSB_REPLAY_WINDOW. Default: 300.")
    public var replayWindow: Int?

    @Option(
        name: .customLong("idempotency-window"),
        help: "Days a request's idempotency key is kept: a retry within them gets the first answer. 1-365. Env: HSB_IDEMPOTENCY_WINDOW. Default: 7.")
    public var idempotencyWindow: Int?

    @Option(
        name: .customLong("retention-file"),
        help:
            "How long each kind of record is kept: a file of 'KIND YEARS' lines (removed YEARS years after its last change, each removal on the access log). Env: HSB_RETENTION_FILE. Default: none (everything is kept)."
    )
    public var retentionFile: String?

    @Option(name: .customLong("log-format"), help: "text or json (one JSON object per line). Env: HSB_LOG_FORMAT. Default: text.")
    public var logFormat: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical. Env: HSB_LOG_LEVEL. Default: info.")
    public var logLevel: String?

    public init() {}

    func value<T>(_ flag: T?, _ env: String, default fallback: T, parse: (String) -> T?) throws -> T {
        if let flag { return flag }
        if let text = environment(env) {
            guard let parsed = parse(text) else { throw ConfigurationError("\(env)=\(text) is not a valid value") }
            return parsed
        }
        return fallback
    }

    /// A setting with no default: the flag, else the environment variable, else nil. (Through
    /// `value`, a nil flag would become `.some(nil)` and hide the environment variable.)
    func optional(_ flag: String?, _ env: String) -> String? { flag ?? environment(env) }

    /// The options resolved against the environment and `descriptor`'s defaults.
    public func resolve(for descriptor: ServiceDescriptor) throws -> ResolvedServiceOptions {
        let port = try value(port, "HSB_PORT", default: descriptor.defaultPort) { Int($0) }
        let resolved = ResolvedServiceOptions(
            host: try value(host, "HSB_HOST", default: "127.0.0.1") { $0 },
            port: port,
            opsHost: try value(opsHost, "HSB_OPS_HOST", default: "127.0.0.1") { $0 },
            opsPort: try value(opsPort, "HSB_OPS_PORT", default: port == 0 ? 0 : descriptor.defaultOpsPort + (port - descriptor.defaultPort)) {
                Int($0)
            },
            dataDir: try value(dataDir, "HSB_DATA_DIR", default: "data") { $0 },
            opsTokenFile: optional(opsTokenFile, "HSB_OPS_TOKEN_FILE"),
            opsTLSCertificate: optional(opsTLSCertificate, "HSB_OPS_TLS_CERTIFICATE"),
            opsTLSKey: optional(opsTLSKey, "HSB_OPS_TLS_KEY"),
            databaseURL: optional(databaseURL, "HSB_DATABASE_URL"),
            credentialsFile: optional(credentialsFile, "HSB_CREDENTIALS_FILE"),
            maxFrameBytes: try value(maxFrameBytes, "HSB_MAX_FRAME_BYTES", default: Framing.defaultMaxFrameSize) { Int($0) },
            maxConnections: try value(maxConnections, "HSB_MAX_CONNECTIONS", default: 1024) { Int($0) },
            maxConnectionsPerPeer: try value(maxConnectionsPerPeer, "HSB_MAX_CONNECTIONS_PER_PEER", default: 256) { Int($0) },
            maxBufferedBytes: try value(maxBufferedBytes, "HSB_MAX_BUFFERED_BYTES", default: 128 * 1024 * 1024) { Int($0) },
            idleTimeoutSeconds: try value(idleTimeout, "HSB_IDLE_TIMEOUT", default: 300) { Int($0) },
            frameTimeoutSeconds: try value(frameTimeout, "HSB_FRAME_TIMEOUT", default: 30) { Int($0) },
            drainTimeoutSeconds: try value(drainTimeout, "HSB_DRAIN_TIMEOUT", default: 10) { Int($0) },
            replayWindowSeconds: try value(replayWindow, "HSB_REPLAY_WINDOW", default: 300) { Int($0) },
            idempotencyWindowDays: try value(idempotencyWindow, "HSB_IDEMPOTENCY_WINDOW", default: 7) { Int($0) },
            retentionFile: optional(retentionFile, "HSB_RETENTION_FILE"),
            tls: try TransportOptions.files(
                certificate: optional(tlsCertificate, "HSB_TLS_CERTIFICATE"),
                key: optional(tlsKey, "HSB_TLS_KEY"),
                trustedCAs: optional(tlsCA, "HSB_TLS_CA"),
                allowTLS12: try value(tlsAllow12 ? true : nil, "HSB_TLS_ALLOW_TLS12", default: false) { TransportOptions.flag($0) }),
            insecurePlaintext: try value(insecurePlaintext ? true : nil, "HSB_INSECURE_PLAINTEXT", default: false) { TransportOptions.flag($0) },
            logFormat: try value(logFormat, "HSB_LOG_FORMAT", default: "text") { ["text", "json"].contains($0) ? $0 : nil },
            logLevel: try value(logLevel, "HSB_LOG_LEVEL", default: "info") { $0 })
        guard (0...65535).contains(resolved.port), (0...65535).contains(resolved.opsPort) else {
            throw ConfigurationError("ports must be between 0 and 65535")
        }
        guard resolved.maxFrameBytes > 0, resolved.maxFrameBytes <= Int(UInt32.max) else {
            throw ConfigurationError("max frame size must be between 1 and \(UInt32.max) bytes")
        }
        guard resolved.maxConnectionsPerPeer > 0, resolved.maxBufferedBytes >= resolved.maxFrameBytes else {
            throw ConfigurationError("the per-peer connection limit must be positive, and the buffered-bytes budget at least one frame")
        }
        guard resolved.maxConnections > 0, resolved.idleTimeoutSeconds > 0, resolved.frameTimeoutSeconds > 0, resolved.drainTimeoutSeconds >= 0,
            resolved.replayWindowSeconds > 0
        else {
            throw ConfigurationError("connection limit, idle timeout and replay window must be positive; drain timeout not negative")
        }
        try TransportOptions.checkPlaintext(host: resolved.host, tls: resolved.tls, insecurePlaintext: resolved.insecurePlaintext)
        guard (1...365).contains(resolved.idempotencyWindowDays) else {
            throw ConfigurationError(
                "--idempotency-window (HSB_IDEMPOTENCY_WINDOW) must be 1 to 365 days, not \(resolved.idempotencyWindowDays): longer than the outbox retries a step, shorter than a year"
            )
        }
        return resolved
    }
}

/// Service options after flags, environment and defaults are combined.
public struct ResolvedServiceOptions: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var opsHost: String
    public var opsPort: Int
    public var dataDir: String
    /// The bearer token file the ops port's /readyz and /metrics require; nil leaves them open.
    public var opsTokenFile: String?
    /// HTTPS on the ops port: its certificate and key (PEM); nil serves plain HTTP.
    public var opsTLSCertificate: String?
    public var opsTLSKey: String?
    /// PostgreSQL URL; nil for SQLite in `dataDir`.
    public var databaseURL: String?
    public var credentialsFile: String?
    public var maxFrameBytes: Int
    public var maxConnections: Int
    public var maxConnectionsPerPeer: Int
    public var maxBufferedBytes: Int
    public var idleTimeoutSeconds: Int
    public var frameTimeoutSeconds: Int
    public var drainTimeoutSeconds: Int
    public var replayWindowSeconds: Int
    /// Days an idempotency key is kept (the pruner forgets older ones).
    public var idempotencyWindowDays: Int
    /// The retention rules' file; nil keeps everything.
    public var retentionFile: String?
    /// The RPC port's TLS material; nil serves plaintext.
    public var tls: TLSFiles?
    /// Plaintext accepted on an address other than loopback.
    public var insecurePlaintext: Bool
    public var logFormat: String
    public var logLevel: String

    public init(
        host: String = "127.0.0.1", port: Int = 0, opsHost: String = "127.0.0.1", opsPort: Int = 0, dataDir: String,
        opsTokenFile: String? = nil, opsTLSCertificate: String? = nil, opsTLSKey: String? = nil, databaseURL: String? = nil,
        credentialsFile: String? = nil, maxFrameBytes: Int = Framing.defaultMaxFrameSize, maxConnections: Int = 1024,
        maxConnectionsPerPeer: Int = 256, maxBufferedBytes: Int = 128 * 1024 * 1024, idleTimeoutSeconds: Int = 300, frameTimeoutSeconds: Int = 30,
        drainTimeoutSeconds: Int = 10, replayWindowSeconds: Int = 300, idempotencyWindowDays: Int = 7, retentionFile: String? = nil,
        tls: TLSFiles? = nil, insecurePlaintext: Bool = false, logFormat: String = "text", logLevel: String = "info"
    ) {
        self.tls = tls
        self.insecurePlaintext = insecurePlaintext
        self.opsTokenFile = opsTokenFile
        self.opsTLSCertificate = opsTLSCertificate
        self.opsTLSKey = opsTLSKey
        self.retentionFile = retentionFile
        self.idempotencyWindowDays = idempotencyWindowDays
        self.host = host
        self.port = port
        self.opsHost = opsHost
        self.opsPort = opsPort
        self.dataDir = dataDir
        self.databaseURL = databaseURL
        self.credentialsFile = credentialsFile
        self.maxFrameBytes = maxFrameBytes
        self.maxConnections = maxConnections
        self.maxConnectionsPerPeer = maxConnectionsPerPeer
        self.maxBufferedBytes = maxBufferedBytes
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.frameTimeoutSeconds = frameTimeoutSeconds
        self.drainTimeoutSeconds = drainTimeoutSeconds
        self.replayWindowSeconds = replayWindowSeconds
        self.logFormat = logFormat
        self.logLevel = logLevel
    }
}

/// The transport settings every executable shares: TLS files given together or not at all, and
/// plaintext only on loopback unless asked for by name.
public enum TransportOptions {
    /// "1", "true" or "yes" (any case) is on; "0", "false", "no" off; anything else is not a value.
    public static func flag(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "1", "true", "yes": true
        case "0", "false", "no": false
        default: nil
        }
    }

    /// The TLS files, when all three are given; nil when none is; an error naming what is missing
    /// when some are.
    public static func files(certificate: String?, key: String?, trustedCAs: String?, allowTLS12: Bool) throws -> TLSFiles? {
        switch (certificate, key, trustedCAs) {
        case (nil, nil, nil):
            return nil
        case (let certificate?, let key?, let trustedCAs?):
            return TLSFiles(certificate: certificate, key: key, trustedCAs: trustedCAs, allowTLS12: allowTLS12)
        default:
            let missing = [
                ("--tls-certificate (HSB_TLS_CERTIFICATE)", certificate), ("--tls-key (HSB_TLS_KEY)", key), ("--tls-ca (HSB_TLS_CA)", trustedCAs),
            ]
            .filter { $0.1 == nil }.map(\.0)
            throw ConfigurationError("TLS needs a certificate, its key and the trusted CAs together; missing: \(missing.joined(separator: ", "))")
        }
    }

    /// Whether `host` is a loopback address (or `localhost`).
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Refuses plaintext on an address other than loopback unless `insecurePlaintext`.
    public static func checkPlaintext(host: String, tls: TLSFiles?, insecurePlaintext: Bool) throws {
        guard tls == nil, !isLoopback(host), !insecurePlaintext else { return }
        throw ConfigurationError(
            "the RPC port would listen on \(host) without TLS: requests carry children's names and would cross the network readable by anyone on the path. Give --tls-certificate, --tls-key and --tls-ca (see hsbctl pki), or --insecure-plaintext (HSB_INSECURE_PLAINTEXT=1) to accept that"
        )
    }

    /// The loaded material of `files`, as a configuration error naming the file when it cannot be used.
    public static func material(_ files: TLSFiles?) throws -> TLSMaterial? {
        guard let files else { return nil }
        do {
            return try TLSMaterial(files: files)
        } catch {
            throw ConfigurationError("TLS: \(error)")
        }
    }
}

/// Who may read the ops port's /readyz and /metrics, and over what.
public enum OpsAccess {
    /// The bearer token in `file`: 32 characters or more, in a file only the service's user can read.
    public static func token(file: String) throws -> String {
        var info = stat()
        guard stat(file, &info) == 0 else { throw ConfigurationError("--ops-token-file \(file) cannot be read") }
        guard info.st_mode & 0o077 == 0 else {
            throw ConfigurationError(
                "--ops-token-file \(file) is readable by other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        guard let text = readFile(file) else { throw ConfigurationError("--ops-token-file \(file) cannot be read") }
        let token = text.split(whereSeparator: { $0.isWhitespace }).first.map(String.init) ?? ""
        guard token.count >= 32 else { throw ConfigurationError("--ops-token-file \(file): the token must be 32 characters or more") }
        return token
    }

    /// The ops port's HTTPS context, when both files are given.
    public static func tls(certificate: String?, key: String?) throws -> NIOSSLContext? {
        switch (certificate, key) {
        case (nil, nil): return nil
        case (let certificate?, let key?):
            do {
                var configuration = TLSConfiguration.makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
                configuration.minimumTLSVersion = .tlsv12
                return try NIOSSLContext(configuration: configuration)
            } catch {
                throw ConfigurationError("ops TLS: \(certificate) and \(key) cannot be used: \(error)")
            }
        default:
            throw ConfigurationError("--ops-tls-certificate and --ops-tls-key go together")
        }
    }
}

/// Caller secrets a service holds.
public enum CredentialsLoader {
    /// Parses a credentials file: `agency-name hex-secret` per line; `#` starts a comment.
    /// Throws naming the line and the reason.
    public static func parse(_ text: String, source: String) throws -> [Agency: AgencySecret] {
        var secrets: [Agency: AgencySecret] = [:]
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "=" || $0 == "\r" })
            if fields.isEmpty { continue }
            let where_ = "\(source) line \(offset + 1)"
            guard fields.count == 2 else { throw ConfigurationError("\(where_): expected 'agency-name hex-secret'") }
            guard let agency = Agency(name: String(fields[0])) else {
                throw ConfigurationError(
                    "\(where_): unknown agency '\(fields[0])'; known: \(Agency.allCases.dropFirst().map(\.name).joined(separator: ", "))")
            }
            guard let secret = AgencySecret(hex: String(fields[1])) else {
                throw ConfigurationError("\(where_): the secret for \(agency.name) must be at least \(AgencySecret.minimumLength * 2) hex digits")
            }
            guard secrets[agency] == nil else { throw ConfigurationError("\(where_): \(agency.name) is listed twice") }
            secrets[agency] = secret
        }
        return secrets
    }

    /// The environment variable holding an agency's secret, e.g. `HSB_SECRET_YOUTH_JUSTICE`.
    public static func environmentName(for agency: Agency) -> String {
        "HSB_SECRET_" + agency.name.uppercased().replacingHyphens()
    }

    /// Secrets from the file (if given) and then the environment (which wins).
    public static func load(file: String?) throws -> [Agency: AgencySecret] {
        var secrets: [Agency: AgencySecret] = [:]
        if let file {
            guard let text = readFile(file) else { throw ConfigurationError("cannot read credentials file \(file)") }
            secrets = try parse(text, source: file)
        }
        for agency in Agency.allCases where agency != .unspecified {
            let name = environmentName(for: agency)
            if let value = environment(name) {
                guard let secret = AgencySecret(hex: value) else {
                    throw ConfigurationError("\(name) must be at least \(AgencySecret.minimumLength * 2) hex digits")
                }
                secrets[agency] = secret
            }
        }
        return secrets
    }
}

extension String {
    func replacingHyphens() -> String { String(map { $0 == "-" ? "_" : $0 }) }
}

/// The whole of a small text file, or nil when it cannot be read.
public func readFile(_ path: String) -> String? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 4096, file) }
        if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
        if count < 4096 { break }
    }
    return String(decoding: bytes, as: UTF8.self)
}
