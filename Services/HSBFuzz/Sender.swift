import Foundation
import HSBRuntime
import HSBWire

/// The fuzzer's client side: one blocking connection per service, a frame at a time, each reply
/// waited for (a reply that does not come within the timeout while the connection stays open is
/// a hang).
enum Sender {
    struct Outcome: Sendable {
        var frames = 0
        var answered = 0
        var closed = 0
        var hangs = 0
        var statuses: [String: Int] = [:]
    }

    /// A connection that is re-opened when the service closes it.
    final class Connection {
        let port: Int
        var fd: Int32 = -1

        init(port: Int) { self.port = port }

        func open() throws {
            if fd >= 0 { close(fd) }
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else { throw RPCError(.unavailable, "cannot connect to port \(port): errno \(errno)") }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }

        func send(_ bytes: [UInt8]) -> Bool {
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                sent += n
            }
            return true
        }

        enum Read {
            case bytes([UInt8])
            case closed
            case timedOut
        }

        func read(_ count: Int) -> Read {
            var out = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n == 0 || (n < 0 && errno == ECONNRESET) { return .closed }
                if n < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .closed }
                got += n
            }
            return .bytes(out)
        }
    }

    static func frame(_ body: [UInt8]) -> [UInt8] {
        let count = UInt32(body.count)
        return [UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)] + body
    }

    static func run(
        targets: [(String, Int, [(String, any WireMessage.Type)], Agency)], frames: Int, seed: UInt64, secrets: [Agency: AgencySecret]
    ) throws -> Outcome {
        var generator = HostileMessages(seed: seed)
        let connections = try targets.map { target -> Connection in
            let connection = Connection(port: target.1)
            try connection.open()
            return connection
        }
        let agencies = secrets.keys.sorted { $0.rawValue < $1.rawValue }
        let signers = Dictionary(uniqueKeysWithValues: agencies.map { ($0, RequestSigner(agency: $0, secret: secrets[$0]!, user: "fuzz")) })
        var outcome = Outcome()
        var requestID: UInt64 = 1
        for index in 0..<frames {
            let which = index % targets.count
            let (_, _, methods, _) = targets[which]
            let connection = connections[which]
            requestID &+= 1
            if requestID == 0 { requestID = 1 }
            var bytes: [UInt8]
            var expectClose = false
            switch generator.below(100) {
            case 0..<10:
                // Random bytes in a well-formed frame.
                bytes = frame(generator.bytes(generator.below(96)))
            case 10..<11:
                // A length prefix past the frame limit, or a frame cut short: the service closes.
                bytes = generator.below(2) == 0 ? [0xFF, 0xFF, 0xFF, 0xF0] : [0x00, 0x00, 0x10, 0x00, 0x01, 0x02]
                expectClose = true
            case 11..<25:
                // An envelope with a hostile credential, unsigned or badly signed.
                let (method, type) = methods[generator.below(methods.count)]
                var request = RequestEnvelope(requestID: requestID, method: method, payload: generator.message(type))
                let times: [Int64] = [.min, .max, 0, -1, 1, Int64(Date().timeIntervalSince1970 * 1000)]
                request.credential = Credential(
                    agency: Agency(rawValue: Int32(generator.below(12))), user: "fuzz",
                    signedAtUnixMillis: times[generator.below(times.count)], signature: generator.bytes([0, 1, 31, 32, 33, 64][generator.below(6)]),
                    actingAgency: Agency(rawValue: Int32(generator.below(12))))
                bytes = frame((try? request.encoded()) ?? generator.bytes(16))
            default:
                // A signed request for one of the service's methods, as a random agency (some are
                // refused for access), its payload the method's message with hostile values.
                let (method, type) = methods[generator.below(methods.count)]
                var request = RequestEnvelope(
                    requestID: requestID, method: method, timeoutMillis: Int64(generator.below(3) == 0 ? 0 : 5000),
                    idempotencyKey: "fuzz-\(seed)-\(index)", payload: generator.message(type), purpose: generator.below(4) == 0 ? "" : "fuzz")
                // Mostly an agency the service lets in, so the handlers themselves are reached.
                let agency = generator.below(5) == 0 ? agencies[generator.below(agencies.count)] : targets[which].3
                let acting: RelayedActor? = generator.below(6) == 0 ? RelayedActor(agency: agencies[generator.below(agencies.count)], user: "x") : nil
                signers[agency]!.sign(&request, acting: acting)
                bytes = frame((try? request.encoded()) ?? generator.bytes(16))
            }
            outcome.frames += 1
            guard connection.send(bytes) else {
                outcome.closed += 1
                try connection.open()
                continue
            }
            if expectClose {
                // Half-sent frames wait for the frame timeout; close from this side instead.
                if bytes.count == 6 {
                    try connection.open()
                    outcome.closed += 1
                    continue
                }
            }
            switch connection.read(4) {
            case .closed:
                outcome.closed += 1
                try connection.open()
            case .timedOut:
                outcome.hangs += 1
                print("hang: frame \(index) to \(targets[which].0) got no reply in 10 s")
                try connection.open()
            case .bytes(let header):
                let length = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
                guard case .bytes(let body) = connection.read(length) else {
                    outcome.closed += 1
                    try connection.open()
                    continue
                }
                outcome.answered += 1
                let status = (try? ResponseEnvelope(decoding: body)).map { "\($0.status)" } ?? "undecodable-reply"
                outcome.statuses[status, default: 0] += 1
                if expectClose {
                    try connection.open()
                }
            }
        }
        return outcome
    }
}
