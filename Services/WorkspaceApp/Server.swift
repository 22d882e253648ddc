import Foundation
import HSBContract
import HSBPractice
public import HSBRuntime
import HSBSafeguarding
import HSBWire
public import Hummingbird
public import HummingbirdAuth
import HummingbirdBcrypt
public import Logging
import Mustache
import NIOCore
import NIOPosix

/// What a browser's session holds: the CSRF token from its first page, and once signed in who
/// it is. Kept in the workspace's memory only (a restart signs everyone out).
public struct WorkspaceSession: Codable, Sendable {
    var csrf: String
    var username: String?
    var signedInAt: Int64 = 0
    var lastSeen: Int64 = 0
    var flash: String?
}

public typealias WorkspaceContext = BasicSessionRequestContext<WorkspaceSession, Practitioner>

public struct WorkspaceConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var accounts: [String: Account]
    public var throttle: LoginThrottle.Policy
    /// A session ends after this long without a request, and at most `maxSession` after sign-in.
    public var idle: Duration
    public var maxSession: Duration
    /// Session cookies carry `Secure`: true unless the workspace is reached over plain HTTP on
    /// loopback (browsers treat http://127.0.0.1 as secure; a proxy terminates TLS elsewhere).
    public var secureCookies: Bool

    public init(
        host: String = "127.0.0.1", port: Int = 7300, accounts: [String: Account], throttle: LoginThrottle.Policy = .init(),
        idle: Duration = .seconds(30 * 60), maxSession: Duration = .seconds(10 * 3600), secureCookies: Bool = true
    ) {
        self.host = host
        self.port = port
        self.accounts = accounts
        self.throttle = throttle
        self.idle = idle
        self.maxSession = maxSession
        self.secureCookies = secureCookies
    }
}

/// The practitioners' workspace: server-rendered pages over the orchestrator's typed client.
public struct Workspace: Sendable {
    let configuration: WorkspaceConfiguration
    let gateway: OrchestratorGateway
    /// The orchestrator's ops port, for the ops page's gauges; nil: not shown.
    let metrics: MetricsSource?
    let throttle: LoginThrottle
    let library: MustacheLibrary
    let clock: @Sendable () -> Int64
    /// Verified against when a username is unknown, so an unknown name costs the same time as a
    /// wrong password (bcrypt of a random password at the accounts' usual cost).
    let decoyHash: String

    public init(
        configuration: WorkspaceConfiguration, gateway: OrchestratorGateway, metrics: MetricsSource? = nil,
        clock: @escaping @Sendable () -> Int64 = { SystemWallClock().nowUnixMillis() }
    ) throws {
        self.configuration = configuration
        self.gateway = gateway
        self.metrics = metrics
        self.throttle = LoginThrottle(policy: configuration.throttle)
        self.clock = clock
        let cost = configuration.accounts.values.first.flatMap { UInt8($0.passwordHash.dropFirst(4).prefix(2)) } ?? 12
        self.decoyHash = Bcrypt.hash(Self.token(), cost: cost)
        MustacheContentTypes.register(WorkspaceHTMLContentType(), named: WorkspaceHTMLContentType.name)
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in [
            ("layout", Templates.layout), ("errorSummary", Templates.errorSummary), ("field", Templates.field), ("signIn", Templates.signIn),
            ("tray", Templates.tray), ("referral", Templates.referral), ("case", Templates.casePage), ("event", Templates.event),
            ("rules", Templates.rules), ("rule", Templates.rule), ("ops", Templates.ops), ("message", Templates.message),
        ] {
            templates[name] = try MustacheTemplate(string: WorkspaceHTMLContentType.pragma + text)
        }
        self.library = MustacheLibrary(templates: templates)
    }

