import ArgumentParser
import Foundation
import HSBContract
import HSBPractice
import HSBRuntime
import HSBServiceKit
import HSBWire
import NIOPosix

/// Who hsbctl calls as, and where the orchestrator is.
struct CallerOptions: ParsableArguments {
    @Option(help: "The agency to act for, e.g. social-care. Env: HSB_AGENCY. Default: social-care.")
    var agency: String?

    @Option(help: "Your name, for the access log. Env: HSB_USER. Default: the login name.")
    var user: String?

    @Option(
        name: .customLong("credentials-file"),
        help:
            "A credentials file holding your agency's secret ('agency-name hex-secret' lines). Env: HSB_CREDENTIALS_FILE. Or give the secret in HSB_SECRET."
    )
    var credentialsFile: String?

    @Option(help: "The orchestrator as host:port. Env: HSB_ORCHESTRATOR. Default: 127.0.0.1:7100.")
    var orchestrator: String?

    @OptionGroup var tls: ClientTLSOptions

    @Option(
        name: .customLong("act-certificate"),
        help:
            "Your agency's act-signing certificate (PEM, hsbctl pki issue writes <agency>-act.pem): acts recorded through the orchestrator carry your agency's own signature, which the agency that owns the act checks. Env: HSB_ACT_CERTIFICATE."
    )
    var actCertificate: String?

    @Option(name: .customLong("act-key"), help: "The Ed25519 key of --act-certificate (PEM). Env: HSB_ACT_KEY.")
    var actKey: String?

    /// Who is named in each request, for the access log.
    var userName: String { user ?? environment("HSB_USER") ?? environment("USER") ?? "" }

    /// The record of an act on a case, signed by the agency when its act key is given; without
    /// one over TLS the orchestrator refuses the act, and hsbctl says so first.
    func recordEvent(caseID: String, method: String, payload: [UInt8]) throws -> OrchestratorV1.RecordEventRequest {
        var request = OrchestratorV1.RecordEventRequest(caseId: caseID, method: method, payload: payload)
        let certificate = actCertificate ?? environment("HSB_ACT_CERTIFICATE")
        let key = actKey ?? environment("HSB_ACT_KEY")
        switch (certificate, key) {
        case (let certificate?, let key?):
            let signer: ActSigner
            do {
                signer = try ActSigner(certificateFile: certificate, keyFile: key)
            } catch {
                throw ValidationError("act signing: \(error)")
            }
            request.actorProof = try signer.sign(
                caseID: caseID, method: method, payload: payload, user: userName, nowUnixMillis: SystemWallClock().nowUnixMillis())
        case (nil, nil):
            if try tls.material() != nil {
                throw ValidationError(
                    "recording an act over TLS needs your agency's act-signing certificate and key: --act-certificate and --act-key (HSB_ACT_CERTIFICATE, HSB_ACT_KEY)"
                )
            }
        default:
            throw ValidationError("--act-certificate and --act-key go together")
        }
        return request
    }

    @Option(help: "Why you need this (recorded in the access log). Env: HSB_PURPOSE.")
    var purpose: String?

    func client() throws -> OrchestratorV1.Orchestrator.Client {
        let material = try tls.material()
        let agencyName = agency ?? environment("HSB_AGENCY") ?? material?.agency.name ?? "social-care"
        guard let agency = Agency(name: agencyName) else {
            throw ValidationError("--agency \(ProtoJSON.quotedExcerpt(agencyName)) is not an agency of the suite")
        }
        let target = try ServiceEndpoint(parsing: "orchestrator=" + (orchestrator ?? environment("HSB_ORCHESTRATOR") ?? "127.0.0.1:7100"))
        if let material {
            // On TLS the certificate is the agency's proof: no secret, and no acting as another.
            guard material.agency == agency else {
                throw ValidationError("your certificate is \(material.agency.name)'s; it cannot act as \(agency.name)")
            }
            return OrchestratorV1.Orchestrator.Client(
                RPCClient(
                    configuration: RPCClientConfiguration(host: target.host, port: target.port, tls: material, expectedAgency: .orchestrator),
                    signer: RequestSigner(agency: agency, user: userName), group: MultiThreadedEventLoopGroup.singleton))
        }
        let secret: AgencySecret
        if let text = environment("HSB_SECRET") {
            guard let parsed = AgencySecret(hex: text) else { throw ValidationError("HSB_SECRET must be at least 64 hex digits") }
            secret = parsed
        } else {
            let secrets = try CredentialsLoader.load(file: credentialsFile ?? environment("HSB_CREDENTIALS_FILE"))
            guard let found = secrets[agency] else {
                throw ValidationError("no secret for \(agency.name): give --credentials-file (or HSB_CREDENTIALS_FILE) or HSB_SECRET")
            }
            secret = found
        }
        return OrchestratorV1.Orchestrator.Client(
            RPCClient(
                configuration: RPCClientConfiguration(host: target.host, port: target.port),
                signer: RequestSigner(agency: agency, secret: secret, user: userName), group: MultiThreadedEventLoopGroup.singleton))
    }

