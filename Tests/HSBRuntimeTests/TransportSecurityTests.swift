import Foundation
import HSBRuntime
import HSBServiceKit
import HSBWire
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import Testing

/// A partnership CA and agency certificates written to a folder of their own, as `hsbctl pki`
/// writes them.
struct TestPKI: Sendable {
    let dir: String
    let ca: PartnershipPKI.Issued

    init(name: String = "Test") throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Made 90 days ago, so that tests can sign with certificates it issued in the past.
        ca = try PartnershipPKI.makeCA(name: name, now: Date() - 90 * 86_400)
        try ca.certificatePEM.write(toFile: "\(dir)/ca.pem", atomically: true, encoding: .utf8)
    }

    /// Issues `agency`'s certificate as `<file>.pem` and `<file>-key.pem`; the files for TLS with this CA trusted.
    @discardableResult
    func issue(_ agency: Agency, file: String? = nil, notBefore: Date? = nil, days: Int = 30, trust: String? = nil) throws -> TLSFiles {
        let issued = try PartnershipPKI.issue(
            agency: agency, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], by: ca, notBefore: notBefore, days: days)
        let base = "\(dir)/\(file ?? agency.name)"
        try issued.certificatePEM.write(toFile: base + ".pem", atomically: true, encoding: .utf8)
        try issued.keyPEM.write(toFile: base + "-key.pem", atomically: true, encoding: .utf8)
        return TLSFiles(certificate: base + ".pem", key: base + "-key.pem", trustedCAs: trust ?? "\(dir)/ca.pem")
    }

    func material(_ agency: Agency, now: Date = Date()) throws -> TLSMaterial {
        try TLSMaterial(files: try issue(agency), now: now)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

/// Answers with who the caller was proven to be: "agency user".
let whoAmI = MethodHandler(method: "test.v1.Who/Am", policy: .anyAuthenticated) { context, _ in
    let caller = try context.requireCaller()
    return Array("\(caller.agency.name) \(caller.user)".utf8)
}

func tlsClient(port: Int, tls: TLSMaterial?, as agency: Agency, expecting: Agency? = nil) -> RPCClient {
    RPCClient(
        configuration: RPCClientConfiguration(host: "127.0.0.1", port: port, retry: .none, tls: tls, expectedAgency: expecting),
        signer: RequestSigner(agency: agency, user: "a practitioner"), group: MultiThreadedEventLoopGroup.singleton)
}

/// Runs `body` against a TLS service of `agency` (certificate from `pki`), beside a second CA
/// (`other`) that signed nothing the service trusts; removes all of it afterwards.
func withTLSService(
    _ agency: Agency = .socialCare, _ body: (_ pki: TestPKI, _ other: TestPKI, _ server: TestHost) async throws -> Void
) async throws {
    let pki = try TestPKI()
    let other = try TestPKI(name: "Elsewhere")
    let server = try await TestHost.start(handlers: [whoAmI], tls: try pki.material(agency))
    do {
        try await body(pki, other, server)
    } catch {
        await server.stop()
        pki.remove()
        other.remove()
        throw error
    }
    await server.stop()
    pki.remove()
    other.remove()
}

/// The error a call to `whoAmI` fails with (an expectation fails if it succeeds); the client is closed.
func refusal(of client: RPCClient) async -> RPCError? {
    let error = await #expect(throws: RPCError.self) { try await client.call("test.v1.Who/Am", payload: []) }
    await client.close()
    return error
}

@Suite("Mutual TLS: the caller's agency is its certificate's, and every other peer is refused with a named reason")
struct TransportSecurityTests {
    @Test("A client with the partnership's certificate for its agency is served as that agency, with no secret held by the service")
    func servedAsTheCertificatesAgency() async throws {
        try await withTLSService { pki, _, server in
            let client = tlsClient(port: server.rpcPort, tls: try pki.material(.youthJustice), as: .youthJustice, expecting: .socialCare)
            let reply = try await client.call("test.v1.Who/Am", payload: [])
            #expect(String(decoding: reply, as: UTF8.self) == "youth-justice a practitioner")
            await client.close()
        }
    }

    @Test("A certificate for one agency cannot sign as another: UNAUTHENTICATED, naming both")
    func certificateForOneAgencySigningAsAnother() async throws {
        try await withTLSService { pki, other, server in
            // An education certificate whose requests say police.
            let client = tlsClient(port: server.rpcPort, tls: try pki.material(.education), as: .police)
            let error = await refusal(of: client)
            #expect(error?.code == .unauthenticated)
            #expect(
                error?.message == "the request is signed as police but the connection's certificate is education's; an agency acts only as itself")
        }
    }

    @Test("A client certificate from another CA is refused at the handshake, counted as unknown_ca, and not retried")
    func wrongCA() async throws {
        try await withTLSService { pki, other, server in
            // The other CA's youth justice certificate, trusting the right CA for the server.
            let files = try other.issue(.youthJustice, trust: "\(pki.dir)/ca.pem")
            let client = tlsClient(port: server.rpcPort, tls: try TLSMaterial(files: files), as: .youthJustice)
            let error = await refusal(of: client)
            #expect(error?.code == .unavailable)
            #expect(error?.transient == false)
            #expect(error?.message.hasPrefix("the TLS handshake with the service failed: the other side refused this side's certificate") == true)
            let metrics = server.host.metrics
            #expect(await eventually { metrics.handshakesRefusedCount(reason: "unknown_ca") == 1 })
            #expect(metrics.prometheusText().contains("hsb_intake_tls_handshakes_refused_total{reason=\"unknown_ca\"} 1"))
        }
    }

    @Test("A client that does not trust the service's CA refuses the service, naming why")
    func serverFromAnUntrustedCA() async throws {
        try await withTLSService { pki, other, server in
            let client = tlsClient(port: server.rpcPort, tls: try other.material(.youthJustice), as: .youthJustice)
            let error = await refusal(of: client)
            #expect(
                error?.message.contains("the other side's certificate was refused: not signed by a trusted CA, expired, or not for this host") == true
            )
        }
    }

    @Test("An expired client certificate is refused at the handshake and counted as certificate_expired")
    func expiredCertificate() async throws {
        try await withTLSService { pki, other, server in
            let longAgo = Date() - 40 * 86_400
            let files = try pki.issue(.youthJustice, notBefore: longAgo, days: 30)
            // A service will not start on an expired certificate of its own...
            #expect(throws: TransportSecurityError.self) { try TLSMaterial(files: files) }
            // ...so this client loads it as of a day it was valid, and presents it now.
            let client = tlsClient(port: server.rpcPort, tls: try TLSMaterial(files: files, now: longAgo + 86_400), as: .youthJustice)
            _ = await refusal(of: client)
            let metrics = server.host.metrics
            #expect(await eventually { metrics.handshakesRefusedCount(reason: "certificate_expired") == 1 })
        }
    }

    @Test("A plaintext client on a TLS port is refused (not_tls) and told the service speaks TLS; a TLS client on a plaintext port fails")
    func plaintextAgainstTLS() async throws {
        try await withTLSService { pki, other, server in
            let plaintext = RPCClient(
                configuration: RPCClientConfiguration(host: "127.0.0.1", port: server.rpcPort, retry: .none),
                signer: RequestSigner(agency: .orchestrator, secret: TestSecrets.orchestrator), group: MultiThreadedEventLoopGroup.singleton)
            let error = await refusal(of: plaintext)
            #expect(error?.message.contains("the service speaks TLS and this client sent plaintext") == true)
            let metrics = server.host.metrics
            #expect(await eventually { metrics.handshakesRefusedCount(reason: "not_tls") == 1 })

            let plain = try await TestHost.start(handlers: [whoAmI])
            defer { Task { await plain.stop() } }
            _ = await refusal(of: tlsClient(port: plain.rpcPort, tls: try pki.material(.orchestrator), as: .orchestrator))
        }
    }

    @Test("A service presenting another agency's certificate is refused by a client that expects its agency")
    func serviceOfTheWrongAgency() async throws {
        // Something listening where youth justice should be, with a (valid) CAMHS certificate.
        try await withTLSService(.camhs) { pki, _, server in
            let client = tlsClient(port: server.rpcPort, tls: try pki.material(.orchestrator), as: .orchestrator, expecting: .youthJustice)
            let error = await refusal(of: client)
            #expect(error?.message == "the service's identity was refused: the service's certificate is camhs's, not youth-justice's")
            #expect(error?.transient == false)
        }
    }

    @Test("TLS material is checked at load: a key of another certificate, a certificate naming an unknown agency, a missing file")
    func materialIsCheckedAtLoad() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let mine = try pki.issue(.camhs)
        let theirs = try pki.issue(.mappa)
        let mismatched = TLSFiles(certificate: mine.certificate, key: theirs.key, trustedCAs: mine.trustedCAs)
        #expect(throws: TransportSecurityError.unusable("\(theirs.key) is not the key of the certificate in \(mine.certificate)")) {
            try TLSMaterial(files: mismatched)
        }
        let missing = TLSFiles(certificate: "\(pki.dir)/nothing.pem", key: mine.key, trustedCAs: mine.trustedCAs)
        #expect(throws: TransportSecurityError.self) { try TLSMaterial(files: missing) }
        // The trust file holding a key instead of certificates.
        let noCA = TLSFiles(certificate: mine.certificate, key: mine.key, trustedCAs: mine.key)
        #expect(throws: TransportSecurityError.unreadable(path: mine.key, reason: "holds no certificate")) { try TLSMaterial(files: noCA) }
        #expect(try TLSMaterial(files: mine).agency == .camhs)
    }

    @Test("Plaintext is refused off loopback unless asked for by name; TLS files are given together or not at all")
    func plaintextOffLoopbackIsRefused() throws {
        #expect(throws: ConfigurationError.self) { try TransportOptions.checkPlaintext(host: "0.0.0.0", tls: nil, insecurePlaintext: false) }
        #expect(throws: ConfigurationError.self) { try TransportOptions.checkPlaintext(host: "10.1.2.3", tls: nil, insecurePlaintext: false) }
        try TransportOptions.checkPlaintext(host: "127.0.0.1", tls: nil, insecurePlaintext: false)
        try TransportOptions.checkPlaintext(host: "0.0.0.0", tls: nil, insecurePlaintext: true)
        try TransportOptions.checkPlaintext(host: "0.0.0.0", tls: TLSFiles(certificate: "c", key: "k", trustedCAs: "a"), insecurePlaintext: false)
        #expect(
            throws: ConfigurationError(
                "TLS needs a certificate, its key and the trusted CAs together; missing: --tls-key (HSB_TLS_KEY), --tls-ca (HSB_TLS_CA)")
        ) {
            try TransportOptions.files(certificate: "c.pem", key: nil, trustedCAs: nil, allowTLS12: false)
        }
        #expect(try TransportOptions.files(certificate: nil, key: nil, trustedCAs: nil, allowTLS12: false) == nil)
    }

    @Test("Rotation: a new CA added to the trust file and a renewed certificate take effect on reload, without dropping open connections")
    func rotationOnReload() async throws {
        let pki = try TestPKI()
        let next = try TestPKI(name: "Next")
        defer {
            pki.remove()
            next.remove()
        }
        let serverFiles = try pki.issue(.socialCare)
        let server = try await TestHost.start(handlers: [whoAmI], tls: try TLSMaterial(files: serverFiles))
        defer { Task { await server.stop() } }
        // A client on the old CA keeps one connection open across the rotation.
        let old = tlsClient(port: server.rpcPort, tls: try pki.material(.orchestrator), as: .orchestrator)
        _ = try await old.call("test.v1.Who/Am", payload: [])
        // A client with a certificate from the new CA, trusting both CAs.
        let bundle = "\(next.dir)/bundle.pem"
        try (try pki.ca.certificatePEM + next.ca.certificatePEM).write(toFile: bundle, atomically: true, encoding: .utf8)
        let newClient = tlsClient(port: server.rpcPort, tls: try TLSMaterial(files: try next.issue(.orchestrator, trust: bundle)), as: .orchestrator)
        await #expect(throws: RPCError.self) { try await newClient.call("test.v1.Who/Am", payload: []) }

        // The operator puts both CAs in the server's trust file and sends SIGHUP (reload).
        try FileManager.default.removeItem(atPath: serverFiles.trustedCAs)
        try FileManager.default.copyItem(atPath: bundle, toPath: serverFiles.trustedCAs)
        try server.host.tls?.reload()
        #expect(String(decoding: try await newClient.call("test.v1.Who/Am", payload: []), as: UTF8.self) == "orchestrator a practitioner")
        #expect(String(decoding: try await old.call("test.v1.Who/Am", payload: []), as: UTF8.self) == "orchestrator a practitioner")

        // A reload that would change who the service is, or read a broken file, keeps what is in use.
        let camhs = try pki.issue(.camhs)
        try FileManager.default.removeItem(atPath: serverFiles.certificate)
        try FileManager.default.copyItem(atPath: camhs.certificate, toPath: serverFiles.certificate)
        #expect(throws: TransportSecurityError.self) { try server.host.tls?.reload() }
        #expect(server.host.tls?.agency == .socialCare)
        _ = try await newClient.call("test.v1.Who/Am", payload: [])
        await old.close()
        await newClient.close()
    }

    @Test("A capture between client and service over TLS holds none of the request's words; over plaintext it does")
    func captureSeesNoChildsName() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let secret = Array("Ann Example, NW1 2AB, subject child-4711".utf8)
        for useTLS in [true, false] {
            let server = try await TestHost.start(handlers: [whoAmI], tls: useTLS ? try pki.material(.socialCare) : nil)
            let proxy = try await CaptureProxy.start(to: server.rpcPort)
            let client =
                useTLS
                ? tlsClient(port: proxy.port, tls: try pki.material(.orchestrator), as: .orchestrator)
                : RPCClient(
                    configuration: RPCClientConfiguration(host: "127.0.0.1", port: proxy.port, retry: .none),
                    signer: RequestSigner(agency: .orchestrator, secret: TestSecrets.orchestrator, user: "a practitioner"),
                    group: MultiThreadedEventLoopGroup.singleton)
            _ = try await client.call("test.v1.Who/Am", payload: secret, purpose: "MASH screening of Ann Example")
            let captured = proxy.captured
            #expect(captured.count > secret.count)
            let found = captured.firstRange(of: Array("Ann Example".utf8)) != nil || captured.firstRange(of: Array("child-4711".utf8)) != nil
            #expect(found == !useTLS, "TLS \(useTLS): the capture \(found ? "shows" : "does not show") the child's name")
            await client.close()
            await proxy.stop()
            await server.stop()
        }
    }
}

