import Foundation
import HSBStorage
import Testing

/// The link to PostgreSQL: the URL as an operator writes it, TLS as its sslmode asks, the values
/// postgres-nio hands back, and the pool.
@Suite("PostgreSQL link: URL, TLS, values and pool")
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

    @Test("A URL is read as libpq reads it: credentials decoded, defaults filled, TLS settings kept")
    func parsesURLs() throws {
        let full = try PostgresURL(
            "postgresql://svc%40mash:p%3As%2Fw@db.example.org:6432/hsb_intake?sslmode=verify-full&sslrootcert=/etc/hsb/db-ca.pem&connect_timeout=5&application_name=intake"
        )
        #expect(full.user == "svc@mash" && full.password == "p:s/w")
        #expect(full.host == "db.example.org" && full.port == 6432 && full.database == "hsb_intake")
        #expect(full.tls == .verifyFull && full.rootCertificatePath == "/etc/hsb/db-ca.pem")
        #expect(full.connectTimeoutSeconds == 5 && full.applicationName == "intake")
        #expect(full.location == "db.example.org:6432/hsb_intake")

        let plain = try PostgresURL("postgres://hsb@127.0.0.1/hsb_test")
        #expect(plain.port == 5432 && plain.password == nil && plain.tls == .prefer && plain.connectTimeoutSeconds == 10)

        let v6 = try PostgresURL("postgresql://hsb@[::1]:5433/x?options=-c%20search_path%3Dt_1")
        #expect(v6.host == "::1" && v6.port == 5433 && v6.options == "-c search_path=t_1")
        #expect(v6.location == "[::1]:5433/x")
    }

    @Test(
        "A malformed URL is refused with what is wrong, and never repeats the password",
        arguments: [
            ("mysql://u:secret@h/db", "must start with postgresql://"),
            ("postgresql://u:secret@h:99999/db", "the port must be a number from 1 to 65535"),
            ("postgresql://u:secret@h:5432", "name the database"),
            ("postgresql://u:secret@h/db?sslmod=require", "unknown parameter \"sslmod\""),
            ("postgresql://u:secret@h/db?sslmode=allow", "(use prefer)"),
            ("postgresql://u:secret@h/db?sslmode", "parameter sslmode needs a value"),
            ("postgresql://u:secret@h/db?connect_timeout=0", "connect_timeout must be seconds from 1 to 300"),
            ("postgresql://u:sec%zzret@h/db", "the password is not valid percent-encoding"),
            ("postgresql://u:secret@[::1/db", "an IPv6 host is missing its ]"),
            ("postgresql://u:secret@h/db?x\u{1b}[2J=1", "unknown parameter \"x\\u{1B}[2J\""),
        ])
    func refusesMalformedURLs(_ text: String, _ expected: String) {
        do {
            let url = try PostgresURL(text)
            Issue.record("accepted \(url.location)")
        } catch {
            #expect(error.operation == "database URL")
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
            #expect(error.message.contains("127.0.0.1"), "\(error.message)")
        }
        // verify-full checks the host's name: an address cannot be checked, and is refused before connecting.
        let ca = try Self.environment("HSB_TEST_POSTGRES_CA")
        do {
            _ = try PostgresDatabase(url: url + "?sslmode=verify-full&sslrootcert=\(ca)")
            Issue.record("verify-full by address was accepted")
        } catch {
            #expect(error.message.contains("is an address"), "\(error.message)")
        }
    }

    @Test("A root certificate file that cannot be read stops the store before it connects")
    func unreadableRootCertificate() throws {
        let url = try Self.url
        do {
            _ = try PostgresDatabase(url: url + "?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            Issue.record("opened with a missing CA file")
        } catch {
            #expect(error.operation == "database TLS", "\(error)")
        }
    }

    @Test("Every column type the store reads comes back as the value written; one it does not read is an error naming it")
    func values() throws {
        let (database, _) = try Backend.postgresql.open()
        try database.transaction { session throws(StorageError) in
            try session.execute(
                "CREATE TABLE kinds (d DATE, i2 SMALLINT, i4 INTEGER, i8 BIGINT, b BOOLEAN, t TEXT, v VARCHAR(10), blob BYTEA)")
            for (date, small) in [("2026-11-30", 1), ("1999-12-31", -1), ("2000-02-29", 0), ("2100-03-01", 32767), ("0001-01-01", -32768)] {
                try session.execute(
                    "INSERT INTO kinds VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(date), .integer(Int64(small)), .integer(-2_147_483_648), .integer(Int64.min), .text("true"), .text("é ✓"),
                        .text("abc"), .blob([0, 255, 7]),
                    ])
            }
        }
        let rows = try database.readTransaction { session throws(StorageError) in
            try session.queryValues("SELECT d, i2, i4, i8, b, t, v, blob, NULL FROM kinds ORDER BY d", [])
        }
        #expect(rows.map { $0[0] } == ["0001-01-01", "1999-12-31", "2000-02-29", "2026-11-30", "2100-03-01"].map(SQLValue.text))
        #expect(rows.map { $0[1] } == [-32768, -1, 0, 1, 32767].map { SQLValue.integer($0) })
        #expect(
            rows[0][2...] == [.integer(-2_147_483_648), .integer(Int64.min), .integer(1), .text("é ✓"), .text("abc"), .blob([0, 255, 7]), .null])
        #expect(throws: StorageError.self) {
            try database.readTransaction { session throws(StorageError) in try session.queryValues("SELECT 1.5::numeric AS ratio", []) }
        }
        do {
            _ = try database.readTransaction { session throws(StorageError) in try session.queryValues("SELECT 1.5::numeric AS ratio", []) }
        } catch {
            #expect(error.message.contains("column ratio has PostgreSQL type NUMERIC"), "\(error.message)")
        }
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

    @Test("Reads take a connection of their own and do not wait for the writer; connections the server drops are replaced")
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
