import ArgumentParser
import Foundation
import HSBServiceKit
import HSBStorage
import HSBWire

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
        let report = try RecordStore.verifyAccessLog(in: database)
        if let broken = report.broken {
            print("access log of \(descriptor.name) (\(location)): BROKEN at row \(broken.sequence): \(broken.reason)")
            print("  the \(report.rows) row(s) before it are intact")
            throw ExitCode(1)
        }
        print("access log of \(descriptor.name) (\(location)): \(report.rows) row(s), chain intact")
        print(report.headSequence == 0 ? "  head: none yet (the log is empty)" : "  head: row \(report.headSequence), sha256 \(report.headHash)")
    }
}

/// A service's store, opened on its host by hsbctl (audit, export).
enum ServiceStore {
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