    var purposeText: String { purpose ?? environment("HSB_PURPOSE") ?? "" }
}

/// The client's TLS material: the agency's certificate and key, and the partnership's CAs.
struct ClientTLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-certificate"),
        help: "Your agency's certificate (PEM), for services that take mutual TLS; it says which agency you act for. Env: HSB_TLS_CERTIFICATE.")
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: "The key of --tls-certificate (PEM). Env: HSB_TLS_KEY.")
    var key: String?

    @Option(name: .customLong("tls-ca"), help: "The partnership's CA certificates (PEM). Env: HSB_TLS_CA.")
    var ca: String?

    /// The loaded material, nil when no TLS option is given; a usage error naming what is wrong.
    func material() throws -> TLSMaterial? {
        do {
            let files = try TransportOptions.files(
                certificate: certificate ?? environment("HSB_TLS_CERTIFICATE"), key: key ?? environment("HSB_TLS_KEY"),
                trustedCAs: ca ?? environment("HSB_TLS_CA"), allowTLS12: false)
            return try TransportOptions.material(files)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// Exit codes: 0 done; 1 the service refused or failed (its message is printed); 64 bad usage.
func runCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RPCError {
        FileHandle.standardError.write(Data("hsbctl: \(error.code): \(error.message)\n".utf8))
        throw ExitCode(1)
    } catch let error as ReferralFileError {
        FileHandle.standardError.write(Data("hsbctl: \(error.description)\n".utf8))
        throw ExitCode(64)
    }
}

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Submit a referral from a JSON file (docs/REFERRAL_JSON.md) to the orchestrator.")

    @Argument(help: "The referral file.") var file: String
    @Option(
        name: .customLong("idempotency-key"),
        help: "Reuse to retry safely; default: one derived from the referral's contents, so submitting the same file again is the same referral.")
    var idempotencyKey: String?
    @OptionGroup var caller: CallerOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let referral = try await runCall { try ReferralFile.load(file) }
        let client = try caller.client()
        let key = try idempotencyKey ?? "referral-" + Self.fingerprint(referral.encoded())
        let view = try await runCall {
            try await client.submitReferral(
                OrchestratorV1.SubmitReferralRequest(referral: referral),
                options: CallOptions(idempotencyKey: key, purpose: caller.purposeText.isEmpty ? "referral" : caller.purposeText))
        }
        print(CasePrinter.render(view, json: json))
        // A referral intake refused is the command's failure, as any other refusal is.
        if view.status == "refused" { throw ExitCode(1) }
    }

    /// A stable 64-bit FNV-1a fingerprint of the referral's bytes, in hex.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return String(hash, radix: 16)
    }
}

struct Case: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a case: its screening, routes, deadlines, chronology and disclosures.")

    @Argument(help: "The case id.") var caseID: String
    @OptionGroup var caller: CallerOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        guard !caller.purposeText.isEmpty else { throw ValidationError("--purpose (or HSB_PURPOSE) is required to read a case (INF-05)") }
        let client = try caller.client()
        let view = try await runCall {
            try await client.getCase(OrchestratorV1.GetCaseRequest(caseId: caseID), options: CallOptions(purpose: caller.purposeText))
        }
        print(CasePrinter.render(view, json: json))
    }
}

