@preconcurrency public import Crypto
public import Foundation
public import HSBWire
import SwiftASN1
@_spi(FixedExpiryValidationTime) public import X509

/// An agency's signature over an act it did on a case (``ActProof``), made where the act is
/// done (hsbctl, the workspace) with the agency's own Ed25519 key, and checked by the
/// orchestrator when the act arrives and by the service that owns the act when the orchestrator
/// relays it. The orchestrator holds no agency's act key: it can relay an act, never make one.
public enum ActSignature {
    /// The largest certificate a proof may carry.
    public static let maxCertificateBytes = 8 * 1024
    /// How far in the future of the checking clock a proof's signing time may be (clock skew).
    public static let maxFutureSkewMillis: Int64 = 300_000

    /// The bytes signed: every field of the act, each length-prefixed, so that no two acts share them.
    static func signedBytes(agency: Agency, user: String, signedAt: Int64, caseID: String, method: String, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + user.utf8.count + caseID.utf8.count + method.utf8.count + payload.count)
        func field(_ bytes: some Collection<UInt8>) {
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out += $0 }
            out += bytes
        }
        field("hsb.act.v1/ed25519".utf8)
        withUnsafeBytes(of: UInt64(UInt32(bitPattern: agency.rawValue)).bigEndian) { out += $0 }
        field(user.utf8)
        withUnsafeBytes(of: UInt64(bitPattern: signedAt).bigEndian) { out += $0 }
        field(caseID.utf8)
        field(method.utf8)
        field(payload)
        return out
    }

    /// Checks `proof` for the act `method(payload)` on `caseID` by `actor`: the certificate chains
    /// to one of `trusted` and was valid when the act was signed, names the actor's agency and
    /// holds an Ed25519 key, and the signature is that key's over the act. PERMISSION_DENIED naming
    /// what is wrong otherwise.
    public static func verify(
        _ proof: ActProof?, actor: RelayedActor, caseID: String?, method: String, payload: [UInt8], trusted: [Certificate], now: Date = Date()
    ) async throws(RPCError) {
        guard let proof else {
            throw RPCError(
                .permissionDenied,
                "\(method) relayed for \(actor.agency.name) carries no signature of \(actor.agency.name)'s: the agency signs its own acts (act certificate and key)"
            )
        }
        guard proof.certificate.count <= maxCertificateBytes, proof.signature.count == 64 else {
            throw RPCError(.permissionDenied, "the act's signature is malformed: a 64-byte Ed25519 signature and a certificate of at most 8 KiB")
        }
        if let caseID, proof.caseID != caseID {
            throw RPCError(.permissionDenied, "the act's signature is for case \(proof.caseID), not \(caseID)")
        }
        let certificate: Certificate
        do {
            certificate = try Certificate(derEncoded: proof.certificate)
        } catch {
            throw RPCError(.permissionDenied, "the act's certificate cannot be parsed")
        }
        let agency: Agency
        do {
            agency = try AgencyIdentity.agency(of: certificate)
        } catch {
            throw RPCError(.permissionDenied, "the act's certificate: \(error)")
        }
        guard agency == actor.agency else {
            throw RPCError(.permissionDenied, "the act is relayed for \(actor.agency.name) but signed with \(agency.name)'s certificate")
        }
        guard let key = Curve25519.Signing.PublicKey(certificate.publicKey) else {
            throw RPCError(.permissionDenied, "the act's certificate holds no Ed25519 key")
        }
        let (limit, overflow) = Int64(now.timeIntervalSince1970 * 1000).addingReportingOverflow(maxFutureSkewMillis)
        guard !overflow, proof.signedAtUnixMillis <= limit, proof.signedAtUnixMillis > 0 else {
            throw RPCError(.permissionDenied, "the act's signing time is in the future (check the signing host's clock)")
        }
        let bytes = signedBytes(
            agency: actor.agency, user: actor.user, signedAt: proof.signedAtUnixMillis, caseID: proof.caseID, method: method, payload: payload)
        guard key.isValidSignature(proof.signature, for: bytes) else {
            throw RPCError(.permissionDenied, "the act's signature does not match the act: it was not signed by \(actor.agency.name) as relayed")
        }
        // The certificate as of the moment the act was signed: an act relayed after its signer's
        // certificate was renewed is still the agency's act.
        let signedAt = Date(timeIntervalSince1970: Double(proof.signedAtUnixMillis) / 1000)
        var verifier = Verifier(rootCertificates: CertificateStore(trusted)) { RFC5280Policy(fixedExpiryValidationTime: signedAt) }
        guard case .validCertificate = await verifier.validate(leaf: certificate, intermediates: CertificateStore()) else {
            throw RPCError(.permissionDenied, "the act's certificate is not from a CA this service trusts, or was not valid when the act was signed")
        }
    }
}

/// Signs acts as one agency: its act certificate (Ed25519, from the partnership's CA) and key.
public struct ActSigner: Sendable {
    public let agency: Agency
    let certificateDER: [UInt8]
    let key: Curve25519.Signing.PrivateKey

    /// Loads and checks the files: the certificate names an agency and holds the key's public half.
    public init(certificateFile: String, keyFile: String) throws(TransportSecurityError) {
        let certificate = try TLSMaterial.certificates(in: certificateFile)[0]
        let keyText: String
        do {
            keyText = try String(contentsOfFile: keyFile, encoding: .utf8)
        } catch {
            throw .unreadable(path: keyFile, reason: "cannot be read")
        }
        guard let key = Self.privateKey(pem: keyText) else {
            throw .unreadable(path: keyFile, reason: "is not an Ed25519 private key in PEM (PKCS #8)")
        }
        guard Curve25519.Signing.PublicKey(certificate.publicKey)?.rawRepresentation == key.publicKey.rawRepresentation else {
            throw .unusable("\(keyFile) is not the key of the act certificate in \(certificateFile)")
        }
        self.agency = try AgencyIdentity.agency(of: certificate)
        do {
            self.certificateDER = try certificate.derBytes()
        } catch {
            throw .unreadable(path: certificateFile, reason: "cannot be encoded (\(error))")
        }
        self.key = key
    }

    /// The proof that `user` of this agency did `method(payload)` on `caseID`, signed now.
    public func sign(caseID: String, method: String, payload: [UInt8], user: String, nowUnixMillis: Int64) throws -> ActProof {
        let bytes = ActSignature.signedBytes(agency: agency, user: user, signedAt: nowUnixMillis, caseID: caseID, method: method, payload: payload)
        return ActProof(
            certificate: certificateDER, signedAtUnixMillis: nowUnixMillis, caseID: caseID, signature: Array(try key.signature(for: bytes)))
    }

    /// PKCS #8 for Ed25519 is a fixed 16-byte header and the 32-byte key.
    static let pkcs8Header: [UInt8] = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]

    static func privateKey(pem: String) -> Curve25519.Signing.PrivateKey? {
        guard let document = try? PEMDocument(pemString: pem), document.discriminator == "PRIVATE KEY", document.derBytes.count == 48,
            Array(document.derBytes.prefix(16)) == pkcs8Header
        else { return nil }
        return try? Curve25519.Signing.PrivateKey(rawRepresentation: document.derBytes.suffix(32))
    }

    /// `key` as PEM (PKCS #8), as `openssl genpkey -algorithm ed25519` writes it.
    public static func pem(_ key: Curve25519.Signing.PrivateKey) -> String {
        PEMDocument(type: "PRIVATE KEY", derBytes: pkcs8Header + Array(key.rawRepresentation)).pemString
    }
}
