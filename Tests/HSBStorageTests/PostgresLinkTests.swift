import Foundation
import HSBStorage
import Testing

/// The link to PostgreSQL: the URL as an operator writes it, TLS as its sslmode asks, the values
/// read back, and the writer's and reader's connections.
@Suite("PostgreSQL link: URL, TLS, values and connections")
struct PostgresLinkTests {
    static var url: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["HSB_TEST_POSTGRES_URL"] else {
                throw StorageError(operation: "test setup", message: "HSB_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh")
            }
            return url
        }
    }

    static func environment(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name] else {
            throw StorageError(operation: "test setup", message: "\(name) is not set: run the tests through scripts/with-postgres.sh")
        }
        return value
    }

    @Test(
        "A URL libpq cannot use is refused at start with what is wrong, and never repeats the password",
        arguments: [
            ("postgresql://u:secret@127.0.0.1:99999/db", "invalid port number"),
            ("postgresql://u:secret@127.0.0.1/db?sslmod=require", "invalid URI query parameter: \"sslmod\""),
            ("postgresql://u:secret@127.0.0.1/db?sslmode=sometimes", "invalid sslmode value"),
        ])
    func refusesMalformedURLs(_ text: String, _ expected: String) {
        do {
            _ = try PostgresDatabase(url: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.operation == "connect")
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.message.contains("secret"))
        }
    }

    @Test("verify-full (by name) and verify-ca with the right CA, and require, make a TLS link to the database; disable makes none")
    func tlsWhenAsked() throws {
        let url = try Self.url
        let ca = try Self.environment("HSB_TEST_POSTGRES_CA")
        func linkIsTLS(_ database: PostgresDatabase) throws -> Bool {
            let rows = try database.readTransaction { session throws(StorageError) in
                try session.queryValues("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", [])
            }
            return rows.first?.first == .integer(1)
        }
        let byName = url.replacingOccurrences(of: "@127.0.0.1:", with: "@localhost:")
        #expect(try linkIsTLS(PostgresDatabase(url: byName + "?sslmode=verify-full&sslrootcert=\(ca)")))
        #expect(try linkIsTLS(PostgresDatabase(url: url + "?sslmode=verify-ca&sslrootcert=\(ca)")))
        #expect(try linkIsTLS(PostgresDatabase(url: url + "?sslmode=require")))
        #expect(try !linkIsTLS(PostgresDatabase(url: url + "?sslmode=disable")))
    }

    @Test("A server whose certificate another CA signed is refused at connect, naming the database")
    func wrongCertificateAuthority() throws {
        let url = try Self.url
        let other = try Self.environment("HSB_TEST_POSTGRES_OTHER_CA")
        do {
            _ = try PostgresDatabase(url: url + "?sslmode=verify-ca&sslrootcert=\(other)")
            Issue.record("connected to a server signed by a CA it does not trust")
        } catch {
            #expect(error.operation == "connect")
            #expect(error.message.contains("127.0.0.1") && error.message.contains("certificate verify failed"), "\(error.message)")
        }
        // verify-full checks the name as well: the certificate names localhost, not 127.0.0.1.
        let ca = try Self.environment("HSB_TEST_POSTGRES_CA")
        do {
            _ = try PostgresDatabase(url: url + "?sslmode=verify-full&sslrootcert=\(ca)")
            Issue.record("verify-full accepted a certificate for another name")
        } catch {
            #expect(error.message.contains("does not match host name \"127.0.0.1\""), "\(error.message)")
        }
    }

    @Test("A root certificate file that cannot be read stops the store before it connects")
    func unreadableRootCertificate() throws {
        let url = try Self.url
        do {
            _ = try PostgresDatabase(url: url + "?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            Issue.record("opened with a missing CA file")
        } catch {
            #expect(error.operation == "connect")
            #expect(error.message.contains("root certificate file \"/nonexistent/ca.pem\" does not exist"), "\(error.message)")
        }
    }

    @Test("Every column type the store uses comes back as the value written")
    func values() throws {
        let (database, _) = try Backend.postgresql.open()
        try database.transaction { session throws(StorageError) in
            try session.execute(
                "CREATE TABLE kinds (d DATE, i2 SMALLINT, i4 INTEGER, i8 BIGINT, t TEXT, v VARCHAR(10), blob BYTEA)")
            for (date, small) in [("2026-11-30", 1), ("1999-12-31", -1), ("2000-02-29", 0), ("2100-03-01", 32767), ("0001-01-01", -32768)] {
                try session.execute(
                    "INSERT INTO kinds VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(date), .integer(Int64(small)), .integer(-2_147_483_648), .integer(Int64.min), .text("é ✓"), .text("abc"),
                        .blob([0, 255, 7]),
                    ])
            }
        }
        let rows = try database.readTransaction { session throws(StorageError) in
            try session.queryValues("SELECT d, i2, i4, i8, t, v, blob, NULL FROM kinds ORDER BY d", [])
        }
        #expect(rows.map { $0[0] } == ["0001-01-01", "1999-12-31", "2000-02-29", "2026-11-30", "2100-03-01"].map(SQLValue.text))
        #expect(rows.map { $0[1] } == [-32768, -1, 0, 1, 32767].map { SQLValue.integer($0) })
        #expect(
            rows[0][2...] == [.integer(-2_147_483_648), .integer(Int64.min), .text("é ✓"), .text("abc"), .blob([0, 255, 7]), .null])
    }

    @Test("A statement the server refuses reports the server's words and SQLSTATE, and the transaction is rolled back")
    func serverErrors() throws {
        let (database, _) = try Backend.postgresql.open()
        try database.transaction { session throws(StorageError) in try session.execute("CREATE TABLE once (id TEXT PRIMARY KEY)") }
        do {
            try database.transaction { session throws(StorageError) in
                try session.execute("INSERT INTO once VALUES (?)", [.text("a")])
                try session.execute("INSERT INTO once VALUES (?)", [.text("a")])
            }
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.message.contains("duplicate key value violates unique constraint"), "\(error.message)")
            #expect(error.message.contains("SQLSTATE 23505"), "\(error.message)")
        }
        let count = try database.readTransaction { session throws(StorageError) in try session.queryValues("SELECT COUNT(*) FROM once", []) }
        #expect(count == [[.integer(0)]])
    }

    @Test("Reads take a connection of their own and do not wait for the writer; connections the server ends are re-established")
    func pool() throws {
        let url = try Self.url
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let name = "pool_" + schema
        let admin = try PostgresDatabase(url: url + "?application_name=admin_\(schema)")
        try admin.transaction { session throws(StorageError) in try session.execute("CREATE SCHEMA \(schema)") }
        let database = try PostgresDatabase(url: url + "?options=-c%20search_path%3D\(schema)&application_name=\(name)")
        // A read from inside a write transaction: with one connection this would wait for itself.
        let seen = try database.transaction { session throws(StorageError) -> [[SQLValue]] in
            try session.execute("CREATE TABLE pooled (n BIGINT)")
            let writer = try session.queryValues("SELECT pg_backend_pid()", [])[0][0]
            return try database.readTransaction { reader throws(StorageError) in
                try reader.queryValues("SELECT pg_backend_pid() <> ?", [writer])
            }
        }
        #expect(seen == [[.integer(1)]])
        // The server ends every session of this store (an administrator, a failover).
        let ended = try admin.transaction { session throws(StorageError) in
            try session.queryValues("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?", [.text(name)])
        }
        #expect(ended.count == 2)
        Thread.sleep(forTimeInterval: 0.2)  // for the closed sockets to reach the event loop
        for attempt in 0..<4 {
            try database.transaction { session throws(StorageError) in
                try session.execute("INSERT INTO pooled VALUES (?)", [.integer(Int64(attempt))])
            }
        }
        let rows = try database.readTransaction { session throws(StorageError) in try session.queryValues("SELECT COUNT(*) FROM pooled", []) }
        #expect(rows == [[.integer(4)]])
    }
}