struct Deadlines: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List overdue work, and what falls due within N days, that your agency may see (a page at a time).")

    @Option(name: .customLong("within"), help: "Days ahead to list. Default: 14.") var within: Int32 = 14
    @Option(name: .customLong("page-size"), help: "Entries a page (at most 1000). Default: 200.") var pageSize: Int32 = 200
    @Option(name: .customLong("page"), help: "The page token a previous listing printed; omit for the first page.") var page = ""
    @OptionGroup var caller: CallerOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        guard !caller.purposeText.isEmpty else { throw ValidationError("--purpose (or HSB_PURPOSE) is required to list deadlines (INF-05)") }
        let client = try caller.client()
        let list = try await runCall {
            try await client.listDeadlines(
                OrchestratorV1.ListDeadlinesRequest(withinDays: within, pageSize: pageSize, pageToken: page),
                options: CallOptions(purpose: caller.purposeText))
        }
        if json {
            print((try? ProtoJSON.encode(list)) ?? "{}")
            return
        }
        print("OVERDUE (\(list.overdue.count))")
        for entry in list.overdue { print("  " + CasePrinter.deadlineLine(entry)) }
        print("DUE WITHIN \(within) DAYS (\(list.dueSoon.count))")
        for entry in list.dueSoon { print("  " + CasePrinter.deadlineLine(entry)) }
        if !list.nextPageToken.isEmpty { print("More: hsbctl deadlines --within \(within) --page '\(list.nextPageToken)'") }
    }
}

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The orchestrator's outbox, for its operators: steps still owed, or (--dead) those given up after repeated failures.",
        subcommands: [OutboxList.self, OutboxRetry.self, OutboxDiscard.self], defaultSubcommand: OutboxList.self)
}

struct OutboxList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List owed steps, or only the dead ones.")

    @Flag(help: "Only the steps given up after repeated failures.") var dead = false
    @OptionGroup var caller: CallerOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        guard !caller.purposeText.isEmpty else { throw ValidationError("--purpose (or HSB_PURPOSE) is required to read the outbox (INF-05)") }
        let client = try caller.client()
        let list = try await runCall {
            try await client.listOutbox(OrchestratorV1.ListOutboxRequest(deadOnly: dead), options: CallOptions(purpose: caller.purposeText))
        }
        if json {
            print((try? ProtoJSON.encode(list)) ?? "{}")
            return
        }
        print("\(dead ? "DEAD" : "OWED") STEPS (\(list.entries.count))")
        for entry in list.entries {
            let method = entry.method.split(separator: "/").last.map(String.init) ?? entry.method
            print(
                "  \(entry.stepId)  \(entry.status)  \(entry.service) \(method)  case \(entry.caseId)  attempts \(entry.attempts)"
                    + "\(entry.actingFor.isEmpty ? "" : "  for \(entry.actingFor)")")
            if !entry.lastError.isEmpty { print("      last error: \(entry.lastError)") }
        }
    }
}

/// Retry or discard a dead step, with the reason the case and the access log record.
struct SettleOptions: ParsableArguments {
    @Argument(help: "The step id (from hsbctl outbox --dead).") var stepID: String
    @Option(help: "Why: recorded on the case's chronology and the access log.") var reason: String
    @OptionGroup var caller: CallerOptions

    func settle(retry: Bool) async throws {
        let client = try caller.client()
        let request = OrchestratorV1.SettleStepRequest(stepId: stepID, reason: reason)
        let options = CallOptions(purpose: caller.purposeText)
        let entry = try await runCall {
            retry ? try await client.retryStep(request, options: options) : try await client.discardStep(request, options: options)
        }
        print("\(entry.stepId): \(entry.status)\(entry.lastError.isEmpty ? "" : " (last error: \(entry.lastError))")")
    }
}

struct OutboxRetry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retry", abstract: "Send a dead step again, from scratch.")
    @OptionGroup var options: SettleOptions
    func run() async throws { try await options.settle(retry: true) }
}

struct OutboxDiscard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "discard", abstract: "Give up a dead step for good.")
    @OptionGroup var options: SettleOptions
    func run() async throws { try await options.settle(retry: false) }
}

enum CasePrinter {
    static func date(_ millis: Int64) -> String { CaseText.date(millis) }