/// A TCP relay on loopback that keeps a copy of every byte it passes in either direction, as a
/// capture on the wire between two agencies would.
final class CaptureProxy: Sendable {
    private let channel: any Channel
    private let bytes = Mutex<[UInt8]>([])
    var port: Int { channel.localAddress!.port! }
    var captured: [UInt8] { bytes.withLock { $0 } }

    private init(channel: any Channel) { self.channel = channel }

    static func start(to target: Int) async throws -> CaptureProxy {
        let box = Mutex<CaptureProxy?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: target).flatMap { outbound in
                    let record: @Sendable ([UInt8]) -> Void = { chunk in box.withLock { $0?.bytes.withLock { $0 += chunk } } }
                    return inbound.pipeline.addHandler(Relay(peer: outbound, record: record)).flatMap {
                        outbound.pipeline.addHandler(Relay(peer: inbound, record: record))
                    }.flatMap { inbound.setOption(.autoRead, value: true) }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = CaptureProxy(channel: channel)
        box.withLock { $0 = proxy }
        return proxy
    }

    func stop() async { try? await channel.close() }

    final class Relay: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let peer: any Channel
        let record: @Sendable ([UInt8]) -> Void
        init(peer: any Channel, record: @escaping @Sendable ([UInt8]) -> Void) {
            self.peer = peer
            self.record = record
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = Self.unwrapInboundIn(data)
            record(Array(buffer.readableBytesView))
            peer.writeAndFlush(buffer, promise: nil)
        }
        func channelInactive(context: ChannelHandlerContext) { peer.close(promise: nil) }
    }
}

