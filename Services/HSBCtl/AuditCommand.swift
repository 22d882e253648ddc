import ArgumentParser
import Foundation
import HSBServiceKit
import HSBStorage
import HSBWire
import OrchestratorService

/// Checks a service's access log on its host, where agency IT can read the store.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a service's records on its own host.", subcommands: [AuditVerify.self])
}

/// Exit codes: 0 the chain is whole; 1 it is broken (the first broken row is named); 64 bad usage.
struct AuditVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Walk the service's access log hash chain and name the first row that was changed, removed or inserted.",
        discussion: """
            Reads the store (the SQLite file in --data-dir, or PostgreSQL at --database-url) and changes none of its records.
            Prints the chain's head; record it elsewhere (a ticket, a note to the data protection officer):
            a later run showing the same row with another hash means the log was rewritten from there.
            """)

    @Option(help: "The service whose store to check: \(ServiceDescriptor.all.map(\.name).joined(separator: ", ")).")
    var service: String

    @Option(name: .customLong("data-dir"), help: "The service's data folder (SQLite). Env: HSB_DATA_DIR. Default: data.")
    var dataDir: String?

    @Option(name: .customLong("database-url"), help: "The service's PostgreSQL URL, instead of SQLite. Env: HSB_DATABASE_URL.")
    var databaseURL: String?

    func run() async throws {
        guard let descriptor = ServiceDescriptor.all.first(where: { $0.name == service }) else {
            throw ValidationError(
                "--service \(ProtoJSON.quotedExcerpt(service)) is not a service of the suite; one of \(ServiceDescriptor.all.map(\.name).joined(separator: ", "))"
            )
        }
        let (database, location) = try ServiceStore.open(descriptor, dataDir: dataDir, databaseURL: databaseURL)
        var intact = Self.show("access log", try RecordStore.verifyAccessLog(in: database), of: descriptor.name, at: location)
        let version = try database.schemaVersion()
        for (chain, since) in ServiceStore.chains[descriptor.name] ?? [] {
            guard version >= since else {
                print("\(chain.name) of \(descriptor.name) (\(location)): not in this store yet (the service adds it when it next starts)")
                continue
            }
            intact = Self.show(chain.name, try RecordStore.verify(chain, in: database), of: descriptor.name, at: location) && intact
        }
        if !intact { throw ExitCode(1) }
    }

    /// Prints what a walk of one chain found; true when it is whole.
    static func show(_ name: String, _ report: AccessChain.Report, of service: String, at location: String) -> Bool {
        if let broken = report.broken {
            print("\(name) of \(service) (\(location)): BROKEN at row \(broken.sequence): \(broken.reason)")
            print("  the \(report.rows) row(s) before it are intact")
            return false
        }
        print("\(name) of \(service) (\(location)): \(report.rows) row(s), chain intact")
        print(report.headSequence == 0 ? "  head: none yet (it is empty)" : "  head: row \(report.headSequence), sha256 \(report.headHash)")
        if report.sealedThrough > 0 {
            print(
                "  sealed: rows 1 to \(report.sealedThrough) were removed when their retention ended; the walk starts after row \(report.sealedThrough)"
            )
        }
        return true
    }
}

/// A service's store, opened on its host by hsbctl (audit, export).
enum ServiceStore {
    /// Each service's own migrations (its typed tables), run after the store's.
    static let migrations: [String: [Migration]] = ["orchestrator": CaseTables.migrations]
    /// Each service's hash chains beyond the access log, with the schema version that adds each.
    static let chains: [String: [(HashChain, Int)]] = ["orchestrator": [(CaseTables.disclosureChain, 101)]]
    /// What a service holds about a child in its typed tables, as records, for an export.
    static let exporters: [String: @Sendable (String, RecordTransaction) throws(RecordStoreError) -> [StoredRecord]] = [
        "orchestrator": { child, tx throws(RecordStoreError) in try CaseTables.recordsAbout(child: child, tx) }
    ]

    static func descriptor(named name: String) throws -> ServiceDescriptor {
        guard let descriptor = ServiceDescriptor.all.first(where: { $0.name == name }) else {
            throw ValidationError(
                "--service \(ProtoJSON.quotedExcerpt(name)) is not a service of the suite; one of \(ServiceDescriptor.all.map(\.name).joined(separator: ", "))"
            )
        }
        return descriptor
    }

    /// The SQLite file in the data folder, or PostgreSQL at the URL; never a new empty store.
    static func open(_ descriptor: ServiceDescriptor, dataDir: String?, databaseURL: String?) throws -> (any SQLDatabase, String) {
        if let url = databaseURL ?? environment("HSB_DATABASE_URL") {
            let database = try PostgresDatabase(url: url)
            return (database, database.location)
        }
        let path = "\(dataDir ?? environment("HSB_DATA_DIR") ?? "data")/\(descriptor.name).sqlite3"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("there is no store at \(path): give the service's --data-dir, or --database-url")
        }
        return (try SQLiteDatabase(path: path), path)
    }
}
