public import HSBWire

/// A failed call: a gRPC status code and a message a person can act on.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: StatusCode
    public var message: String
    /// True when the request certainly never reached the service (no connection could be made,
    /// no endpoint is configured): retrying it can do no harm and says nothing about the request.
    /// Not part of equality: two errors with the same status and message are the same to a caller.
    public var neverSent: Bool = false
    /// False when trying again at once cannot help (a TLS handshake refused: a certificate or CA
    /// must change first), so a client does not retry it within the call. Not part of equality.
    public var transient: Bool = true
    /// The library error behind it, for the logs; never shown to a person. Not part of equality.
    public var cause: String? = nil

    public init(_ code: StatusCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// UNAVAILABLE for a request that never reached the service.
    public static func unreachable(_ message: String) -> RPCError {
        var error = RPCError(.unavailable, message)
        error.neverSent = true
        return error
    }

    public static func == (a: RPCError, b: RPCError) -> Bool { a.code == b.code && a.message == b.message }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(code)
        hasher.combine(message)
    }

    public var description: String { "\(code): \(message)" }

    /// INVALID_ARGUMENT for an enum value this build does not know (a newer peer's) where the value
    /// must be acted on: that one request fails, clearly; the connection and the rest go on.
    public static func unrecognized(_ field: String, _ value: Int32) -> RPCError {
        RPCError(.invalidArgument, "\(field) has value \(value), which this version of the service does not know")
    }

    /// The error for a payload that did not decode, naming the message and what failed.
    public static func invalidPayload(_ error: WireError) -> RPCError {
        RPCError(.invalidArgument, "request payload: \(error)")
    }
}

/// An error that knows the status and message a caller should get for it.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

/// Milliseconds since the Unix epoch, from an injectable source so tests can move time.
public protocol WallClock: Sendable {
    func nowUnixMillis() -> Int64
}

/// The system's real-time clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func nowUnixMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
