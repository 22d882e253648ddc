public import Foundation
public import HSBWire
import NIOCore
public import NIOSSL
import NIOTLS
import SwiftASN1
import Synchronization
public import X509

/// The agency a partnership certificate names: a SAN URI `hsb://agency/<agency-name>`, e.g.
/// `hsb://agency/youth-justice`. The one place that form is written and read.
public enum AgencyIdentity {
    public static let scheme = "hsb://agency/"

    public static func uri(for agency: Agency) -> String { scheme + agency.name }

    /// The agency `certificate` names; throws naming what is wrong when it names none, several, or
    /// one this build does not know.
    public static func agency(of certificate: Certificate) throws(TransportSecurityError) -> Agency {
        let names: SubjectAlternativeNames?
        do {
            names = try certificate.extensions.subjectAlternativeNames
        } catch {
            throw .noAgency("its subject alternative names cannot be read (\(error))")
        }
        let uris = (names ?? SubjectAlternativeNames()).compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix(scheme) { return uri }
            return nil
        }
        guard let uri = uris.first else {
            throw .noAgency("it names no agency (a subject alternative name URI \(scheme)<agency>)")
        }
        guard uris.count == 1 else { throw .noAgency("it names \(uris.count) agencies; a partnership certificate names one") }
        guard let agency = Agency(name: String(uri.dropFirst(scheme.count))) else {
            throw .noAgency("it names \(uri), which is not an agency this service knows")
        }
        return agency
    }

    /// The agency of a certificate as NIOSSL holds it (the peer's, after the handshake).
    public static func agency(of certificate: NIOSSLCertificate) throws(TransportSecurityError) -> Agency {
        let parsed: Certificate
        do {
            parsed = try Certificate(derEncoded: try certificate.toDERBytes())
        } catch {
            throw .noAgency("it cannot be parsed (\(error))")
        }
        return try agency(of: parsed)
    }
}

/// What is wrong with TLS material or a peer, in words an operator can act on.
public enum TransportSecurityError: Error, CustomStringConvertible, Hashable {
    /// A certificate that names no agency (or not one).
    case noAgency(String)
    /// A file that cannot be read or parsed; the path and the reason.
    case unreadable(path: String, reason: String)
    /// Material that reads but cannot be used (expired, a key that does not match).
    case unusable(String)

    public var description: String {
        switch self {
        case .noAgency(let why): "the certificate cannot identify an agency: \(why)"
        case .unreadable(let path, let reason): "\(path): \(reason)"
        case .unusable(let why): why
        }
    }
}

/// Where a service's or a client's TLS material is: its own certificate (PEM, the chain from the
/// leaf), its private key (PEM), and the CA certificates it trusts for its peers (PEM, one or
/// more: during a CA rotation, the old and the new).
public struct TLSFiles: Sendable, Hashable {
    public var certificate: String
    public var key: String
    public var trustedCAs: String
    /// TLS 1.2 accepted as well as 1.3 (for a peer whose TLS library lacks 1.3).
    public var allowTLS12: Bool

    public init(certificate: String, key: String, trustedCAs: String, allowTLS12: Bool = false) {
        self.certificate = certificate
        self.key = key
        self.trustedCAs = trustedCAs
        self.allowTLS12 = allowTLS12
    }
}

/// A service's or client's loaded TLS contexts, made from ``TLSFiles`` and made again from them
/// on ``reload()`` (SIGHUP): new connections take the new certificate and trust; connections
/// already open keep theirs.
public final class TLSMaterial: Sendable {
    public let files: TLSFiles
    private struct Loaded {
        var server: NIOSSLContext
        var client: NIOSSLContext
        var agency: Agency
        var notAfter: Date
        var trusted: [Certificate]
    }
    private let loaded: Mutex<Loaded>

    /// Loads and checks the files: the certificate names one agency, is within its validity, and
    /// matches the key; the trust file holds at least one certificate.
    public init(files: TLSFiles, now: Date = Date()) throws(TransportSecurityError) {
        self.files = files
        loaded = Mutex(try Self.load(files, now: now))
    }