extension TestPKI {
    /// `agency`'s act signer (Ed25519 certificate from this CA), written as `hsbctl pki issue` writes it.
    func actSigner(_ agency: Agency, notBefore: Date? = nil, days: Int = 30) throws -> ActSigner {
        let act = try PartnershipPKI.issueActCertificate(agency: agency, by: ca, notBefore: notBefore, days: days)
        let base = "\(dir)/\(agency.name)-act-\(UUID().uuidString)"
        try act.certificate.serializeAsPEM().pemString.write(toFile: base + ".pem", atomically: true, encoding: .utf8)
        try ActSigner.pem(act.key).write(toFile: base + "-key.pem", atomically: true, encoding: .utf8)
        return try ActSigner(certificateFile: base + ".pem", keyFile: base + "-key.pem")
    }
}

@Suite("A relayed act carries the acting agency's own Ed25519 signature, and the owning service checks it")
struct ActSignatureTests {
    static let method = "hsb.youthjustice.v1.YouthJustice/RecordPoliceDecision"
    static let payload: [UInt8] = Array("a police decision".utf8)
    static let police = RelayedActor(agency: .police, user: "DC Jones")

    func verify(
        _ proof: ActProof?, actor: RelayedActor = police, caseID: String? = "case-1", payload: [UInt8] = payload, trusted: TestPKI
    )
        async throws(RPCError)
    {
        try await ActSignature.verify(proof, actor: actor, caseID: caseID, method: Self.method, payload: payload, trusted: [trusted.ca.certificate])
    }