    /// 128 random bits in hex: CSRF tokens and form submission keys.
    static func token() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(16) }.joined()
    }

    static func validToken(_ text: String) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    // MARK: Application

    public func application(logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        // Sessions in memory; the driver runs as a service of the application, dropping expired ones.
        let sessions = MemoryPersistDriver(configuration: .init(tidyFrequency: .seconds(60)))
        let router = Router(context: WorkspaceContext.self)
        router.add(middleware: SecurityHeaders())
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/assets/workspace.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: Stylesheet.css)))
        }
        router.add(
            middleware: SessionMiddleware(
                storage: sessions,
                configuration: SessionMiddlewareConfiguration(
                    sessionCookieParameters: SessionCookieParameters(
                        name: "hsb_session", path: "/", secure: configuration.secureCookies, sameSite: .strict),
                    defaultSessionExpiration: configuration.idle)))
        router.add(middleware: CSRFMiddleware(workspace: self))
        router.get("/sign-in") { request, context in try await signInPage(request, context: context, username: "", errors: FormErrors()) }
        router.post("/sign-in") { request, context in try await signIn(request, context: context) }
        let signedIn = router.group().add(middleware: SignedInMiddleware(workspace: self))
        signedIn.post("/sign-out") { _, context in
            context.sessions.clearSession()
            return Response.redirect(to: "/sign-in", type: .normal)
        }
        signedIn.get("/") { _, context in
            Response.redirect(to: context.identity?.role == .ops ? "/ops" : "/tray", type: .normal)
        }
        signedIn.get("/tray") { request, context in try await tray(request, context: context) }
        signedIn.get("/cases") { request, context in
            let id = request.uri.queryParameters["id"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
            guard Self.validCaseID(id) else { return try page(context, "Case not found", "message", notFound(id), status: .notFound) }
            return Response.redirect(to: "/cases/\(id)", type: .normal)
        }
        signedIn.get("/cases/:id") { _, context in try await casePage(context: context) }
        signedIn.get("/cases/:id/events/:form") { _, context in try await eventPage(nil, context: context) }
        signedIn.post("/cases/:id/events/:form") { request, context in try await eventPage(request, context: context) }
        signedIn.post("/cases/:id/tasks") { request, context in try await completeTask(request, context: context) }
        signedIn.get("/referrals/new") { _, context in try await referralPage(nil, context: context) }
        signedIn.post("/referrals/new") { request, context in try await referralPage(request, context: context) }
        signedIn.get("/rules") { _, context in try page(context, "The procedures' rules", "rules", Views.rules()) }
        signedIn.get("/rules/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let rule = RuleCatalogue.rule(id.uppercased()) else {
                return try page(
                    context, "No such rule", "message",
                    ["heading": "No such rule", "message": "There is no rule \(id).", "back": "/rules", "backLabel": "Every rule"], status: .notFound)
            }
            return try page(context, rule.id, "rule", Views.rule(rule))
        }
        signedIn.get("/ops") { _, context in try await opsPage(context: context) }
        return Application(
            router: router, server: .http1(configuration: .init(idleTimeout: .seconds(60))),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "hsb-workspace"),
            services: [sessions], onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    // MARK: Rendering

    func render(_ template: String, _ model: [String: Any]) -> String { library.render(model, withTemplate: template) ?? "" }

    func page(
        _ context: WorkspaceContext, _ title: String, _ template: String, _ model: [String: Any], status: HTTPResponse.Status = .ok
    ) throws
        -> Response
    {
        var layout: [String: Any] = ["title": title, "body": render(template, model), "hasErrors": (model["hasErrors"] as? Bool) ?? false]
        if let who = context.identity {
            let session = context.sessions.session
            layout["signedIn"] = true
            layout["username"] = who.username
            layout["agencyLabel"] = Views.agencyLabel(who.agency)
            layout["csrf"] = session?.csrf ?? ""
            if let flash = session?.flash, var updated = session {
                layout["flash"] = flash
                updated.flash = nil
                _ = context.sessions.updateSession(updated)
            }
            let items: [(String, String)] =
                who.role == .ops
                ? [("/ops", "Operations"), ("/rules", "Rules")] : [("/tray", "Work tray"), ("/referrals/new", "New referral"), ("/rules", "Rules")]
            let path = context.coreContext.endpointPath.value ?? ""
            layout["nav"] = items.map {
                ["href": $0.0, "label": $0.1, "current": path == $0.0 || (path.hasPrefix($0.0) && $0.0 != "/")] as [String: Any]
            }
        }
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: render("layout", layout))))
    }

    func message(_ context: WorkspaceContext, _ heading: String, _ text: String, status: HTTPResponse.Status) throws -> Response {
        try page(context, heading, "message", ["heading": heading, "message": text, "back": "/", "backLabel": "Back to the start"], status: status)
    }

    func notFound(_ id: String) -> [String: Any] {
        [
            "heading": "Case not found", "message": "There is no case \(ProtoJSON.quotedExcerpt(id)) that your agency may see.", "back": "/tray",
            "backLabel": "Back to the work tray",
        ]
    }

    /// The orchestrator's refusal or failure as a page a practitioner can act on.
    func failure(_ error: any Error, context: WorkspaceContext, caseID: String? = nil) throws -> Response {
        guard let error = error as? RPCError else { throw error }
        switch error.code {
        case .notFound where caseID != nil:
            return try page(context, "Case not found", "message", notFound(caseID ?? ""), status: .notFound)
        case .permissionDenied, .unauthenticated:
            return try message(context, "Not for your agency", "Your agency may not do this: \(error.message)", status: .forbidden)
        case .unavailable, .deadlineExceeded:
            context.logger.warning("orchestrator unreachable", metadata: ["error": "\(error.code): \(error.message)"])
            return try message(
                context, "The case service cannot be reached", "Nothing was changed. Try again in a minute; if it goes on, tell your service desk.",
                status: .serviceUnavailable)
        default:
            return try message(context, "The case service refused this", error.message, status: .unprocessableContent)
        }
    }

    static func validCaseID(_ id: String) -> Bool {
        (1...100).contains(id.utf8.count)
            && id.utf8.allSatisfy {
                $0 == 0x2d || $0 == 0x5f || (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0)
            }
    }

    static func form(_ request: Request) async throws -> FormBody {
        var request = request
        let buffer = try await request.collectBody(upTo: FormBody.maxBytes)
        do { return try FormBody(buffer.readableBytesView) } catch { throw HTTPError(.badRequest, message: error.description) }
    }

    func now() -> Int64 { clock() }

    func practitioner(_ context: WorkspaceContext) throws -> Practitioner {
        guard let who = context.identity else { throw HTTPError(.unauthorized) }
        return who
    }

    // MARK: Sign in

    /// The sign-in form's CSRF token: a random value in a cookie of its own and in the form (the
    /// double-submit pattern), so no session exists until someone has signed in and a stream of
    /// anonymous requests stores nothing.
    static let signInCookie = "hsb_signin"

    func signInPage(
        _ request: Request, context: WorkspaceContext, username: String, errors: FormErrors, status: HTTPResponse.Status = .ok
    )
        async throws -> Response
    {
        let existing = request.cookies[Self.signInCookie]?.value ?? ""
        let token = Self.validToken(existing) ? existing : Self.token()
        let model = Views.signIn(
            csrf: token, username: username, errors: errors, policy: configuration.throttle,
            idleMinutes: Int(configuration.idle.components.seconds / 60))
        var response = try page(context, "Sign in", "signIn", model, status: status)
        if token != existing {
            response.setCookie(
                Cookie(name: Self.signInCookie, value: token, maxAge: 3600, path: "/sign-in", secure: configuration.secureCookies, sameSite: .strict))
        }
        return response
    }

    func signIn(_ request: Request, context: WorkspaceContext) async throws -> Response {
        let form = try await Self.form(request)
        let username = form["username"].lowercased()
        let password = form.pairs.first { $0.0 == "password" }?.1 ?? ""
        var errors = FormErrors()
        if username.isEmpty { errors.add("username", "Enter your username") }
        if password.isEmpty { errors.add("password", "Enter your password") }
        guard errors.isEmpty, AccountsFile.validUsername(username), password.utf8.count <= 1024 else {
            if errors.isEmpty { errors.add("username", "Enter a correct username and password") }
            return try await signInPage(request, context: context, username: username, errors: errors, status: .unprocessableContent)
        }
        if let until = throttle.lockedUntil(username, now: now()) {
            context.logger.notice("sign-in refused: locked", metadata: ["user": "\(username)"])
            errors.add(
                "username", "Too many wrong passwords: this account is locked until \(CaseText.date(until)). Ask your manager if you need it sooner.")
            return try await signInPage(request, context: context, username: username, errors: errors, status: .tooManyRequests)
        }
        let account = configuration.accounts[username]
        let hash = account?.passwordHash ?? decoyHash
        // bcrypt takes a quarter of a second by design: off the event loops.
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
        guard let account, matches, gateway.agencies.contains(account.agency) || account.role == .ops else {
            if let until = throttle.failed(username, now: now()) {
                context.logger.notice("sign-in locked after repeated failures", metadata: ["user": "\(username)"])
                errors.add(
                    "username",
                    "Too many wrong passwords: this account is locked until \(CaseText.date(until)). Ask your manager if you need it sooner.")
                return try await signInPage(request, context: context, username: username, errors: errors, status: .tooManyRequests)
            }
            context.logger.notice("sign-in failed", metadata: ["user": "\(username)"])
            errors.add("username", "Enter a correct username and password")
            return try await signInPage(request, context: context, username: username, errors: errors, status: .unprocessableContent)
        }
        throttle.succeeded(username)
        context.logger.info("signed in", metadata: ["user": "\(username)", "agency": "\(account.agency.name)"])
        // A new session (and cookie) at sign-in: a session id known before it is worthless after.
        context.sessions.clearSession()
        let at = now()
        context.sessions.createSession(
            WorkspaceSession(csrf: Self.token(), username: username, signedInAt: at, lastSeen: at), expiresIn: configuration.idle)
        return Response.redirect(to: account.role == .ops ? "/ops" : "/tray", type: .normal)
    }

    // MARK: Pages

    func requirePractitioner(_ context: WorkspaceContext) throws -> Practitioner? {
        let who = try practitioner(context)
        return who.role == .practitioner ? who : nil
    }

    func tray(_ request: Request, context: WorkspaceContext) async throws -> Response {
        guard let who = try requirePractitioner(context) else {
            return try message(context, "Not for operations", "Cases are for practitioners.", status: .forbidden)
        }
        let owner = request.uri.queryParameters["owner"].map(String.init) == "mine" ? "mine" : "team"
        let kindText = request.uri.queryParameters["kind"].map(String.init) ?? ""
        let kind = Views.trayKinds.contains { $0.0 == kindText } ? kindText : ""
        do {
            let list = try await gateway.deadlines(withinDays: 7, by: who)
            return try page(context, "Work tray", "tray", Views.tray(list, who: who, owner: owner, kind: kind))
        } catch {
            return try failure(error, context: context)
        }
    }

    func casePage(context: WorkspaceContext) async throws -> Response {
        guard let who = try requirePractitioner(context) else {
            return try message(context, "Not for operations", "Cases are for practitioners.", status: .forbidden)
        }
        let id = context.parameters.get("id") ?? ""
        guard Self.validCaseID(id) else { return try page(context, "Case not found", "message", notFound(id), status: .notFound) }
        do {
            let view = try await gateway.getCase(id, by: who, purpose: "case page")
            let csrf = context.sessions.session?.csrf ?? ""
            return try page(context, "Case \(view.caseId)", "case", Views.casePage(view, who: who, csrf: csrf, submission: Self.token()))
        } catch {
            return try failure(error, context: context, caseID: id)
        }
    }

    func eventPage(_ request: Request?, context: WorkspaceContext) async throws -> Response {
        guard let who = try requirePractitioner(context) else {
            return try message(context, "Not for operations", "Cases are for practitioners.", status: .forbidden)
        }
        let id = context.parameters.get("id") ?? ""
        guard Self.validCaseID(id) else { return try page(context, "Case not found", "message", notFound(id), status: .notFound) }
        guard let form = EventForm.named(context.parameters.get("form") ?? "") else {
            return try message(context, "No such form", "There is no such event to record.", status: .notFound)
        }
        guard form.permits(who.agency) else {
            return try message(
                context, "Not for your agency", "\(Views.agencyLabel(who.agency)) does not record \(form.title.lowercased()).", status: .forbidden)
        }
        let view: OrchestratorV1.CaseView
        do { view = try await gateway.getCase(id, by: who, purpose: form.title.lowercased()) } catch {
            return try failure(error, context: context, caseID: id)
        }
        let csrf = context.sessions.session?.csrf ?? ""
        guard let request else {
            return try page(
                context, form.title, "event", Views.event(form, view: view, posted: nil, errors: FormErrors(), submission: Self.token(), csrf: csrf))
        }
        let posted = try await Self.form(request)
        let submission = posted["submission"]
        guard Self.validToken(submission) else { throw HTTPError(.badRequest, message: "the form's submission key is missing") }
        switch form.payload(posted, referralID: view.screening?.referralId ?? "") {
        case .failure(let errors):
            return try page(
                context, form.title, "event", Views.event(form, view: view, posted: posted, errors: errors, submission: submission, csrf: csrf),
                status: .unprocessableContent)
        case .success(let payload):
            do {
                let closing = form.closing(in: view, reviewedPlan: posted["reviewed_plan"].isEmpty ? nil : posted["reviewed_plan"])
                let after = try await gateway.record(
                    caseID: id, method: form.kind.method, payload: payload, key: "workspace-\(who.username)-\(submission)", by: who,
                    purpose: form.title.lowercased())
                let step = after.steps.first { $0.stepId == after.stepId }
                var note = "Recorded: \(form.title.lowercased())."
                if let step {
                    switch CaseText.state(step) {
                    case .refused: note = "\(step.service) refused the \(form.title.lowercased()): \(step.lastError)"
                    case .pending: note += " \(step.service) has not received it yet; the orchestrator keeps trying."
                    default:
                        let closed = closing.filter { entry in after.deadlines.contains { $0.taskId == entry.taskId && $0.status == "done" } }
                        if !closed.isEmpty { note += " Closed: " + closed.map { "\($0.description) (\($0.ruleId))" }.joined(separator: "; ") + "." }
                    }
                }
                flash(note, context: context)
                return Response.redirect(to: "/cases/\(id)", type: .normal)
            } catch {
                return try failure(error, context: context, caseID: id)
            }
        }
    }

    /// Marks one of the case's tasks done (the agency it falls to, or social care; the
    /// orchestrator decides), keyed so that a second press of the same button is the same act.
    func completeTask(_ request: Request, context: WorkspaceContext) async throws -> Response {
        guard let who = try requirePractitioner(context) else {
            return try message(context, "Not for operations", "Cases are for practitioners.", status: .forbidden)
        }
        let id = context.parameters.get("id") ?? ""
        guard Self.validCaseID(id) else { return try page(context, "Case not found", "message", notFound(id), status: .notFound) }
        let posted = try await Self.form(request)
        let task = posted["task"]
        let submission = posted["submission"]
        guard Self.validToken(submission), (1...300).contains(task.utf8.count) else {
            throw HTTPError(.badRequest, message: "the form's task or submission key is missing")
        }
        do {
            let view = try await gateway.complete(caseID: id, taskID: task, note: "", key: "workspace-\(who.username)-\(submission)-\(task)", by: who)
            let done = view.deadlines.first { $0.taskId == task }
            flash("Marked done: \(done?.description ?? task).", context: context)
            return Response.redirect(to: "/cases/\(id)", type: .normal)
        } catch {
            return try failure(error, context: context, caseID: id)
        }
    }

    func flash(_ text: String, context: WorkspaceContext) {
        guard var session = context.sessions.session else { return }
        session.flash = text
        _ = context.sessions.updateSession(session)
    }

    func referralPage(_ request: Request?, context: WorkspaceContext) async throws -> Response {
        guard let who = try requirePractitioner(context) else {
            return try message(context, "Not for operations", "Cases are for practitioners.", status: .forbidden)
        }
        let csrf = context.sessions.session?.csrf ?? ""
        let today = CaseText.localDate(now())
        guard let request else {
            return try page(
                context, "New referral", "referral",
                Views.referral(nil, errors: FormErrors(), band: nil, who: who, submission: Self.token(), csrf: csrf))
        }
        let posted = try await Self.form(request)
        let submission = posted["submission"]
        guard Self.validToken(submission) else { throw HTTPError(.badRequest, message: "the form's submission key is missing") }
        let band = ReferralForm.band(posted, today: today)
        if posted["action"] == "behaviours" {
            var errors = FormErrors()
            if band == nil {
                errors.add("child.date_of_birth", "Enter a date of birth on or before the incident date to see the behaviours for the child's age")
            }
            return try page(
                context, "New referral", "referral", Views.referral(posted, errors: errors, band: band, who: who, submission: submission, csrf: csrf),
                status: errors.isEmpty ? .ok : .unprocessableContent)
        }
        switch ReferralForm.read(posted, today: today) {
        case .failure(let errors):
            return try page(
                context, "New referral", "referral", Views.referral(posted, errors: errors, band: band, who: who, submission: submission, csrf: csrf),
                status: .unprocessableContent)
        case .success(let referral):
            do {
                let view = try await gateway.submit(referral, key: "workspace-\(who.username)-\(submission)", by: who)
                flash("Referral taken: \(CaseText.status(view.status)). The decision and its reasons are below.", context: context)
                return Response.redirect(to: "/cases/\(view.caseId)", type: .normal)
            } catch let error as RPCError where error.code == .invalidArgument {
                var errors = FormErrors()
                errors.add("child.subject_id", "Intake refused the referral: \(error.message)")
                return try page(
                    context, "New referral", "referral",
                    Views.referral(posted, errors: errors, band: band, who: who, submission: submission, csrf: csrf),
                    status: .unprocessableContent)
            } catch {
                return try failure(error, context: context)
            }
        }
    }

    func opsPage(context: WorkspaceContext) async throws -> Response {
        let who = try practitioner(context)
        guard who.role == .ops else {
            return try message(context, "For operations only", "This page is for the partnership's operators.", status: .forbidden)
        }
        async let health = gateway.health(as: who.agency)
        async let dead = try? gateway.outbox(deadOnly: true, by: who)
        async let gauges = metrics?.gauges()
        let checks = await health
        let deadList = await dead
        var model: [String: Any] = [
            "health": checks.map {
                [
                    "name": $0.name, "state": $0.ok ? "Serving" : "Not serving", "tag": $0.ok ? "tag-green" : "tag-red",
                    "detail": $0.cause ?? $0.detail,
                ] as [String: Any]
            },
            "hasDead": !(deadList?.entries.isEmpty ?? true),
            "dead": (deadList?.entries ?? []).map {
                ["stepId": $0.stepId, "service": $0.service, "caseId": $0.caseId, "attempts": $0.attempts, "lastError": $0.lastError] as [String: Any]
            },
        ]
        func count(_ value: Double?) -> String { value.map { String(Int($0)) } ?? "not reported" }
        switch await gauges {
        case .success(let gauges)?:
            model["hasGauges"] = true
            model["gauges"] = [
                ["name": "Overdue deadlines", "value": count(gauges.overdue)],
                ["name": "Steps owed to agencies", "value": count(gauges.outboxPending)],
                ["name": "Oldest step owed (seconds)", "value": count(gauges.oldestPendingSeconds)],
                ["name": "Steps given up (dead)", "value": count(gauges.outboxDead)],
            ]
            model["hasKinds"] = !gauges.overdueByKind.isEmpty
            model["kinds"] = gauges.overdueByKind.map {
                ["rule": $0.rule, "task": $0.task, "owner": $0.owner, "count": Int($0.count)] as [String: Any]
            }
        case .failure(let unavailable)?:
            model["gaugesError"] = "The orchestrator's gauges could not be read: \(unavailable.reason)"
        case nil:
            model["gaugesError"] = "No orchestrator ops port is configured (--orchestrator-metrics)."
        }
        return try page(context, "Operations", "ops", model)
    }
}

