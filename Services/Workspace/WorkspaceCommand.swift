import ArgumentParser
import Foundation
import HSBRuntime
import HSBServiceKit
import HSBWire
import HummingbirdBcrypt
import Logging
import WorkspaceApp

@main
struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace",
        abstract: "The practitioners' web workspace of the HSB multi-agency suite.",
        subcommands: [Serve.self, AddAccount.self], defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the workspace.",
        discussion: """
            Practitioners sign in with the local accounts in --accounts (workspace add-account makes them) and act only for
            their account's agency: each agency's calls go to the orchestrator over its own certificate, from --credentials-dir
            (<agency>.pem, <agency>-key.pem, <agency>-act.pem, <agency>-act-key.pem and ca.pem, as hsbctl pki issue writes
            them). The workspace keeps no case data. It serves plain HTTP: on loopback, or behind a proxy that terminates
            TLS (--behind-tls-proxy); never plain HTTP across a network.
            """)

    @Option(help: "Listen on host:port. Env: HSB_WORKSPACE_LISTEN. Default: 127.0.0.1:7300.") var listen: String?
    @Option(help: "The orchestrator as host:port. Env: HSB_ORCHESTRATOR. Default: 127.0.0.1:7100.") var orchestrator: String?
    @Option(name: .customLong("credentials-dir"), help: "The agencies' certificates and keys. Env: HSB_WORKSPACE_CREDENTIALS_DIR.")
    var credentialsDir: String?
    @Option(help: "The accounts file. Env: HSB_WORKSPACE_ACCOUNTS.") var accounts: String?
    @Option(
        name: .customLong("endpoint"),
        help: "A service as name=host:port for the ops page; repeat. Env: HSB_ENDPOINTS (comma-separated). Default: the local suite's five.")
    var endpoints: [String] = []
    @Option(
        name: .customLong("orchestrator-metrics"),
        help: "The orchestrator's ops /metrics, for the ops page's gauges. Env: HSB_ORCHESTRATOR_METRICS. Default: http://127.0.0.1:7200/metrics.")
    var orchestratorMetrics: String?
    @Option(
        name: .customLong("ops-token-file"), help: "The ops token the orchestrator's /metrics asks for (a file). Env: HSB_OPS_TOKEN_FILE.")
    var opsTokenFile: String?
    @Option(name: .customLong("idle-minutes"), help: "Minutes without use that end a session (1-480). Default: 30.") var idleMinutes = 30
    @Option(name: .customLong("lockout-attempts"), help: "Wrong passwords in 15 minutes that lock an account (3-20). Default: 5.")
    var lockoutAttempts = 5
    @Option(name: .customLong("lockout-minutes"), help: "How long a locked account stays locked (1-1440). Default: 15.") var lockoutMinutes = 15
    @Flag(
        name: .customLong("behind-tls-proxy"),
        help: "Listen on an address other than loopback, for a proxy that terminates TLS in front. Env: HSB_WORKSPACE_BEHIND_TLS_PROXY=1.")
    var behindProxy = false
    @Option(name: .customLong("log-format"), help: "text or json. Default: text.") var logFormat = "text"

    func run() async throws {
        LoggingSystem.bootstrap { label in
            if logFormat == "json" { return JSONLogHandler(label: label) }
            return StreamLogHandler.standardError(label: label)
        }
        let logger = Logger(label: "hsb.workspace")
        let listenText = listen ?? environment("HSB_WORKSPACE_LISTEN") ?? "127.0.0.1:7300"
        let address: ServiceEndpoint
        let orchestratorAddress: ServiceEndpoint
        do {
            address = try ServiceEndpoint(parsing: "workspace=" + listenText)
            orchestratorAddress = try ServiceEndpoint(
                parsing: "orchestrator=" + (orchestrator ?? environment("HSB_ORCHESTRATOR") ?? "127.0.0.1:7100"))
        } catch {
            throw ValidationError("\(error)")
        }
        let proxied = behindProxy || environment("HSB_WORKSPACE_BEHIND_TLS_PROXY").flatMap(TransportOptions.flag) == true
        guard TransportOptions.isLoopback(address.host) || proxied else {
            throw ValidationError(
                "the workspace would serve plain HTTP on \(address.host): sessions and children's records would cross the network readable by anyone on the path. Listen on loopback, or put a TLS-terminating proxy in front and give --behind-tls-proxy"
            )
        }
        guard (1...480).contains(idleMinutes) else { throw ValidationError("--idle-minutes must be 1 to 480") }
        guard (3...20).contains(lockoutAttempts) else { throw ValidationError("--lockout-attempts must be 3 to 20") }
        guard (1...1440).contains(lockoutMinutes) else { throw ValidationError("--lockout-minutes must be 1 to 1440") }
        guard let directory = credentialsDir ?? environment("HSB_WORKSPACE_CREDENTIALS_DIR") else {
            throw ValidationError("--credentials-dir (HSB_WORKSPACE_CREDENTIALS_DIR) is required: the agencies' certificates")
        }
        guard let accountsPath = accounts ?? environment("HSB_WORKSPACE_ACCOUNTS") else {
            throw ValidationError("--accounts (HSB_WORKSPACE_ACCOUNTS) is required: workspace add-account makes the file")
        }
        let accountList: [String: Account]
        do { accountList = try AccountsFile.load(accountsPath) } catch { throw ValidationError("\(error)") }
        guard !accountList.isEmpty else { throw ValidationError("\(accountsPath) holds no account: add one with workspace add-account") }
        // Each agency with an account needs its credentials here; without them its practitioners could not act.
        var credentials: [AgencyCredential] = []
        for agency in Set(accountList.values.map(\.agency)).sorted(by: { $0.name < $1.name }) {
            // Only practitioners record acts: an agency whose accounts are all ops needs no act key.
            let acts = accountList.values.contains { $0.agency == agency && $0.role == .practitioner }
            do { credentials.append(try AgencyCredential(agency: agency, directory: directory, acts: acts)) } catch {
                throw ValidationError("accounts of \(agency.name) need its credentials in \(directory): \(error)")
            }
        }
        var texts = endpoints
        if texts.isEmpty, let env = environment("HSB_ENDPOINTS") { texts = env.split(separator: ",").map(String.init) }
        let targets: [ServiceEndpoint]
        do { targets = texts.isEmpty ? ServiceEndpoint.localDefaults : try texts.map { try ServiceEndpoint(parsing: $0) } } catch {
            throw ValidationError("\(error)")
        }
        let gateway = OrchestratorGateway(orchestrator: orchestratorAddress, credentials: credentials, endpoints: targets)
        let metricsText = orchestratorMetrics ?? environment("HSB_ORCHESTRATOR_METRICS") ?? "http://127.0.0.1:7200/metrics"
        guard let metricsURL = URL(string: metricsText), ["http", "https"].contains(metricsURL.scheme ?? "") else {
            throw ValidationError("--orchestrator-metrics \(ProtoJSON.quotedExcerpt(metricsText)) is not an http(s) URL")
        }
        var token: String?
        if let path = opsTokenFile ?? environment("HSB_OPS_TOKEN_FILE") {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ValidationError("cannot read the ops token file \(path)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let workspace = try Workspace(
            configuration: WorkspaceConfiguration(
                host: address.host, port: address.port, accounts: accountList,
                throttle: .init(limit: lockoutAttempts, lockoutMillis: Int64(lockoutMinutes) * 60_000), idle: .seconds(idleMinutes * 60),
                secureCookies: true),
            gateway: gateway, metrics: MetricsSource(url: metricsURL, token: token))
        let host = address.host
        let app = workspace.application(logger: logger) { port in
            logger.info("workspace listening", metadata: ["address": "http://\(host):\(port)/"])
            FileHandle.standardOutput.write(Data("workspace listening on http://\(host):\(port)/\n".utf8))
        }
        try await app.runService()
        await gateway.close()
    }
}