    /// The agency this side's own certificate names.
    public var agency: Agency { loaded.withLock { $0.agency } }
    /// When this side's own certificate expires.
    public var notAfter: Date { loaded.withLock { $0.notAfter } }

    var serverContext: NIOSSLContext { loaded.withLock { $0.server } }
    /// The CAs a peer's certificate (and an agency's act certificate) must chain to, as loaded now.
    public var trustedCAs: [Certificate] { loaded.withLock { $0.trusted } }
    var clientContext: NIOSSLContext { loaded.withLock { $0.client } }

    /// Reads the files again; on any error the material in use stays, and the error says why.
    /// The agency may not change: a service's certificate is renewed, not reassigned.
    public func reload(now: Date = Date()) throws(TransportSecurityError) {
        let fresh = try Self.load(files, now: now)
        let agency = self.agency
        guard fresh.agency == agency else {
            throw .unusable("the new certificate names \(fresh.agency.name), not \(agency.name); a reload renews, it does not change who this is")
        }
        loaded.withLock { $0 = fresh }
    }

    private static func readPEM(_ path: String) throws(TransportSecurityError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: "cannot be read (\((error as NSError).localizedDescription))")
        }
    }

    /// Every certificate in a PEM file.
    static func certificates(in path: String) throws(TransportSecurityError) -> [Certificate] {
        let text = try readPEM(path)
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            throw .unreadable(path: path, reason: "is not PEM (\(error))")
        }
        var certificates: [Certificate] = []
        for document in documents where document.discriminator == "CERTIFICATE" {
            do {
                certificates.append(try Certificate(pemDocument: document))
            } catch {
                throw .unreadable(path: path, reason: "holds a certificate that cannot be parsed (\(error))")
            }
        }
        guard !certificates.isEmpty else { throw .unreadable(path: path, reason: "holds no certificate") }
        return certificates
    }

    private static func load(_ files: TLSFiles, now: Date) throws(TransportSecurityError) -> Loaded {
        let chain = try certificates(in: files.certificate)
        let leaf = chain[0]
        let agency = try AgencyIdentity.agency(of: leaf)
        guard leaf.notValidBefore <= now else {
            throw .unusable("\(files.certificate): the certificate is not valid until \(leaf.notValidBefore) (check this host's clock)")
        }
        guard now < leaf.notValidAfter else {
            throw .unusable("\(files.certificate): the certificate expired at \(leaf.notValidAfter); issue a new one (hsbctl pki issue)")
        }
        let trusted = try certificates(in: files.trustedCAs)
        let keyText = try readPEM(files.key)
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: keyText)
        } catch {
            throw .unreadable(path: files.key, reason: "is not a private key in PEM (\(error))")
        }
        guard key.publicKey == leaf.publicKey else {
            throw .unusable("\(files.key) is not the key of the certificate in \(files.certificate)")
        }
        do {
            let nioChain = try chain.map { try NIOSSLCertificate(bytes: $0.derBytes(), format: .der) }
            let nioTrusted = try trusted.map { try NIOSSLCertificate(bytes: $0.derBytes(), format: .der) }
            let nioKey = try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
            let minimum: TLSVersion = files.allowTLS12 ? .tlsv12 : .tlsv13
            var server = TLSConfiguration.makeServerConfigurationWithMTLS(
                certificateChain: nioChain.map { .certificate($0) }, privateKey: .privateKey(nioKey), trustRoots: .certificates(nioTrusted))
            server.minimumTLSVersion = minimum
            var client = TLSConfiguration.makeClientConfiguration()
            client.certificateChain = nioChain.map { .certificate($0) }
            client.privateKey = .privateKey(nioKey)
            client.trustRoots = .certificates(nioTrusted)
            client.certificateVerification = .fullVerification
            client.minimumTLSVersion = minimum
            return Loaded(
                server: try NIOSSLContext(configuration: server), client: try NIOSSLContext(configuration: client), agency: agency,
                notAfter: leaf.notValidAfter, trusted: trusted)
        } catch {
            throw .unusable("the TLS material in \(files.certificate), \(files.key) and \(files.trustedCAs) cannot be used: \(error)")
        }
    }
}