    func sign(_ signer: ActSigner, user: String = "DC Jones", at: Int64 = SystemWallClock().nowUnixMillis()) throws -> ActProof {
        try signer.sign(caseID: "case-1", method: Self.method, payload: Self.payload, user: user, nowUnixMillis: at)
    }

    @Test("The agency's own signature over the act is accepted; any change to the act, its person or its case is refused")
    func signatureCoversTheAct() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let proof = try sign(try pki.actSigner(.police))
        try await verify(proof, trusted: pki)
        let changed = await #expect(throws: RPCError.self) { try await verify(proof, payload: Array("another decision".utf8), trusted: pki) }
        #expect(changed?.code == .permissionDenied)
        #expect(changed?.message == "the act's signature does not match the act: it was not signed by police as relayed")
        await #expect(throws: RPCError.self) {
            try await verify(proof, actor: RelayedActor(agency: .police, user: "someone else"), trusted: pki)
        }
        let otherCase = await #expect(throws: RPCError.self) { try await verify(proof, caseID: "case-2", trusted: pki) }
        #expect(otherCase?.message == "the act's signature is for case case-1, not case-2")
        var forged = proof
        forged.signature[0] ^= 0x01
        await #expect(throws: RPCError.self) { try await verify(forged, trusted: pki) }
    }

    @Test("Refused: no signature; another agency's certificate; a certificate from another CA; one not valid when signed; a future signing time")
    func refusals() async throws {
        let pki = try TestPKI()
        let other = try TestPKI(name: "Elsewhere")
        defer {
            pki.remove()
            other.remove()
        }
        let missing = await #expect(throws: RPCError.self) { try await verify(nil, trusted: pki) }
        #expect(missing?.message.hasPrefix("\(Self.method) relayed for police carries no signature of police's") == true)
        let education = await #expect(throws: RPCError.self) { try await verify(try sign(try pki.actSigner(.education)), trusted: pki) }
        #expect(education?.message == "the act is relayed for police but signed with education's certificate")
        let untrusted = await #expect(throws: RPCError.self) { try await verify(try sign(try other.actSigner(.police)), trusted: pki) }
        #expect(untrusted?.message == "the act's certificate is not from a CA this service trusts, or was not valid when the act was signed")
        // Signed while the certificate had expired.
        let lapsed = try pki.actSigner(.police, notBefore: Date() - 40 * 86_400, days: 30)
        await #expect(throws: RPCError.self) { try await verify(try sign(lapsed), trusted: pki) }
        // Signed when it was valid, relayed after it expired: still the agency's act.
        try await verify(try sign(lapsed, at: SystemWallClock().nowUnixMillis() - 35 * 86_400_000), trusted: pki)
        let future = await #expect(throws: RPCError.self) {
            try await verify(try sign(try pki.actSigner(.police), at: SystemWallClock().nowUnixMillis() + 3_600_000), trusted: pki)
        }
        #expect(future?.message == "the act's signing time is in the future (check the signing host's clock)")
        // Hostile numbers and sizes are refused before anything is computed from them.
        let valid = try sign(try pki.actSigner(.police))
        for signedAt in [Int64.max, Int64.min, 0] {
            var hostile = valid
            hostile.signedAtUnixMillis = signedAt
            await #expect(throws: RPCError.self) { try await verify(hostile, trusted: pki) }
        }
        var oversized = valid
        oversized.certificate = [UInt8](repeating: 0x30, count: ActSignature.maxCertificateBytes + 1)
        let big = await #expect(throws: RPCError.self) { try await verify(oversized, trusted: pki) }
        #expect(big?.message.hasPrefix("the act's signature is malformed") == true)
        var short = valid
        short.signature.removeLast()
        await #expect(throws: RPCError.self) { try await verify(short, trusted: pki) }
    }

    @Test("A service on TLS refuses a relayed act whose actor signature is missing or forged, and takes one the agency signed")
    func owningServiceChecksTheRelayedAct() async throws {
        let relayable = MethodHandler(method: Self.method, policy: .agencies([.orchestrator, .police])) { context, _ in
            let caller = try context.requireCaller()
            return Array("\(caller.actingFor?.agency.name ?? "-") \(caller.actingFor?.user ?? "-")".utf8)
        }
        let pki = try TestPKI()
        defer { pki.remove() }
        let server = try await TestHost.start(handlers: [relayable], tls: try pki.material(.youthJustice))
        defer { Task { await server.stop() } }
        let orchestrator = tlsClient(port: server.rpcPort, tls: try pki.material(.orchestrator), as: .orchestrator)
        defer { Task { await orchestrator.close() } }
        func relay(_ proof: ActProof?) async throws(RPCError) -> String {
            let reply = try await orchestrator.call(
                Self.method, payload: Self.payload, acting: RelayedActor(agency: .police, user: "DC Jones", proof: proof))
            return String(decoding: reply, as: UTF8.self)
        }
        let unsigned = await #expect(throws: RPCError.self) { try await relay(nil) }
        #expect(unsigned?.code == .permissionDenied)
        var forged = try sign(try pki.actSigner(.police))
        forged.signature[10] ^= 0x40
        let refused = await #expect(throws: RPCError.self) { try await relay(forged) }
        #expect(refused?.message == "the act's signature does not match the act: it was not signed by police as relayed")
        #expect(try await relay(try sign(try pki.actSigner(.police))) == "police DC Jones")
    }

    @Test("An act key reads back as written, and one that is not its certificate's is refused at load")
    func actKeyFiles() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let act = try PartnershipPKI.issueActCertificate(agency: .camhs, by: pki.ca)
        let otherKey = try PartnershipPKI.issueActCertificate(agency: .camhs, by: pki.ca).key
        try act.certificate.serializeAsPEM().pemString.write(toFile: "\(pki.dir)/act.pem", atomically: true, encoding: .utf8)
        try ActSigner.pem(otherKey).write(toFile: "\(pki.dir)/wrong-key.pem", atomically: true, encoding: .utf8)
        #expect(throws: TransportSecurityError.self) { try ActSigner(certificateFile: "\(pki.dir)/act.pem", keyFile: "\(pki.dir)/wrong-key.pem") }
        try ActSigner.pem(act.key).write(toFile: "\(pki.dir)/act-key.pem", atomically: true, encoding: .utf8)
        #expect(try ActSigner(certificateFile: "\(pki.dir)/act.pem", keyFile: "\(pki.dir)/act-key.pem").agency == .camhs)
        // A TLS (P-256) key is not an act key.
        let tls = try pki.issue(.camhs)
        #expect(throws: TransportSecurityError.self) { try ActSigner(certificateFile: "\(pki.dir)/act.pem", keyFile: tls.key) }
    }
}