struct AddAccount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-account",
        abstract: "Add a local account to the accounts file, its password hashed with bcrypt.",
        discussion: "The password is read from the first line of standard input, or made with --generate-password and printed once.")

    @Option(help: "The accounts file (made when absent, readable by its owner alone).") var accounts: String
    @Option(help: "The username: 1-64 of a-z, 0-9, '.', '-', '_'.") var username: String
    @Option(help: "The agency the account acts for, e.g. social-care.") var agency: String
    @Option(help: "practitioner or ops. Default: practitioner.") var role = "practitioner"
    @Option(help: "bcrypt cost, 10-16. Default: 12.") var cost = 12
    @Flag(name: .customLong("generate-password"), help: "Make a random password and print it.") var generate = false

    func run() async throws {
        guard AccountsFile.validUsername(username) else { throw ValidationError("--username must be 1-64 of a-z, 0-9, '.', '-', '_'") }
        guard let agency = Agency(name: agency) else {
            throw ValidationError("--agency \(ProtoJSON.quotedExcerpt(agency)) is not an agency of the suite")
        }
        guard let role = Role(rawValue: role) else { throw ValidationError("--role must be practitioner or ops") }
        guard (10...16).contains(cost) else { throw ValidationError("--cost must be 10 to 16") }
        let existing: [String: Account]
        if FileManager.default.fileExists(atPath: accounts) {
            do { existing = try AccountsFile.load(accounts) } catch { throw ValidationError("\(error)") }
        } else {
            existing = [:]
            guard
                FileManager.default.createFile(
                    atPath: accounts, contents: Data("# username agency role bcrypt-hash\n".utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw ValidationError("cannot create \(accounts)")
            }
        }
        guard existing[username] == nil else { throw ValidationError("\(username) already has an account in \(accounts)") }
        let password: String
        if generate {
            var generator = SystemRandomNumberGenerator()
            let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
            password = String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
        } else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("give the password on standard input") }
            guard line.utf8.count >= 12 else { throw ValidationError("the password must be at least 12 characters") }
            guard line.utf8.count <= 72 else { throw ValidationError("the password must be at most 72 bytes (bcrypt reads no more)") }
            password = line
        }
        let entry = AccountsFile.line(username: username, agency: agency, role: role, password: password, cost: UInt8(cost)) + "\n"
        guard let handle = FileHandle(forWritingAtPath: accounts) else { throw ValidationError("cannot write \(accounts)") }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(entry.utf8))
        try handle.close()
        print(generate ? "\(username) (\(agency.name), \(role.rawValue)): \(password)" : "\(username) added")
    }
}
