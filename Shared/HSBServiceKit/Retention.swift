import Foundation
public import HSBRuntime
public import HSBStorage
import HSBWire
public import Logging
public import NIOPosix
public import ServiceLifecycle

/// How long a service keeps each kind of record: configured by the agency (the procedures leave
/// retention to each agency, under the data protection principles), one rule per kind. A kind
/// without a rule is kept.
public struct RetentionRules: Sendable, Hashable {
    /// Years a record of each kind is kept after its last change.
    public var yearsAfterLastChange: [String: Int]

    public init(yearsAfterLastChange: [String: Int] = [:]) {
        self.yearsAfterLastChange = yearsAfterLastChange
    }

    /// The longest a rule may say; the shortest is one year.
    public static let maximumYears = 100

    /// Parses a retention file: `KIND YEARS` per line (a record of KIND is removed YEARS whole
    /// years after its last change); `#` starts a comment. Throws naming the line and what is wrong.
    public static func parse(_ text: String, source: String) throws(ConfigurationError) -> RetentionRules {
        var rules = RetentionRules()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            let place = "\(source) line \(index + 1)"
            guard fields.count == 2 else { throw ConfigurationError("\(place): write KIND YEARS, e.g. 'referral 25'") }
            let kind = String(fields[0])
            guard let years = Int(fields[1]), (1...maximumYears).contains(years) else {
                throw ConfigurationError("\(place): years for \(ProtoJSON.quotedExcerpt(kind)) must be a whole number from 1 to \(maximumYears)")
            }
            guard rules.yearsAfterLastChange.updateValue(years, forKey: kind) == nil else {
                throw ConfigurationError("\(place): \(ProtoJSON.quotedExcerpt(kind)) has a rule already")
            }
        }
        return rules
    }

    /// The largest retention file read: far more than every kind of every service needs.
    static let maximumFileBytes = 1_000_000

    /// Reads and parses `file`; reads no more than `maximumFileBytes` of it (a bigger file is refused).
    public static func load(file: String) throws(ConfigurationError) -> RetentionRules {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw ConfigurationError("cannot read retention file \(file)") }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maximumFileBytes + 1) ?? Data() else {
            throw ConfigurationError("cannot read retention file \(file)")
        }
        guard data.count <= maximumFileBytes else { throw ConfigurationError("retention file \(file) is over 1 MB") }
        return try parse(String(decoding: data, as: UTF8.self), source: file)
    }

    /// The UTC calendar day of an instant, `YYYY-MM-DD`, for messages.
    static func utcDay(_ unixMillis: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(unixMillis) / 1000))
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The instant before which a record's last change means it has expired, as of `now`: `years`
    /// calendar years back (in UTC), so nothing goes a day early, leap years included.
    public static func cutoff(now: Int64, years: Int) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let date = Date(timeIntervalSince1970: Double(now) / 1000)
        guard let back = calendar.date(byAdding: .year, value: -years, to: date) else { return Int64.min }
        return Int64((back.timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// A kind of record a service keeps outside its catalogued record tables (the orchestrator's cases
/// and disclosure ledger), and how its expired records are removed.
public struct RetentionTarget: Sendable {
    public let kind: String
    /// Removes at most `limit` records of the kind whose last change was before `cutoff`, in the
    /// caller's transaction; returns each one's id and last change (for the access log).
    public let remove: @Sendable (_ cutoff: Int64, _ limit: Int, RecordTransaction) throws(RecordStoreError) -> [(id: String, changedAt: Int64)]

    public init(
        kind: String,
        remove: @escaping @Sendable (_ cutoff: Int64, _ limit: Int, RecordTransaction) throws(RecordStoreError) -> [(id: String, changedAt: Int64)]
    ) {
        self.kind = kind
        self.remove = remove
    }
}

/// Applies the retention rules: every hour, removes the records whose period has ended, a batch at
/// a time, each removal a line of the access log (`delete`, by `retention`, with the rule) in the
/// same transaction. Rules name kinds of the service's own tables; a kind the store does not have
/// is refused at start (`check`), not ignored.
public final class RetentionJob: Service, Sendable {
    let store: RecordStore
    let rules: RetentionRules
    let agency: String
    let clock: any WallClock
    let interval: Duration
    let threadPool: NIOThreadPool
    let logger: Logger
    /// Kinds beyond the catalogued tables, by kind.
    let targets: [String: RetentionTarget]
    /// Records removed in one transaction.
    static let batch = 500

    public init(
        store: RecordStore, rules: RetentionRules, agency: String, clock: any WallClock = SystemWallClock(), interval: Duration = .seconds(3600),
        threadPool: NIOThreadPool = .singleton, targets: [RetentionTarget] = [], logger: Logger
    ) {
        self.targets = Dictionary(targets.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.rules = rules
        self.agency = agency
        self.clock = clock
        self.interval = interval
        self.threadPool = threadPool
        self.logger = logger
    }

    /// Every kind this store can apply a rule to, and how its expired records go: the catalogued
    /// record tables (`removeRecords`), and the service's own targets.
    static func kinds(_ targets: [String: RetentionTarget], _ tx: RecordTransaction) throws(RecordStoreError) -> [String: RetentionTarget] {
        var kinds = targets
        for table in try tx.catalogue() where kinds[table.kind] == nil {
            kinds[table.kind] = RetentionTarget(kind: table.kind) { cutoff, limit, tx throws(RecordStoreError) in
                try tx.removeRecords(table, changedBefore: cutoff, limit: limit).map { ($0.id, $0.updatedAtUnixMillis) }
            }
        }
        return kinds
    }

    /// Refuses rules for kinds this store has no table of.
    public func check() throws {
        let targets = self.targets
        let known = Set(try store.snapshot(now: 0) { tx throws(RecordStoreError) in try Self.kinds(targets, tx) }.keys)
        let unknown = rules.yearsAfterLastChange.keys.filter { !known.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw ConfigurationError(
                "the retention file names \(unknown.prefix(5).map { ProtoJSON.quotedExcerpt($0) }.joined(separator: ", "))\(unknown.count > 5 ? " and \(unknown.count - 5) more" : ""), which this service does not keep; its kinds are \(known.sorted().joined(separator: ", "))"
            )
        }
    }

    /// Removes what has expired as of now; returns how many records of each kind.
    @discardableResult
    public func apply() async -> [String: Int] {
        let now = clock.nowUnixMillis()
        let (store, rules, agency, targets) = (self.store, self.rules, self.agency, self.targets)
        var removed: [String: Int] = [:]
        let kinds: [String: RetentionTarget]
        do {
            kinds = try await threadPool.runIfActive { try store.snapshot(now: now) { tx throws(RecordStoreError) in try Self.kinds(targets, tx) } }
        } catch {
            logger.warning("retention could not read the store's kinds; it tries again next time", metadata: ["error": "\(error)"])
            return [:]
        }
        for (kind, years) in rules.yearsAfterLastChange.sorted(by: { $0.key < $1.key }) {
            // A kind the store does not keep (refused at start by `check`) removes nothing.
            guard let target = kinds[kind] else { continue }
            let cutoff = RetentionRules.cutoff(now: now, years: years)
            while true {
                let count: Int
                do {
                    count = try await threadPool.runIfActive {
                        try store.write(now: now) { tx throws(RecordStoreError) -> Int in
                            let removed = try target.remove(cutoff, Self.batch, tx)
                            for record in removed {
                                try tx.logAccess(
                                    agency: agency, user: "retention", action: .delete, kind: kind, recordID: record.id,
                                    purpose:
                                        "retention: \(kind) is kept \(years) year\(years == 1 ? "" : "s") after its last change (\(RetentionRules.utcDay(record.changedAt)))",
                                    requestID: "retention")
                            }
                            return removed.count
                        }
                    }
                } catch {
                    logger.warning(
                        "retention could not remove expired records; it tries again next time", metadata: ["kind": "\(kind)", "error": "\(error)"])
                    break
                }
                removed[kind, default: 0] += count
                if count < Self.batch { break }
            }
        }
        for (kind, count) in removed.sorted(by: { $0.key < $1.key }) where count > 0 {
            logger.info("records past their retention period removed", metadata: ["kind": "\(kind)", "count": "\(count)"])
        }
        return removed
    }

    public func run() async throws {
        await repeatUntilShutdown(every: interval) { await self.apply() }
    }
}