/// `GET path` over HTTPS to 127.0.0.1:`port`, trusting `ca` (PEM file): the status line's code and the body.
func httpsGet(port: Int, path: String, ca: String, headers: [String] = []) async throws -> (status: Int, body: String) {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.trustRoots = .file(ca)
    let context = try NIOSSLContext(configuration: configuration)
    let received = Mutex<[UInt8]>([])
    final class Collect: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let sink: @Sendable ([UInt8]) -> Void
        init(_ sink: @escaping @Sendable ([UInt8]) -> Void) { self.sink = sink }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { sink(Array(Self.unwrapInboundIn(data).readableBytesView)) }
    }
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                try channel.pipeline.syncOperations.addHandler(Collect { bytes in received.withLock { $0 += bytes } })
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    let extra = headers.map { $0 + "\r\n" }.joined()
    try await channel.writeAndFlush(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\(extra)Connection: close\r\n\r\n"))
    try? await channel.closeFuture.get()
    let text = String(decoding: received.withLock { $0 }, as: UTF8.self)
    let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    return (status, text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"))
}

@Suite("The ops port over HTTPS")
struct OpsTLSTests {
    @Test("Served over HTTPS when given a certificate: a client trusting its CA reads /healthz and /readyz; plain HTTP gets nothing")
    func opsOverHTTPS() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let files = try pki.issue(.ops, file: "ops-port")
        let server = try await TestHost.start(opsTLS: (files.certificate, files.key))
        defer { Task { await server.stop() } }
        let live = try await httpsGet(port: server.opsPort, path: "/healthz", ca: files.trustedCAs)
        #expect(live.status == 200 && live.body == "ok\n")
        let ready = try await httpsGet(port: server.opsPort, path: "/readyz", ca: files.trustedCAs)
        #expect(ready.status == 200 && ready.body.hasPrefix("{\"ready\":true"))
        #expect(try await http(port: server.opsPort, path: "/healthz").status == 0, "plain HTTP on the HTTPS port gets no HTTP answer")
    }
}

