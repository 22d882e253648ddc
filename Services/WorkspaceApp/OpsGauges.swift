public import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The orchestrator's gauges as its ops port serves them (Prometheus text at /metrics): counts
/// across every case, never a case, for the ops page.
public struct OrchestratorGauges: Sendable, Equatable {
    public var overdue: Double?
    public var outboxPending: Double?
    public var outboxDead: Double?
    public var oldestPendingSeconds: Double?
    /// Overdue deadlines by rule, task and owner.
    public var overdueByKind: [Kind] = []

    public struct Kind: Sendable, Equatable {
        public var rule: String
        public var task: String
        public var owner: String
        public var count: Double
    }

    /// At most this many bytes of /metrics are read.
    public static let maxBytes = 4 << 20

    /// Reads the gauges it knows from the exposition text; other lines are left alone.
    public static func parse(_ text: String) -> OrchestratorGauges {
        var gauges = OrchestratorGauges()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            let name = series.prefix { $0 != "{" }
            switch name {
            case "hsb_orchestrator_deadlines_overdue": gauges.overdue = value
            case "hsb_orchestrator_outbox_pending": gauges.outboxPending = value
            case "hsb_orchestrator_outbox_dead": gauges.outboxDead = value
            case "hsb_orchestrator_outbox_oldest_pending_seconds": gauges.oldestPendingSeconds = value
            case "hsb_orchestrator_deadlines_overdue_by_kind":
                let labels = Self.labels(series.dropFirst(name.count))
                gauges.overdueByKind.append(Kind(rule: labels["rule"] ?? "", task: labels["task"] ?? "", owner: labels["owner"] ?? "", count: value))
            default: continue
            }
        }
        gauges.overdueByKind.sort { ($0.count, $1.rule) > ($1.count, $0.rule) }
        return gauges
    }

    /// `{a="x",b="y"}` as a dictionary (values with `\"` and `\\` unescaped).
    static func labels(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var rest = text.drop { $0 == "{" }
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"" else { break }
            rest = rest.dropFirst()
            var value = ""
            var escaped = false
            while let character = rest.first {
                rest = rest.dropFirst()
                if escaped {
                    value.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    break
                } else {
                    value.append(character)
                }
            }
            result[key] = value
        }
        return result
    }
}

/// Where the ops page reads the orchestrator's gauges: its ops port's /metrics, with the ops token
/// when the port asks for one.
public struct MetricsSource: Sendable {
    public let url: URL
    let token: String?

    public init(url: URL, token: String?) {
        self.url = url
        self.token = token
    }

    public func gauges() async -> Result<OrchestratorGauges, MetricsUnavailable> {
        var request = URLRequest(url: url, timeoutInterval: 5)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
                return .failure(MetricsUnavailable(reason: "\(url) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)"))
            }
            guard data.count <= OrchestratorGauges.maxBytes, let text = String(data: data, encoding: .utf8) else {
                return .failure(MetricsUnavailable(reason: "\(url) sent more than \(OrchestratorGauges.maxBytes) bytes, or not text"))
            }
            return .success(OrchestratorGauges.parse(text))
        } catch {
            return .failure(MetricsUnavailable(reason: "\(url): \(error.localizedDescription)"))
        }
    }
}

public struct MetricsUnavailable: Error, Sendable {
    public let reason: String
}