/// Why a TLS handshake failed, named from the TLS library's error, for logs, metrics and the
/// message a client prints. `reason` is a short label (a metrics label value).
public struct HandshakeFailure: Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    public let detail: String

    public var description: String { detail }

    /// The known failures, by the words BoringSSL puts in its error; anything else is
    /// `handshake_failed` with the library's words.
    static let table: [(match: String, reason: String, detail: String)] = [
        ("WRONG_VERSION_NUMBER", "not_tls", "the other side did not speak TLS (a plaintext client on a TLS port, or the wrong port)"),
        ("HTTP_REQUEST", "not_tls", "the other side sent HTTP, not TLS"),
        ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "no_certificate", "no certificate was presented; the partnership's links need one"),
        // Alerts: the other side refused this side's certificate.
        ("ALERT_CERTIFICATE_EXPIRED", "certificate_expired", "the other side refused this side's certificate as expired"),
        ("ALERT_CERTIFICATE_REQUIRED", "no_certificate", "the other side requires a certificate from the partnership's CA and none was sent"),
        ("ALERT_UNKNOWN_CA", "unknown_ca", "the other side does not trust the CA that signed this side's certificate"),
        ("ALERT_BAD_CERTIFICATE", "certificate_rejected", "the other side refused this side's certificate"),
        (
            "ALERT_CERTIFICATE_UNKNOWN", "certificate_rejected",
            "the other side refused this side's certificate: not from a CA it trusts, expired, or naming no agency"
        ),
        ("ALERT_PROTOCOL_VERSION", "protocol_version", "the other side does not accept this TLS version (TLS 1.3 unless 1.2 is allowed)"),
        // This side refused the other's certificate.
        (
            "CERTIFICATE_VERIFY_FAILED", "certificate_rejected",
            "the other side's certificate was refused: not signed by a trusted CA, expired, or not for this host"
        ),
        ("UNSUPPORTED_PROTOCOL", "protocol_version", "the other side's TLS version is not accepted (TLS 1.3 unless 1.2 is allowed)"),
    ]

    /// Every reason label, for the metrics (each series present from the start, at zero).
    public static let reasons: [String] = {
        var seen: [String] = []
        for reason in table.map(\.reason) + ["certificate_not_yet_valid", "closed", "handshake_timeout", "no_agency", "handshake_failed"]
        where !seen.contains(reason) {
            seen.append(reason)
        }
        return seen
    }()

    /// The failure `error` names; nil when it is not a TLS handshake failure.
    public static func from(_ error: any Error) -> HandshakeFailure? {
        let words: String
        if let ssl = error as? NIOSSLError {
            switch ssl {
            case .handshakeFailed(let inner): words = "\(inner)"
            case .uncleanShutdown: return HandshakeFailure(reason: "closed", detail: "the peer closed the connection during the TLS handshake")
            default: words = "\(ssl)"
            }
        } else if let verification = error as? NIOSSLExtraError {
            words = "\(verification)"
        } else if let boring = error as? BoringSSLError {
            words = "\(boring)"
        } else {
            return nil
        }
        for entry in table where words.contains(entry.match) {
            return HandshakeFailure(reason: entry.reason, detail: entry.detail)
        }
        return HandshakeFailure(reason: "handshake_failed", detail: "the TLS handshake failed (\(words))")
    }
}

/// Why one connection's peer certificate was refused, as the verifier found it; read when the
/// handshake then fails, so that the log and metrics name the reason.
final class HandshakeOutcome: Sendable {
    private let failure = Mutex<HandshakeFailure?>(nil)
    var refusal: HandshakeFailure? { failure.withLock { $0 } }
    func refuse(_ reason: String, _ detail: String) { failure.withLock { $0 = HandshakeFailure(reason: reason, detail: detail) } }
}

