public import HSBWire
import Synchronization

/// The counters and histograms an ops team scrapes from `/metrics`, in Prometheus text format.
public final class ServerMetrics: Sendable {
    /// Latency buckets in seconds.
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// One method's counters: resolved once when the method is registered, so that a request
    /// pays one uncontended lock and no string hashing to be counted.
    public final class MethodSeries: Sendable {
        public let method: String
        fileprivate let counters = Mutex(Counters())

        fileprivate init(method: String) { self.method = method }

        fileprivate struct Counters {
            /// Finished requests by status code (indexed by the code's number).
            var statuses = [UInt64](repeating: 0, count: StatusCode.allCases.count)
            /// Requests per latency bucket, not cumulative (the exposition sums them).
            var buckets = [UInt64](repeating: 0, count: ServerMetrics.latencyBuckets.count)
            var sum: Double = 0
            var count: UInt64 = 0
        }

        fileprivate func record(status: StatusCode, seconds: Double) {
            // The first bucket whose bound holds the latency; past the last bound only +Inf counts it.
            let bounds = ServerMetrics.latencyBuckets
            var low = 0
            var high = bounds.count
            while low < high {
                let middle = (low + high) / 2
                if seconds <= bounds[middle] { high = middle } else { low = middle + 1 }
            }
            counters.withLock { counters in
                let code = Int(status.rawValue)
                if code >= 0 && code < counters.statuses.count { counters.statuses[code] += 1 }
                if low < counters.buckets.count { counters.buckets[low] += 1 }
                counters.sum += seconds
                counters.count += 1
            }
        }
    }

    struct State {
        var framesRefused: [String: UInt64] = [:]
        var handshakesRefused: [String: UInt64] = [:]
        var connectionsRefused: UInt64 = 0
        var openConnections: Int = 0
    }

    private let state = Mutex(State())
    private let series = Mutex<[String: MethodSeries]>([:])
    private let inFlight = Atomic<Int>(0)
    /// Prefix of every metric name, e.g. `hsb_intake`.
    public let prefix: String
    private let extraGauges: Mutex<[@Sendable () -> [Gauge]]> = Mutex([])
    /// The series every method this server does not serve shares, so a caller cannot grow the
    /// metrics without bound.
    public let unknownMethod: MethodSeries

    public init(prefix: String = "hsb") {
        self.prefix = prefix
        let unknown = MethodSeries(method: "unknown")
        self.unknownMethod = unknown
        series.withLock { $0[unknown.method] = unknown }
    }

    /// The series for `method`, made on first use (at registration).
    public func series(for method: String) -> MethodSeries {
        series.withLock { all in
            if let existing = all[method] { return existing }
            let made = MethodSeries(method: method)
            all[method] = made
            return made
        }
    }

    public func requestStarted() { inFlight.wrappingAdd(1, ordering: .relaxed) }

    public func requestFinished(_ method: MethodSeries, status: StatusCode, seconds: Double) {
        method.record(status: status, seconds: seconds)
        inFlight.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }

    public func connectionOpened() { state.withLock { $0.openConnections += 1 } }
    public func connectionClosed() { state.withLock { $0.openConnections -= 1 } }
    public func connectionRefused() { state.withLock { $0.connectionsRefused += 1 } }
    public func frameRefused(reason: String) { state.withLock { $0.framesRefused[reason, default: 0] += 1 } }
    /// A TLS connection refused at or just after its handshake (``HandshakeFailure/reason``).
    public func handshakeRefused(reason: String) { state.withLock { $0.handshakesRefused[reason, default: 0] += 1 } }
    public func handshakesRefusedCount(reason: String) -> UInt64 { state.withLock { $0.handshakesRefused[reason] ?? 0 } }

    /// A value computed at scrape time (a gauge, or a counter kept elsewhere): one series without
    /// labels, or one per label set.
    public struct Gauge: Sendable {
        public enum Kind: String, Sendable {
            case gauge
            case counter
        }

        public var name: String
        public var help: String
        public var type: Kind
        public var series: [(labels: [(String, String)], value: Double)]

        public init(name: String, help: String, value: Double, type: Kind = .gauge) {
            self.init(name: name, help: help, series: [(labels: [], value: value)], type: type)
        }