// MARK: Middleware

/// Headers on every response: no framing, no sniffing, no referrer, nothing cached that holds a
/// child's record, and only the workspace's own stylesheet and forms.
struct SecurityHeaders: RouterMiddleware {
    typealias Context = WorkspaceContext
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            // A refusal thrown by a handler (a form that does not parse) gets the same headers.
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Every POST carries the session's CSRF token in its `csrf` field, or is refused before any
/// handler reads it.
struct CSRFMiddleware: RouterMiddleware {
    typealias Context = WorkspaceContext
    let workspace: Workspace
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        var request = request
        let buffer = try await request.collectBody(upTo: FormBody.maxBytes)
        let form: FormBody
        do { form = try FormBody(buffer.readableBytesView) } catch { throw HTTPError(.badRequest, message: error.description) }
        // Before sign-in the token is the sign-in cookie's; after it, the session's.
        let expected = request.uri.path == "/sign-in" ? request.cookies[Workspace.signInCookie]?.value : context.sessions.session?.csrf
        guard let expected, Self.equal(form["csrf"], expected) else {
            context.logger.notice("form refused: CSRF token missing or wrong", metadata: ["path": "\(request.uri.path)"])
            return try workspace.message(
                context, "This form has expired",
                "The page was open too long, or came from somewhere else. Nothing was changed: go back, reload the page and try again.",
                status: .forbidden)
        }
        return try await next(request, context)
    }

    /// Compares in time independent of where the texts differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Pages past sign-in: the session names an account that still exists, used within the idle
/// limit and the session's maximum life; otherwise back to sign in.
struct SignedInMiddleware: RouterMiddleware {
    typealias Context = WorkspaceContext
    let workspace: Workspace
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let now = workspace.now()
        let configuration = workspace.configuration
        guard var session = context.sessions.session, let username = session.username, let account = configuration.accounts[username] else {
            return Response.redirect(to: "/sign-in", type: .normal)
        }
        let idle = configuration.idle.components.seconds * 1000
        let maximum = configuration.maxSession.components.seconds * 1000
        guard now - session.lastSeen <= idle, now - session.signedInAt <= maximum else {
            context.sessions.clearSession()
            return Response.redirect(to: "/sign-in", type: .normal)
        }
        // Refreshed at most once a minute: a session is written back only when its idle clock moves.
        if now - session.lastSeen > 60_000 {
            session.lastSeen = now
            _ = context.sessions.updateSession(session, expiresIn: configuration.idle)
        }
        var context = context
        context.identity = Practitioner(username: account.username, agency: account.agency, role: account.role)
        return try await next(request, context)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
