import ArgumentParser
import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBWire
import NIOPosix

@main
struct HSBCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hsbctl",
        abstract: "The practitioner and ops client of the HSB multi-agency suite.",
        subcommands: [
            Submit.self, Case.self, Deadlines.self, Event.self, Done.self, PoliceDecision.self, Outbox.self, Health.self, Rules.self, NewSecret.self,
        ])
}

/// Exit codes: 0 all serving; 1 some service not serving or unreachable; 64 usage error.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask each service's Health/Check over the wire.",
        discussion: "Exits 0 when every service is SERVING, 1 otherwise.")

    @Option(
        name: .customLong("endpoint"),
        help: "A service as name=host:port; repeat for each. Env: HSB_ENDPOINTS (comma-separated). Default: the local suite's five services.")
    var endpoints: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        var texts = endpoints
        if texts.isEmpty, let env = environment("HSB_ENDPOINTS") { texts = env.split(separator: ",").map(String.init) }
        let targets: [ServiceEndpoint]
        do {
            targets = texts.isEmpty ? ServiceEndpoint.localDefaults : try texts.map { try ServiceEndpoint(parsing: $0) }
        } catch {
            throw ValidationError("\(error)")
        }
        let checks = await AgencyReachability(endpoints: targets, group: MultiThreadedEventLoopGroup.singleton).check()
        if json {
            let items = checks.map {
                "{\"service\":\(JSONLogHandler.quote($0.name)),\"serving\":\($0.ok),\"detail\":\(JSONLogHandler.quote($0.detail))}"
            }
            print("[\(items.joined(separator: ","))]")
        } else {
            let width = max(8, checks.map(\.name.count).max() ?? 0)
            for check in checks {
                let name = check.name + String(repeating: " ", count: width - check.name.count)
                print("\(name)  \(check.ok ? "SERVING    " : "NOT SERVING")  \(check.detail)")
            }
        }
        if !checks.allOK { throw ExitCode(1) }
    }
}

struct NewSecret: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-secret",
        abstract: "Print a new random 32-byte caller secret in hex, for a credentials file.")

    func run() async throws {
        print(AgencySecret.random().hex)
    }
}

struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every rule of the catalogue: where it is carried out, or which service will carry it.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        if json {
            let items = RuleCatalogue.rules.map { rule -> String in
                let entry = RuleCoverage.entry(for: rule.id)
                let (kind, place): (String, String) =
                    switch entry?.owner {
                    case .rulesModule(let symbols): ("rules-module", symbols.joined(separator: ", "))
                    case .service(let name, let what): ("service:\(name)", what)
                    case nil: ("none", "")
                    }
                return
                    "{\"id\":\(JSONLogHandler.quote(rule.id)),\"source\":\(JSONLogHandler.quote(rule.source)),\"owner\":\(JSONLogHandler.quote(kind)),\"where\":\(JSONLogHandler.quote(place))}"
            }
            print("[\(items.joined(separator: ","))]")
            return
        }
        for rule in RuleCatalogue.rules {
            let id = rule.id.padding(7)
            switch RuleCoverage.entry(for: rule.id)?.owner {
            case .rulesModule(let symbols): print("\(id) decided  \(symbols.joined(separator: ", "))  [\(rule.source)]")
            case .service(let name, let what): print("\(id) \(name.padding(8)) \(what)  [\(rule.source)]")
            case nil: print("\(id) MISSING  no owner  [\(rule.source)]")
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
