#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback TCP port bound but never listening: a connection to it is refused (ECONNREFUSED),
/// and, while it is held, the kernel gives it to no other listener. Tests hold a stopped
/// service's port with one, so that no other test's server takes it before the service returns.
public final class BoundPort: Sendable {
    public let descriptor: Int32
    public let port: Int

    /// Binds `port`, trying for up to `attempts` tenths of a second while it is still in use (a
    /// server stopped a moment ago, or another test's outgoing connection that was given it).
    public convenience init(port: Int, attempts: Int) throws {
        var tries = 1
        while true {
            do {
                try self.init(port: port)
                return
            } catch  where tries < attempts {
                tries += 1
                usleep(100_000)
            }
        }
    }

    /// Binds `port` (0: a free one).
    public init(port: Int = 0) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BoundPortError(message: "socket: errno \(errno)") }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            let code = errno
            _ = Glibc.close(descriptor)
            throw BoundPortError(message: "bind port \(port): errno \(code)")
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Listens without ever accepting: a connection completes (the kernel queues it) and what is
    /// sent on it is never read or answered, as with a host that hangs. `close()` then resets
    /// every queued connection.
    public func listenSilently() throws {
        guard Glibc.listen(descriptor, 16) == 0 else { throw BoundPortError(message: "listen: errno \(errno)") }
    }

    /// Lets the port go (to the service that takes it next).
    public func close() { _ = Glibc.close(descriptor) }
}

public struct BoundPortError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
