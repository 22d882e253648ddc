import HSBWire
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a connection could not be made, in words a person can act on; the library's own error is
/// kept as the cause for the logs, never printed to a practitioner.
enum ConnectFailure {
    /// The first errno found in `error` (a connection attempt's, or an I/O error's).
    static func errno(of error: any Error) -> Int32? {
        if let io = error as? IOError { return io.errnoCode }
        if let connection = error as? NIOConnectionError {
            for failure in connection.connectionErrors { if let code = errno(of: failure.error) { return code } }
        }
        return nil
    }

    static func reason(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError, connection.connectionErrors.isEmpty,
            connection.dnsAError != nil || connection.dnsAAAAError != nil
        {
            return "the host name could not be resolved: check the address"
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return "no answer before the connect timeout: check the address, and any firewall between you and the service"
        }
        switch errno(of: error) {
        case ECONNREFUSED: return "nothing is listening there: is the service running, and is the port right?"
        case ETIMEDOUT: return "no answer: check the address, and any firewall between you and the service"
        case EHOSTUNREACH, ENETUNREACH: return "that host cannot be reached from here"
        case ECONNRESET: return "the service closed the connection at once"
        case let code?: return String(cString: strerror(code))
        case nil: return "the connection could not be made"
        }
    }

    /// Why a connection that was made then failed, in the same plain words.
    static func broken(_ error: any Error) -> String {
        if let frame = error as? FrameError {
            switch frame {
            case .frameTooLarge(let length, _) where length >> 16 == 0x1503 || length >> 16 == 0x1603:
                // The first bytes of a TLS record (an alert or a handshake), read as a length.
                return "the service speaks TLS and this client sent plaintext: give the client a certificate (--tls-certificate, --tls-key, --tls-ca)"
            case .frameTooLarge(let length, let limit):
                return "its reply announced \(length) bytes, more than this client accepts (\(limit)): "
                    + "it is not speaking this protocol, or is misbehaving; tell its operators"
            case .truncatedFrame:
                return "it closed the connection partway through its reply"
            }
        }
        switch errno(of: error) {
        case ECONNRESET, EPIPE: return "the service reset the connection"
        case ETIMEDOUT: return "the connection timed out"
        case let code?: return String(cString: strerror(code))
        case nil: return "the connection broke off: try again, and if it keeps happening tell the service's operators"
        }
    }
}

/// A port that could not be bound, said in words that name the port and the setting to change.
public struct BindFailure: Error, CustomStringConvertible {
    public let what: String
    public let host: String
    public let port: Int
    public let setting: String
    public let cause: String

    public var description: String {
        switch cause {
        case "in use": "the \(what) port \(port) on \(host) is already in use: stop what holds it, or choose another with \(setting)"
        case "denied": "the \(what) port \(port) on \(host) needs privileges this process does not have: choose one above 1023 with \(setting)"
        case "address": "\(host) is not an address of this machine: choose another with \(setting.replacingOccurrences(of: "port", with: "host"))"
        default: "the \(what) port \(port) on \(host) could not be opened (\(cause)); choose another with \(setting)"
        }
    }

    /// `error` from binding, as a bind failure when it is one.
    static func from(_ error: any Error, what: String, host: String, port: Int, setting: String) -> any Error {
        switch ConnectFailure.errno(of: error) {
        case EADDRINUSE: BindFailure(what: what, host: host, port: port, setting: setting, cause: "in use")
        case EACCES: BindFailure(what: what, host: host, port: port, setting: setting, cause: "denied")
        case EADDRNOTAVAIL: BindFailure(what: what, host: host, port: port, setting: setting, cause: "address")
        default: error
        }
    }
}
