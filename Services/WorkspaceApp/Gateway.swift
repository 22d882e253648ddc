import Foundation
import HSBContract
public import HSBRuntime
public import HSBServiceKit
public import HSBWire
import NIOPosix

/// One agency's credentials on this workspace: its certificate for the link to the orchestrator
/// and its act-signing key, as `hsbctl pki issue` writes them.
public struct AgencyCredential: Sendable {
    public let agency: Agency
    let tls: TLSMaterial
    /// Nil for an agency that only reads (the partnership's operators): it records no act.
    let actSigner: ActSigner?

    /// `<dir>/<agency>.pem`, `-key.pem`, the CA `<dir>/ca.pem`, and unless `acts` is false the
    /// act-signing `-act.pem` and `-act-key.pem`.
    public init(agency: Agency, directory: String, acts: Bool = true) throws {
        let base = "\(directory)/\(agency.name)"
        let files = try TransportOptions.files(
            certificate: base + ".pem", key: base + "-key.pem", trustedCAs: directory + "/ca.pem", allowTLS12: false)
        guard let material = try TransportOptions.material(files) else { throw ConfigurationError("no TLS material in \(directory)") }
        guard material.agency == agency else {
            throw ConfigurationError("\(base).pem is \(material.agency.name)'s certificate, not \(agency.name)'s")
        }
        self.agency = agency
        self.tls = material
        guard acts else {
            self.actSigner = nil
            return
        }
        let signer: ActSigner
        do {
            signer = try ActSigner(certificateFile: base + "-act.pem", keyFile: base + "-act-key.pem")
        } catch {
            throw ConfigurationError("\(agency.name)'s act-signing certificate: \(error)")
        }
        guard signer.agency == agency else { throw ConfigurationError("\(base)-act.pem is \(signer.agency.name)'s, not \(agency.name)'s") }
        self.actSigner = signer
    }
}

/// Who a request is made by: a signed-in practitioner of one agency.
public struct Practitioner: Sendable, Equatable {
    public let username: String
    public let agency: Agency
    public let role: Role
}

/// The workspace's only way to the cases: the orchestrator's typed client, one connection per
/// agency (its certificate proves the agency), each call naming the practitioner and why.
/// The workspace keeps no case data of its own.
public final class OrchestratorGateway: Sendable {
    let clients: [Agency: OrchestratorV1.Orchestrator.Client]
    let transports: [RPCClient]
    let signers: [Agency: ActSigner]
    let credentials: [Agency: AgencyCredential]
    public let endpoints: [ServiceEndpoint]
    let timeout: Duration

    public init(orchestrator: ServiceEndpoint, credentials: [AgencyCredential], endpoints: [ServiceEndpoint], timeout: Duration = .seconds(15)) {
        var clients: [Agency: OrchestratorV1.Orchestrator.Client] = [:]
        var transports: [RPCClient] = []
        for credential in credentials {
            let transport = RPCClient(
                configuration: RPCClientConfiguration(
                    host: orchestrator.host, port: orchestrator.port, tls: credential.tls, expectedAgency: .orchestrator),
                signer: RequestSigner(agency: credential.agency), group: MultiThreadedEventLoopGroup.singleton)
            transports.append(transport)
            clients[credential.agency] = OrchestratorV1.Orchestrator.Client(transport)
        }
        self.clients = clients
        self.transports = transports
        self.signers = Dictionary(uniqueKeysWithValues: credentials.compactMap { credential in credential.actSigner.map { (credential.agency, $0) } })
        self.credentials = Dictionary(uniqueKeysWithValues: credentials.map { ($0.agency, $0) })
        self.endpoints = endpoints
        self.timeout = timeout
    }

    public var agencies: Set<Agency> { Set(clients.keys) }

    func client(_ who: Practitioner) throws(RPCError) -> OrchestratorV1.Orchestrator.Client {
        // An account of an agency this workspace holds no credential for cannot act at all.
        guard let client = clients[who.agency] else {
            throw RPCError(.permissionDenied, "this workspace holds no credential for \(who.agency.name)")
        }
        return client
    }

    func options(_ who: Practitioner, purpose: String, key: String? = nil) -> CallOptions {
        CallOptions(timeout: timeout, idempotencyKey: key, purpose: purpose, user: who.username)
    }

    public func getCase(_ id: String, by who: Practitioner, purpose: String) async throws -> OrchestratorV1.CaseView {
        try await client(who).getCase(OrchestratorV1.GetCaseRequest(caseId: id), options: options(who, purpose: purpose))
    }

    public func deadlines(withinDays days: Int32, by who: Practitioner) async throws -> OrchestratorV1.DeadlineList {
        var overdue: [OrchestratorV1.DeadlineEntry] = []
        var due: [OrchestratorV1.DeadlineEntry] = []
        var token = ""
        // A page at a time, at most ten pages (10,000 entries): a tray is read, not exported.
        for _ in 0..<10 {
            let page = try await client(who).listDeadlines(
                OrchestratorV1.ListDeadlinesRequest(withinDays: days, pageSize: 1000, pageToken: token), options: options(who, purpose: "work tray"))
            overdue += page.overdue
            due += page.dueSoon
            token = page.nextPageToken
            if token.isEmpty { break }
        }
        return OrchestratorV1.DeadlineList(overdue: overdue, dueSoon: due, nextPageToken: token)
    }

    public func submit(_ referral: IntakeV1.Referral, key: String, by who: Practitioner) async throws -> OrchestratorV1.CaseView {
        try await client(who).submitReferral(
            OrchestratorV1.SubmitReferralRequest(referral: referral), options: options(who, purpose: "referral", key: key))
    }

    /// Records an act on a case, signed with the practitioner's agency's act key and naming them.
    public func record(
        caseID: String, method: String, payload: [UInt8], key: String, by who: Practitioner, purpose: String
    ) async throws
        -> OrchestratorV1.CaseView
    {
        guard let signer = signers[who.agency] else { throw RPCError(.permissionDenied, "this workspace holds no act key for \(who.agency.name)") }
        var request = OrchestratorV1.RecordEventRequest(caseId: caseID, method: method, payload: payload)
        request.actorProof = try signer.sign(
            caseID: caseID, method: method, payload: payload, user: who.username, nowUnixMillis: SystemWallClock().nowUnixMillis())
        return try await client(who).recordEvent(request, options: options(who, purpose: purpose, key: key))
    }

    public func complete(caseID: String, taskID: String, note: String, key: String, by who: Practitioner) async throws -> OrchestratorV1.CaseView {
        try await client(who).completeTask(
            OrchestratorV1.CompleteTaskRequest(caseId: caseID, taskId: taskID, note: note), options: options(who, purpose: "task done", key: key))
    }

    public func outbox(deadOnly: Bool, by who: Practitioner) async throws -> OrchestratorV1.OutboxList {
        try await client(who).listOutbox(OrchestratorV1.ListOutboxRequest(deadOnly: deadOnly), options: options(who, purpose: "ops page"))
    }

    /// Every service's Health/Check, over the ops agency's link when this workspace holds it.
    public func health(as agency: Agency) async -> [ReadinessCheck] {
        await AgencyReachability(endpoints: endpoints, group: MultiThreadedEventLoopGroup.singleton, tls: credentials[agency]?.tls).check()
    }

    public func close() async {
        for transport in transports { await transport.close() }
    }
}