/// Verifies a client's certificate chain (swift-certificates, RFC 5280) against the server's
/// trusted CAs at the time of the handshake, and records why it was refused.
enum ClientCertificateVerification {
    static func callback(trusted: [Certificate], outcome: HandshakeOutcome) -> NIOSSLCustomVerificationCallbackWithMetadata {
        { presented, promise in
            let now = Date()
            let chain: [Certificate]
            do {
                chain = try presented.map { try Certificate(derEncoded: try $0.toDERBytes()) }
            } catch {
                outcome.refuse("certificate_rejected", "the client's certificate cannot be parsed (\(error))")
                return promise.succeed(.failed)
            }
            guard let leaf = chain.first else {
                outcome.refuse("no_certificate", "the client presented no certificate; the partnership's links need one")
                return promise.succeed(.failed)
            }
            guard now < leaf.notValidAfter else {
                outcome.refuse("certificate_expired", "the client's certificate expired at \(leaf.notValidAfter)")
                return promise.succeed(.failed)
            }
            guard leaf.notValidBefore <= now else {
                outcome.refuse("certificate_not_yet_valid", "the client's certificate is not valid until \(leaf.notValidBefore) (check the clocks)")
                return promise.succeed(.failed)
            }
            do {
                _ = try AgencyIdentity.agency(of: leaf)
            } catch {
                outcome.refuse("no_agency", "\(error)")
                return promise.succeed(.failed)
            }
            promise.completeWithTask {
                var verifier = Verifier(rootCertificates: CertificateStore(trusted)) { RFC5280Policy() }
                switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(chain.dropFirst())) {
                case .validCertificate(let path):
                    let validated = try path.map { try NIOSSLCertificate(bytes: $0.derBytes(), format: .der) }
                    return .certificateVerified(VerificationMetadata(ValidatedCertificateChain(validated)))
                case .couldNotValidate:
                    outcome.refuse("unknown_ca", "the client's certificate is not signed by a CA this service trusts")
                    return .failed
                }
            }
        }
    }

}

/// Sent up a server connection's pipeline when its TLS handshake has completed: the agency the
/// verified client certificate names, or why the certificate names none.
struct PeerIdentified {
    let agency: Result<Agency, TransportSecurityError>
}

/// On a server connection: once the handshake completes, reads the agency from the verified
/// client certificate and tells the connection handler; refuses connections whose handshake
/// does not complete in time; counts and logs handshake failures by reason.
final class TLSIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let handshakeTimeout: TimeAmount
    private let onFailure: @Sendable (HandshakeFailure) -> Void
    private var timer: Scheduled<Void>?
    private var done = false
    /// What the certificate verifier found, when it refused the peer.
    let outcome = HandshakeOutcome()

    init(handshakeTimeout: TimeAmount, onFailure: @escaping @Sendable (HandshakeFailure) -> Void) {
        self.handshakeTimeout = handshakeTimeout
        self.onFailure = onFailure
    }

    func channelActive(context: ChannelHandlerContext) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [self] in
            guard !done else { return }
            done = true
            onFailure(HandshakeFailure(reason: "handshake_timeout", detail: "the TLS handshake did not complete in time"))
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            done = true
            timer?.cancel()
            let agency: Result<Agency, TransportSecurityError>
            do {
                guard let certificate = try context.pipeline.syncOperations.nioSSL_peerCertificate() else {
                    throw TransportSecurityError.noAgency("the client presented no certificate")
                }
                agency = .success(try AgencyIdentity.agency(of: certificate))
            } catch let error as TransportSecurityError {
                agency = .failure(error)
            } catch {
                agency = .failure(.noAgency("\(error)"))
            }
            if case .failure(let error) = agency {
                onFailure(HandshakeFailure(reason: "no_agency", detail: "\(error)"))
            }
            context.fireUserInboundEventTriggered(PeerIdentified(agency: agency))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done, let failure = outcome.refusal ?? HandshakeFailure.from(error) {
            done = true
            timer?.cancel()
            onFailure(failure)
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }
}

extension Certificate {
    /// The certificate's DER encoding: what NIOSSL loads and what an act proof carries.
    func derBytes() throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(self)
        return serializer.serializedBytes
    }
}