    static func deadlineLine(_ entry: OrchestratorV1.DeadlineEntry) -> String {
        "\(entry.dueUnixMs == 0 ? "no time limit".padding(21) : date(entry.dueUnixMs))  \(entry.caseId)  [\(entry.ruleId)] \(entry.description) (\(entry.assignee.isEmpty ? entry.owner.name : entry.assignee))"
    }

    static func stepLine(_ step: OrchestratorV1.Step) -> String { CaseText.step(step) }

    /// The case as a practitioner reads it: every section that has something in it, each
    /// decision line with its rule and the seed clause it comes from; `--json` is the whole reply
    /// in ProtoJSON, nothing picked out.
    static func render(_ view: OrchestratorV1.CaseView, json asJSON: Bool) -> String {
        if asJSON { return (try? ProtoJSON.encode(view)) ?? "{}" }
        let screening = view.screening
        var lines = ["Case \(view.caseId) — \(view.childSubjectId), \(CaseText.role(view)) — \(CaseText.status(view.status))"]
        func section(_ title: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            lines.append(title)
            lines += items.map { "  " + $0 }
        }
        if let screening, !screening.outcome.isEmpty {
            if !screening.profile.isEmpty { lines.append("Procedure in force: \(screening.profile)") }
            let grading = [
                screening.trafficLight.isEmpty ? nil : "Brook \(screening.trafficLight)",
                screening.continuum.isEmpty ? nil : "Hackett \(screening.continuum)",
                screening.riskCategory.isEmpty ? nil : "category \(screening.riskCategory)",
            ].compactMap { $0 }
            let outcome = screening.threshold.isEmpty ? screening.outcome : screening.threshold
            lines.append("Threshold: \(outcome)\(grading.isEmpty ? "" : " (\(grading.joined(separator: ", ")))")")

            section(
                "Behaviours (Brook traffic light\(screening.ageBand.isEmpty ? "" : ", \(screening.ageBand) band")):",
                screening.grades.map {
                    "\($0.grade.padding(6)) \($0.text)\($0.catalogueId.isEmpty ? "" : " (\($0.catalogueId))")\($0.gradedByIndicators ? " — graded by the harm indicators; confirm it" : "")"
                })
            section("Missing from the referral:", screening.missing)
            section(
                "Why (rule · seed clause):",
                CaseText.rationale(screening.decision?.rationale ?? "", citations: screening.decision?.citations ?? []).map { line in
                    guard let rule = line.ruleID else { return line.text }
                    return "\(line.text) [\(rule)\(line.source.map { " · \($0)" } ?? "")]"
                })
            section("For your judgement:", screening.forPractitionerJudgement)
            section("Notices owed:", screening.notices.map { "to \($0.recipient): \($0.reason) [\($0.ruleId)]" })
            section("Children harmed:", screening.harmedChildren.map { "\($0.subjectId): \($0.threshold) in their own right" })
        }
        section(
            "Routes:",
            view.routes.map { route in
                let lead =
                    route.lead.isEmpty
                    ? "" : route.lead == "joint" ? " — youth justice and social care jointly" : " — lead \(route.lead)"
                let coWorker = route.coWorker.isEmpty ? "" : ", co-worker \(route.coWorker)"
                return "\(route.route)\(lead)\(coWorker) [\(route.ruleIds.joined(separator: " "))]"
            })
        section("Alerts:", view.alerts)
        section(
            "Linked cases:",
            view.linked.map {
                "\($0.caseId): \($0.subjectId), \($0.role.replacingOccurrences(of: "-", with: " "))\($0.threshold.isEmpty ? "" : " — \($0.threshold)")"
            })
        section("Withheld from you (need to know):", view.withheld)
        section(
            "Deadlines:",
            view.deadlines.sorted { ($0.dueUnixMs == 0 ? Int64.max : $0.dueUnixMs) < ($1.dueUnixMs == 0 ? Int64.max : $1.dueUnixMs) }.map { entry in
                let mark = entry.status == "overdue" ? "OVERDUE " : entry.status == "done" ? "done    " : ""
                return "\(mark)\(deadlineLine(entry)) — \(entry.taskId)"
            })
        section(
            "Steps still owed:",
            view.steps.filter { $0.status != "delivered" }.map(stepLine))
        section(
            "Chronology:",
            view.chronology.map { "\(date($0.atUnixMs))  \($0.what)\($0.ruleIds.isEmpty ? "" : " [\($0.ruleIds.joined(separator: " "))]")" })
        section(
            "Disclosures:",
            view.disclosures.map {
                "to \($0.toService): \($0.what) for \($0.purpose); basis: \($0.lawfulBasis); consent: \($0.consent)\($0.parentsTold.isEmpty ? "" : "; parents \($0.parentsTold)")"
            })
        return lines.joined(separator: "\n")
    }
}

