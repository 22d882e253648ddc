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
            Submit.self, Case.self, Deadlines.self, Event.self, Done.self, PoliceDecision.self, Outbox.self, Health.self, Rules.self, Brook.self,
            NewSecret.self, PKI.self, Audit.self, Export.self,
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

    @OptionGroup var tls: ClientTLSOptions

    func run() async throws {
        let material = try tls.material()
        var texts = endpoints
        if texts.isEmpty, let env = environment("HSB_ENDPOINTS") { texts = env.split(separator: ",").map(String.init) }
        let targets: [ServiceEndpoint]
        do {
            targets = texts.isEmpty ? ServiceEndpoint.localDefaults : try texts.map { try ServiceEndpoint(parsing: $0) }
        } catch {
            throw ValidationError("\(error)")
        }
        let checks = await AgencyReachability(endpoints: targets, group: MultiThreadedEventLoopGroup.singleton, tls: material).check()
        if json {
            let items = checks.map {
                "{\"service\":\(JSONLogHandler.quote($0.name)),\"serving\":\($0.ok),\"detail\":\(JSONLogHandler.quote($0.cause ?? $0.detail))}"
            }
            print("[\(items.joined(separator: ","))]")
        } else {
            let width = max(8, checks.map(\.name.count).max() ?? 0)
            for check in checks {
                let name = check.name + String(repeating: " ", count: width - check.name.count)
                print("\(name)  \(check.ok ? "SERVING    " : "NOT SERVING")  \(check.cause ?? check.detail)")
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
        abstract: "The procedure's rules: what each says, the clause of the procedures it comes from, and where in the work it is decided.",
        discussion: "Name rule IDs (e.g. SCR-08 STR-06) to see only those.")

    @Argument(help: "Rule IDs to show; all when none.") var ids: [String] = []
    @Flag(help: "Print JSON instead of text.") var json = false

    /// Where a rule is decided, in a practitioner's words, from the part of the rules module that decides it.
    static let places: [(prefix: String, place: String)] = [
        ("ReferralScreening", "when intake screens a referral"), ("StrategyMeetingRules", "when a strategy meeting is recorded"),
        ("CaseEventRules", "when a case event is recorded (conference, HSB meeting, review, panel, closure)"),
        ("PoliceDecisionRouting", "when a police decision is recorded (youth justice)"),
        ("YouthJusticePlanning", "when court, panel or release planning is recorded (youth justice)"),
        ("AIMRules", "on an AIM assessment (youth justice)"), ("AIMAssignment", "when an AIM lead is named (youth justice)"),
        ("MappaRules", "when MAPPA screens or sets a level"), ("CamhsRules", "when CAMHS takes a referral or consultation"),
        ("ProcedureProfile", "in the partnership's procedure profile"), ("AgeRules", "from the child's age"),
        ("AgeBand", "from the child's age band"), ("BrookCatalogue", "from the Brook traffic light tool"),
        ("LanguagePolicy", "in every text the suite writes"), ("DeadlineCalculator", "in how deadlines are counted"),
        ("WorkingDayCalendar", "in the working-day calendar"), ("ConsultationRules", "in a no-names consultation"),
    ]

    static func place(_ owner: CoverageEntry.Owner?) -> String {
        switch owner {
        case .rulesModule(let symbols):
            let places = symbols.compactMap { symbol in Self.places.first { symbol.hasPrefix($0.prefix) }?.place }
            var seen: Set<String> = []
            let unique = places.filter { seen.insert($0).inserted }
            return unique.isEmpty ? "in the rules module" : unique.joined(separator: "; ")
        case .service(let name, let what): return "by \(name): \(what)"
        case nil: return "not yet carried out"
        }
    }

    func run() async throws {
        let wanted = Set(ids.map { $0.uppercased() })
        let unknown = wanted.subtracting(RuleCatalogue.rules.map(\.id))
        guard unknown.isEmpty else {
            throw ValidationError("no rule \(unknown.sorted().map { ProtoJSON.excerpt($0) }.joined(separator: ", ")); hsbctl rules lists them all")
        }
        let rules = RuleCatalogue.rules.filter { wanted.isEmpty || wanted.contains($0.id) }
        if json {
            let items = rules.map { rule -> String in
                "{\"id\":\(JSONLogHandler.quote(rule.id)),\"source\":\(JSONLogHandler.quote(rule.source)),\"summary\":\(JSONLogHandler.quote(rule.summary)),\"where\":\(JSONLogHandler.quote(Self.place(RuleCoverage.entry(for: rule.id)?.owner)))}"
            }
            print("[\(items.joined(separator: ","))]")
            return
        }
        for rule in rules {
            print("\(rule.id)  (\(rule.source)) — decided \(Self.place(RuleCoverage.entry(for: rule.id)?.owner))")
            print(Self.wrap(rule.summary, indent: "    "))
        }
    }

    /// `text` folded at 100 columns, each line indented.
    static func wrap(_ text: String, indent: String) -> String {
        var lines: [String] = []
        var line = indent
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > 100 && line != indent {
                lines.append(line)
                line = indent
            }
            line += (line == indent ? "" : " ") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }
}

/// The Brook traffic light tool: the behaviours a referral may name, for an age band.
struct Brook: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the Brook traffic light behaviours a referral may name (SCR-01), for one age band or all.")

    @Option(help: "The child's age at the behaviour: only their band's behaviours are listed.") var age: Int?
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        var bands = AgeBand.allCases
        if let age {
            guard let band = AgeBand(age: age) else { throw ValidationError("--age \(age): the tool covers children aged 0 to 17 (GEN-01)") }
            bands = [band]
        }
        let entries = BrookCatalogue.entries.filter { bands.contains($0.band) }
        if json {
            let items = entries.map {
                "{\"id\":\(JSONLogHandler.quote($0.id)),\"band\":\(JSONLogHandler.quote($0.band.label)),\"grade\":\(JSONLogHandler.quote($0.grade.name)),\"text\":\(JSONLogHandler.quote($0.text))}"
            }
            print("[\(items.joined(separator: ","))]")
            return
        }
        for band in bands {
            print("Ages \(band.label) — name a behaviour in a referral file by its id (docs/REFERRAL_JSON.md)")
            for grade in TrafficLight.allCases {
                let graded = entries.filter { $0.band == band && $0.grade == grade }
                guard !graded.isEmpty else { continue }
                print("  \(grade.name.uppercased()): \(BrookCatalogue.gradeDescriptions[grade] ?? "")")
                for entry in graded { print("    \(entry.id.padding(22)) \(entry.text)") }
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
