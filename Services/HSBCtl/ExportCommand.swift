import ArgumentParser
import Foundation
import HSBRuntime
import HSBServiceKit
import HSBStorage
import HSBWire

/// A subject access request, answered on the agency's host: everything the agency's service holds
/// about a child, as JSON and as a report a person can read. The export is itself a line of the
/// access log, with its purpose.
struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Everything one service holds about a child, for a subject access request (logged, with its purpose).",
        discussion: """
            Run on the service's host by its agency, with the hsbctl of the service's own release: it reads the store (--data-dir, or --database-url)
            and writes one line to its access log. The report lists each record (the child's own, and what they
            hold: a referral's meetings, a case's steps) with its content, then who read or wrote each of them,
            when and why. --json prints the same as one JSON document.
            """)

    @Option(help: "The service whose store to export from: \(ServiceDescriptor.all.map(\.name).joined(separator: ", ")).")
    var service: String

    @Option(help: "The child's subject id.")
    var child: String

    @Option(help: "Why (recorded in the access log), e.g. \"subject access request SAR-2026-14\". Env: HSB_PURPOSE.")
    var purpose: String?

    @Option(help: "Who is exporting (recorded in the access log). Env: HSB_USER, else USER.")
    var user: String?

    @Option(name: .customLong("data-dir"), help: "The service's data folder (SQLite). Env: HSB_DATA_DIR. Default: data.")
    var dataDir: String?

    @Option(name: .customLong("database-url"), help: "The service's PostgreSQL URL, instead of SQLite. Env: HSB_DATABASE_URL.")
    var databaseURL: String?

    @Flag(help: "Print JSON instead of the report.") var json = false

    /// Rows a service keeps for its own bookkeeping, derived from the records themselves.
    /// (Stores of the release before the typed tables kept these beside the records; a service moves them when it starts.)
    static let internalKinds: Set<String> = ["open-deadline", "outbox-due", "case-identity", "index-built"]

    func run() async throws {
        let descriptor = try ServiceStore.descriptor(named: service)
        guard let purpose = purpose ?? environment("HSB_PURPOSE"), !purpose.isEmpty else {
            throw ValidationError("--purpose (or HSB_PURPOSE) is required: an export is logged with why it was made (INF-05)")
        }
        guard !child.isEmpty, child.utf8.count <= 200 else { throw ValidationError("--child must be a subject id of 1 to 200 bytes") }
        guard purpose.utf8.count <= 1000, !ExportContent.hasControlCharacters(purpose) else {
            throw ValidationError("--purpose must be at most 1,000 bytes of text without control characters")
        }
        if let user, user.utf8.count > 200 || ExportContent.hasControlCharacters(user) {
            throw ValidationError("--user must be at most 200 bytes of text without control characters")
        }
        let (database, location) = try ServiceStore.open(descriptor, dataDir: dataDir, databaseURL: databaseURL)
        let store = try RecordStore(database: database, migrations: ServiceStore.migrations[descriptor.name] ?? [])
        let typed = ServiceStore.exporters[descriptor.name]
        let now = SystemWallClock().nowUnixMillis()
        let who = user ?? environment("HSB_USER") ?? environment("USER") ?? ""
        let child = self.child
        let (found, accesses) = try store.read(now: now) { tx throws(RecordStoreError) in
            // What the service keeps in its own tables: each catalogued table's records about the
            // child, then one level down, what they hold (a referral's meetings and events).
            let tables = try tx.catalogue()
            var rows: [(RecordTable, TableRow)] = []
            for table in tables { rows += try tx.list(table, subjectID: child).map { (table, $0) } }
            for (_, row) in rows { for table in tables { rows += try tx.list(table, subjectID: row.id).map { (table, $0) } } }
            var found = rows.map { table, row in
                (
                    StoredRecord(
                        kind: table.kind, id: row.id, subjectID: row.subjectID, version: row.version, body: "",
                        createdAtUnixMillis: row.createdAtUnixMillis, updatedAtUnixMillis: row.updatedAtUnixMillis),
                    ExportContent.readable(table: table, row: row)
                )
            }
            // The orchestrator's cases and steps, and anything still in the generic table of earlier releases.
            var generic = try typed?(child, tx) ?? []
            generic += try tx.list(subjectID: child)
            for record in generic { generic += try tx.list(subjectID: record.id) }
            found += generic.filter { !Self.internalKinds.contains($0.kind) }.map { ($0, ExportContent.readable(kind: $0.kind, body: $0.body)) }
            var seen = Set<String>()
            found = found.filter { seen.insert("\($0.0.kind)/\($0.0.id)").inserted }
            var log: [AccessEntry] = []
            for (record, _) in found { log += try tx.accessLog(kind: record.kind, recordID: record.id) }
            try tx.logAccess(
                agency: descriptor.agency.name, user: who, action: .read, kind: "subject-access-export", recordID: child, purpose: purpose,
                requestID: "hsbctl-export")
            return (found, log.sorted { $0.atUnixMillis < $1.atUnixMillis })
        }
        let records = found.map(\.0)
        let contents = found.map(\.1)
        if json {
            print(
                Self.jsonDocument(
                    service: descriptor.name, child: child, now: now, purpose: purpose, records: records, contents: contents, accesses: accesses))
            return
        }
        print("SUBJECT ACCESS EXPORT: \(child) at \(descriptor.name) (\(location))")
        print("Made \(ExportContent.time(now)) by \(who.isEmpty ? descriptor.agency.name : who) for: \(purpose)")
        print("")
        print("RECORDS (\(records.count))")
        for (record, content) in zip(records, contents) {
            print(
                "  \(record.kind) \(record.id), version \(record.version), written \(ExportContent.time(record.createdAtUnixMillis))"
                    + (record.updatedAtUnixMillis != record.createdAtUnixMillis
                        ? ", last changed \(ExportContent.time(record.updatedAtUnixMillis))" : ""))
            let others = ExportContent.otherSubjects(in: content, besides: child)
            if !others.isEmpty {
                print(
                    "      REVIEW BEFORE DISCLOSURE: it also holds information about \(others.map(ExportContent.printable).joined(separator: ", ")) (third-party data; separate subjects, need to know) [GEN-01 INF-04]"
                )
            }
            for line in ExportContent.pretty(content).split(separator: "\n") { print("      \(ExportContent.printable(line))") }
        }
        print("")
        print("WHO READ OR WROTE THEM (\(accesses.count))")
        for entry in accesses {
            // What callers wrote (users, purposes, ids) is printed with control characters escaped:
            // it reaches a person's terminal.
            let line =
                "\(entry.agency)\(entry.user.isEmpty ? "" : " (\(entry.user))") \(entry.action.rawValue) \(entry.kind) \(entry.recordID): \(entry.purpose)"
            print("  \(ExportContent.time(entry.atUnixMillis))  \(ExportContent.printable(line))")
        }
    }

    static func jsonDocument(
        service: String, child: String, now: Int64, purpose: String, records: [StoredRecord], contents: [String], accesses: [AccessEntry]
    ) -> String {
        func quoted(_ text: String) -> String {
            String(decoding: (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
        }
        let items = zip(records, contents).map { record, content in
            "{\"kind\":\(quoted(record.kind)),\"id\":\(quoted(record.id)),\"version\":\(record.version),\"written_unix_ms\":\(record.createdAtUnixMillis),\"changed_unix_ms\":\(record.updatedAtUnixMillis),\"content\":\(ExportContent.isJSON(content) ? content : quoted(content))}"
        }
        let lines = accesses.map { entry in
            "{\"at_unix_ms\":\(entry.atUnixMillis),\"agency\":\(quoted(entry.agency)),\"user\":\(quoted(entry.user)),\"action\":\(quoted(entry.action.rawValue)),\"kind\":\(quoted(entry.kind)),\"record_id\":\(quoted(entry.recordID)),\"purpose\":\(quoted(entry.purpose))}"
        }
        return "{\"service\":\(quoted(service)),\"child\":\(quoted(child)),\"exported_unix_ms\":\(now),\"purpose\":\(quoted(purpose)),"
            + "\"records\":[\(items.joined(separator: ","))],\"access_log\":[\(lines.joined(separator: ","))]}"
    }
}

/// A record's body as a person (or a program) can read it: the wire message it holds, as ProtoJSON.
enum ExportContent {
    /// The message a service's stored reply holds, by record kind.
    static let replies: [String: any WireMessage.Type] = [
        "camhs-referral": CamhsV1.ReferralOutcome.self, "camhs-notification": CamhsV1.ReferralOutcome.self,
        "camhs-consultation": CamhsV1.ConsultationRecord.self, "camhs-assessment": CamhsV1.AssessmentAgreement.self,
        "mappa-screening": MappaV1.ScreenResult.self, "mappa-level": MappaV1.LevelRecord.self, "mappa-disclosure": MappaV1.DisclosureDecision.self,
        "youth-justice-plan": YouthjusticeV1.PlanResult.self, "strategy-meeting": IntakeV1.MeetingRecord.self,
        "case-event": IntakeV1.CaseEventRecord.self,
    ]
    /// Records kept as protobuf after a `pb1:` tag, by kind.
    static let tagged: [String: any WireMessage.Type] = ["case": OrchestratorV1.StoredCase.self, "outbox": OrchestratorV1.StoredStep.self]

    /// A typed table's record as JSON: its protobuf documents decoded, a JSON document as it is,
    /// and otherwise its columns.
    static func readable(table: RecordTable, row: TableRow) -> String {
        if let referral = row.bytes("referral"), let screening = row.bytes("screening"),
            let referralText = json(IntakeV1.Referral.self, referral), let resultText = json(IntakeV1.ScreeningResult.self, screening)
        {
            return "{\"referral\":\(referralText),\"screening\":\(resultText)}"
        }
        let document = table.columns.first { $0.name == "document" }
        if document?.type == .blob, let type = replies[table.kind], let bytes = row.bytes("document"), let text = json(type, bytes) {
            return text
        }
        if document?.type == .text, let text = row["document"], isJSON(text) { return text }
        var object: [String: Any] = [:]
        for (column, value) in zip(table.columns, row.values) where column.type != .blob { object[column.name] = value ?? NSNull() }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func readable(kind: String, body: String) -> String {
        if let type = tagged[kind], body.hasPrefix("pb1:"), let data = Data(base64Encoded: String(body.dropFirst(4))),
            let text = json(type, [UInt8](data))
        {
            return text
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return body }
        if let type = replies[kind], let reply = (object["reply"] as? String).flatMap({ Data(base64Encoded: $0) }),
            let text = json(type, [UInt8](reply))
        {
            return text
        }
        if kind == "referral", let referral = (object["referral"] as? String).flatMap({ Data(base64Encoded: $0) }),
            let result = (object["result"] as? String).flatMap({ Data(base64Encoded: $0) }),
            let referralText = json(IntakeV1.Referral.self, [UInt8](referral)), let resultText = json(IntakeV1.ScreeningResult.self, [UInt8](result))
        {
            return "{\"referral\":\(referralText),\"screening\":\(resultText)}"
        }
        return body
    }

    static func json(_ type: any WireMessage.Type, _ bytes: [UInt8]) -> String? {
        func encode<M: WireMessage>(_ type: M.Type) -> String? {
            guard let message = try? M(decoding: bytes) else { return nil }
            return try? ProtoJSON.encode(message)
        }
        return encode(type)
    }

    /// The subject ids a record's content names besides `child`: other people's data, which a
    /// subject access request must not hand over without review.
    static func otherSubjects(in content: String, besides child: String) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(content.utf8)) else { return [] }
        var found = Set<String>()
        func walk(_ value: Any) {
            if let dictionary = value as? [String: Any] {
                for (key, inner) in dictionary {
                    if key.hasSuffix("subject_id") || key == "subject_ids", let id = inner as? String, !id.isEmpty, id != child { found.insert(id) }
                    if key == "subject_ids", let ids = inner as? [String] { found.formUnion(ids.filter { $0 != child }) }
                    walk(inner)
                }
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(object)
        return found.sorted()
    }

    /// JSON indented for reading, keys in order, times (`…_unix_ms`) as London dates; anything else as it is.
    static func pretty(_ text: String) -> String {
        func dated(_ value: Any) -> Any {
            if let dictionary = value as? [String: Any] {
                var out: [String: Any] = [:]
                for (key, inner) in dictionary {
                    let millis = (inner as? String).flatMap { Int64($0) } ?? (inner as? NSNumber)?.int64Value
                    if key.hasSuffix("_unix_ms"), let millis, millis > 0 {
                        out[String(key.dropLast("_unix_ms".count))] = time(millis)
                    } else {
                        out[key] = dated(inner)
                    }
                }
                return out
            }
            if let array = value as? [Any] { return array.map(dated) }
            return value
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)), parsed is [String: Any] || parsed is [Any],
            let data = try? JSONSerialization.data(withJSONObject: dated(parsed), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
    }

    /// `text` with every control character written as `\u{…}`, so no stored text can move a
    /// terminal's cursor or clear its screen.
    static func printable(_ text: some StringProtocol) -> String {
        guard hasControlCharacters(String(text)) else { return String(text) }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func isJSON(_ text: String) -> Bool { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil }

    static func time(_ unixMillis: Int64) -> String { CasePrinter.date(unixMillis) }
}
