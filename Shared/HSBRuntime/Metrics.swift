public import HSBWire
import Synchronization

/// The counters and histograms an ops team scrapes from `/metrics`, in Prometheus text format.
public final class ServerMetrics: Sendable {
    /// Latency buckets in seconds.
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Histogram {
        var counts = [UInt64](repeating: 0, count: ServerMetrics.latencyBuckets.count)
        var sum: Double = 0
        var count: UInt64 = 0

        mutating func record(_ seconds: Double) {
            for (index, bound) in ServerMetrics.latencyBuckets.enumerated() where seconds <= bound {
                counts[index] += 1
            }
            sum += seconds
            count += 1
        }
    }

    struct State {
        var requests: [String: [StatusCode: UInt64]] = [:]
        var latency: [String: Histogram] = [:]
        var inFlight: Int = 0
        var openConnections: Int = 0
        var framesRefused: [String: UInt64] = [:]
        var connectionsRefused: UInt64 = 0
    }

    private let state = Mutex(State())
    /// Prefix of every metric name, e.g. `hsb_intake`.
    public let prefix: String
    private let extraGauges: Mutex<[@Sendable () -> [Gauge]]> = Mutex([])

    public init(prefix: String = "hsb") {
        self.prefix = prefix
    }

    public func requestStarted() { state.withLock { $0.inFlight += 1 } }

    public func requestFinished(method: String, status: StatusCode, seconds: Double) {
        state.withLock { state in
            state.inFlight -= 1
            state.requests[method, default: [:]][status, default: 0] += 1
            state.latency[method, default: Histogram()].record(seconds)
        }
    }

    public func connectionOpened() { state.withLock { $0.openConnections += 1 } }
    public func connectionClosed() { state.withLock { $0.openConnections -= 1 } }
    public func connectionRefused() { state.withLock { $0.connectionsRefused += 1 } }
    public func frameRefused(reason: String) { state.withLock { $0.framesRefused[reason, default: 0] += 1 } }

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

    public var requestsInFlight: Int { state.withLock { $0.inFlight } }
    public var openConnections: Int { state.withLock { $0.openConnections } }

    /// The count of finished requests for `method` with `status`.
    public func requestCount(method: String, status: StatusCode) -> UInt64 {
        state.withLock { $0.requests[method]?[status] ?? 0 }
    }

    public func framesRefusedCount(reason: String) -> UInt64 { state.withLock { $0.framesRefused[reason] ?? 0 } }

    /// The Prometheus text exposition (format 0.0.4).
    public func prometheusText() -> String {
        let snapshot = state.withLock { $0 }
        var out = ""
        let p = prefix
        out += "# HELP \(p)_requests_total Requests finished, by method and status code.\n# TYPE \(p)_requests_total counter\n"
        for method in snapshot.requests.keys.sorted() {
            for (status, count) in snapshot.requests[method]!.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                out += "\(p)_requests_total{method=\"\(escape(method))\",code=\"\(status)\"} \(count)\n"
            }
        }
        out += "# HELP \(p)_request_duration_seconds Time from a request's arrival to its reply.\n# TYPE \(p)_request_duration_seconds histogram\n"
        for method in snapshot.latency.keys.sorted() {
            let histogram = snapshot.latency[method]!
            let label = "method=\"\(escape(method))\""
            for (index, bound) in Self.latencyBuckets.enumerated() {
                out += "\(p)_request_duration_seconds_bucket{\(label),le=\"\(bound)\"} \(histogram.counts[index])\n"
            }
            out += "\(p)_request_duration_seconds_bucket{\(label),le=\"+Inf\"} \(histogram.count)\n"
            out += "\(p)_request_duration_seconds_sum{\(label)} \(histogram.sum)\n"
            out += "\(p)_request_duration_seconds_count{\(label)} \(histogram.count)\n"
        }
        out +=
            "# HELP \(p)_requests_in_flight Requests being worked on now.\n# TYPE \(p)_requests_in_flight gauge\n\(p)_requests_in_flight \(snapshot.inFlight)\n"
        out +=
            "# HELP \(p)_open_connections Open client connections.\n# TYPE \(p)_open_connections gauge\n\(p)_open_connections \(snapshot.openConnections)\n"
        out +=
            "# HELP \(p)_connections_refused_total Connections closed at once because the server was at its connection limit.\n# TYPE \(p)_connections_refused_total counter\n\(p)_connections_refused_total \(snapshot.connectionsRefused)\n"
        out += "# HELP \(p)_frames_refused_total Frames refused, by reason.\n# TYPE \(p)_frames_refused_total counter\n"
        for reason in ["too_large", "truncated", "undecodable", "too_slow"] {
            out += "\(p)_frames_refused_total{reason=\"\(reason)\"} \(snapshot.framesRefused[reason] ?? 0)\n"
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