@Suite("Rotation under load")
struct RotationUnderLoadTests {
    @Test("A CA rotation and a new server certificate, reloaded while clients on old and new certificates call, lose no request")
    func rotationLosesNoRequest() async throws {
        let old = try TestPKI(name: "Old")
        let new = try TestPKI(name: "New")
        defer {
            old.remove()
            new.remove()
        }
        // Clients trust both CAs from the start (step one of a rotation, done on every client first).
        let bundle = "\(new.dir)/bundle.pem"
        try (try old.ca.certificatePEM + new.ca.certificatePEM).write(toFile: bundle, atomically: true, encoding: .utf8)
        let serverFiles = try old.issue(.socialCare)
        let server = try await TestHost.start(handlers: [whoAmI], tls: try TLSMaterial(files: serverFiles))
        defer { Task { await server.stop() } }
        let oldClient = try TLSMaterial(files: try old.issue(.orchestrator, trust: bundle))
        let newClient = try TLSMaterial(files: try new.issue(.orchestrator, trust: bundle))
        let tally = RotationTally()
        /// 200 calls, a new connection every 20, each counted or its failure kept.
        @Sendable func caller(_ tls: TLSMaterial) async {
            for batch in 0..<10 {
                let client = tlsClient(port: server.rpcPort, tls: tls, as: .orchestrator)
                for _ in 0..<20 {
                    do {
                        _ = try await client.call("test.v1.Who/Am", payload: [])
                        tally.served.wrappingAdd(1, ordering: .relaxed)
                    } catch {
                        tally.failures.withLock { $0.append("batch \(batch): \(error)") }
                    }
                }
                await client.close()
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { await caller(oldClient) } }
            group.addTask {
                // Mid-stream: the server trusts both CAs and presents a certificate from the new one.
                while tally.served.load(ordering: .relaxed) < 150 { try? await Task.sleep(for: .milliseconds(5)) }
                do {
                    let renewed = try new.issue(.socialCare, file: "social-care-renewed")
                    for (from, to) in [
                        (bundle, serverFiles.trustedCAs), (renewed.certificate, serverFiles.certificate), (renewed.key, serverFiles.key),
                    ] {
                        try FileManager.default.removeItem(atPath: to)
                        try FileManager.default.copyItem(atPath: from, toPath: to)
                    }
                    try server.host.tls?.reload()
                    tally.rotated.store(true, ordering: .relaxed)
                } catch {
                    tally.failures.withLock { $0.append("reload: \(error)") }
                }
                // Clients on the new CA join once the server trusts it.
                await caller(newClient)
            }
        }
        let didRotate = tally.rotated.load(ordering: .relaxed)
        let failed = tally.failures.withLock { $0 }
        let total = tally.served.load(ordering: .relaxed)
        #expect(didRotate)
        #expect(failed == [])
        #expect(total == 800)
    }
}

/// What the rotation test's callers count, shared by them.
final class RotationTally: Sendable {
    let served = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    let rotated = Atomic<Bool>(false)
}