        public init(name: String, help: String, series: [(labels: [(String, String)], value: Double)], type: Kind = .gauge) {
            self.name = name
            self.help = help
            self.type = type
            self.series = series
        }
    }

    /// Adds gauges computed at scrape time (e.g. overdue deadlines).
    public func addGauges(_ provider: @escaping @Sendable () -> [Gauge]) {
        extraGauges.withLock { $0.append(provider) }
    }

    public var requestsInFlight: Int { inFlight.load(ordering: .sequentiallyConsistent) }
    public var openConnections: Int { state.withLock { $0.openConnections } }

    /// The count of finished requests for `method` with `status`.
    public func requestCount(method: String, status: StatusCode) -> UInt64 {
        let found = series.withLock { $0[method] }
        return found?.counters.withLock { $0.statuses[Int(status.rawValue)] } ?? 0
    }

    public func framesRefusedCount(reason: String) -> UInt64 { state.withLock { $0.framesRefused[reason] ?? 0 } }

    /// The Prometheus text exposition (format 0.0.4).
    public func prometheusText() -> String {
        let snapshot = state.withLock { $0 }
        let methods = series.withLock { $0 }.sorted { $0.key < $1.key }.map { ($0.key, $0.value.counters.withLock { $0 }) }
        var out = ""
        let p = prefix
        out += "# HELP \(p)_requests_total Requests finished, by method and status code.\n# TYPE \(p)_requests_total counter\n"
        for (method, counters) in methods {
            for status in StatusCode.allCases where counters.statuses[Int(status.rawValue)] > 0 {
                out += "\(p)_requests_total{method=\"\(escape(method))\",code=\"\(status)\"} \(counters.statuses[Int(status.rawValue)])\n"
            }
        }
        out += "# HELP \(p)_request_duration_seconds Time from a request's arrival to its reply.\n# TYPE \(p)_request_duration_seconds histogram\n"
        for (method, counters) in methods where counters.count > 0 {
            let label = "method=\"\(escape(method))\""
            var cumulative: UInt64 = 0
            for (index, bound) in Self.latencyBuckets.enumerated() {
                cumulative += counters.buckets[index]
                out += "\(p)_request_duration_seconds_bucket{\(label),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "\(p)_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(counters.count)\n"
            out += "\(p)_request_duration_seconds_sum{\(label)} \(counters.sum)\n"
            out += "\(p)_request_duration_seconds_count{\(label)} \(counters.count)\n"
        }
        out +=
            "# HELP \(p)_requests_in_flight Requests being worked on now.\n# TYPE \(p)_requests_in_flight gauge\n\(p)_requests_in_flight \(requestsInFlight)\n"
        out +=
            "# HELP \(p)_open_connections Open client connections.\n# TYPE \(p)_open_connections gauge\n\(p)_open_connections \(snapshot.openConnections)\n"
        out +=
            "# HELP \(p)_connections_refused_total Connections past the server's or a peer's connection limit (answered for health checks only, or closed at once).\n# TYPE \(p)_connections_refused_total counter\n\(p)_connections_refused_total \(snapshot.connectionsRefused)\n"
        out += "# HELP \(p)_frames_refused_total Frames refused, by reason.\n# TYPE \(p)_frames_refused_total counter\n"
        for reason in ["too_large", "truncated", "undecodable", "too_slow", "over_memory_budget"] {
            out += "\(p)_frames_refused_total{reason=\"\(reason)\"} \(snapshot.framesRefused[reason] ?? 0)\n"
        }
        out +=
            "# HELP \(p)_tls_handshakes_refused_total TLS connections refused, by reason (a certificate not from a trusted CA, expired, naming no agency; a plaintext client).\n# TYPE \(p)_tls_handshakes_refused_total counter\n"
        for reason in HandshakeFailure.reasons {
            out += "\(p)_tls_handshakes_refused_total{reason=\"\(reason)\"} \(snapshot.handshakesRefused[reason] ?? 0)\n"
        }
        for provider in extraGauges.withLock({ $0 }) {
            for gauge in provider() {
                out += "# HELP \(p)_\(gauge.name) \(gauge.help)\n# TYPE \(p)_\(gauge.name) \(gauge.type.rawValue)\n"
                for (labels, value) in gauge.series {
                    let text = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                    out += "\(p)_\(gauge.name)\(text) \(value)\n"
                }
            }
        }
        return out
    }

    private func escape(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}