/// Records a police decision on a case through the orchestrator (youth justice receives it).
struct PoliceDecision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "police-decision", abstract: "Record a police decision on a case; youth justice opens the route it calls for (YJ-02, YJ-14).")

    @Argument(help: "The case id.") var caseID: String
    @Option(
        help: "charge, out-of-court-disposal, no-further-action, insufficient-evidence, released-under-investigation or investigation-continuing.")
    var decision: String
    @Option(help: "triage, youth-caution or youth-conditional-caution (with out-of-court-disposal).") var disposal: String?
    @Option(name: .customLong("date-of-birth"), help: "The young person's date of birth, YYYY-MM-DD.") var dateOfBirth: String
    @Option(name: .customLong("child"), help: "The young person's subject id.") var child: String
    @Flag(name: .customLong("concerns-remain"), help: "After no further action, concerns about the behaviour remain.") var concernsRemain = false
    @OptionGroup var caller: CallerOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    static let decisions: [String: YouthjusticeV1.PoliceDecision] = [
        "charge": .charge, "out-of-court-disposal": .outOfCourtDisposal, "no-further-action": .noFurtherAction,
        "insufficient-evidence": .insufficientEvidence, "released-under-investigation": .releasedUnderInvestigation,
        "investigation-continuing": .investigationContinuing,
    ]
    static let disposals: [String: YouthjusticeV1.OutOfCourtDisposal] = [
        "triage": .triage, "youth-caution": .youthCaution, "youth-conditional-caution": .youthConditionalCaution,
    ]

    func run() async throws {
        guard let decision = Self.decisions[decision] else {
            throw ValidationError("--decision must be one of \(Self.decisions.keys.sorted().joined(separator: ", "))")
        }
        var chosenDisposal = YouthjusticeV1.OutOfCourtDisposal.unspecified
        if let disposal {
            guard let value = Self.disposals[disposal] else {
                throw ValidationError("--disposal must be one of \(Self.disposals.keys.sorted().joined(separator: ", "))")
            }
            chosenDisposal = value
        }
        let birth = try await runCall { try ReferralFile.date(dateOfBirth, "--date-of-birth", "command line") }
        let request = YouthjusticeV1.RecordPoliceDecisionRequest(
            youngPerson: YouthjusticeV1.YoungPerson(subjectId: child, dateOfBirth: birth), decision: decision, disposal: chosenDisposal,
            concernsRemain: concernsRemain)
        let client = try caller.client()
        let view = try await runCall {
            try await client.recordEvent(
                try caller.recordEvent(
                    caseID: caseID, method: YouthjusticeV1.YouthJustice.Method.recordPoliceDecision.fullName, payload: try request.encoded()),
                options: CallOptions(purpose: caller.purposeText.isEmpty ? "police decision" : caller.purposeText))
        }
        print(CasePrinter.render(view, json: json))
    }
}

/// Marks a case's task done (by the agency it falls to, or social care).
struct Done: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Mark a task of a case done; its deadline leaves the overdue and due lists.")

    @Argument(help: "The case id.") var caseID: String
    @Argument(help: "The task id, as `hsbctl case` shows it in --json (e.g. SCR-18/assessment/child-1).") var taskID: String
    @Option(help: "A note for the chronology.") var note: String = ""
    @OptionGroup var caller: CallerOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let client = try caller.client()
        let view = try await runCall {
            try await client.completeTask(
                OrchestratorV1.CompleteTaskRequest(caseId: caseID, taskId: taskID, note: note),
                options: CallOptions(purpose: caller.purposeText.isEmpty ? "task done" : caller.purposeText))
        }
        print(CasePrinter.render(view, json: json))
    }
}
