@preconcurrency public import Crypto
public import Foundation
public import HSBWire
import SwiftASN1
public import X509

/// A partnership's own certificate authority, for development, the local suite and tests
/// (`hsbctl pki init|issue`). A partnership in production uses its councils' CA instead; the
/// services only need each certificate to chain to a CA in their trust file and to name its agency.
public enum PartnershipPKI {
    /// A certificate and its private key, as PEM.
    public struct Issued: Sendable {
        public let certificate: Certificate
        public let key: P256.Signing.PrivateKey

        public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
        public var keyPEM: String { key.pemRepresentation }
    }

    /// A new self-signed CA (ECDSA P-256), valid from an hour before `now` (clock skew) for `days`.
    public static func makeCA(name: String, now: Date = Date(), days: Int = 3650) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName(name)
            CommonName("\(name) HSB partnership CA")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: now - 3600,
            notValidAfter: now + Double(days) * 86_400, issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        return Issued(certificate: certificate, key: key)
    }

    /// A certificate for `agency`'s service or client, signed by `ca`: a SAN URI naming the agency
    /// (``AgencyIdentity``), the host names and addresses it serves on, for both server and client
    /// authentication. Valid from `notBefore` (default an hour ago) for `days`.
    public static func issue(
        agency: Agency, dnsNames: [String], ipAddresses: [String], by ca: Issued, now: Date = Date(), notBefore: Date? = nil, days: Int = 397
    ) throws -> Issued {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CommonName(agency.name)
        }
        var names: [GeneralName] = [.uniformResourceIdentifier(AgencyIdentity.uri(for: agency))]
        names += dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            guard let bytes = ipBytes(address) else { throw PKIError("\(address) is not an IP address") }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let start = notBefore ?? now - 3600
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: start,
            notValidAfter: start + Double(days) * 86_400, issuer: ca.certificate.subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: .init(key.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(ca.key))
        return Issued(certificate: certificate, key: key)
    }

    /// An agency's act-signing certificate, signed by `ca`: an Ed25519 key for signing the acts
    /// the orchestrator relays (``ActSigner``), naming the agency; no TLS use.
    public static func issueActCertificate(
        agency: Agency, by ca: Issued, now: Date = Date(), notBefore: Date? = nil, days: Int = 397
    ) throws -> (certificate: Certificate, key: Curve25519.Signing.PrivateKey) {
        let key = Curve25519.Signing.PrivateKey()
        let start = notBefore ?? now - 3600
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey), notValidBefore: start,
            notValidAfter: start + Double(days) * 86_400, issuer: ca.certificate.subject,
            subject: try DistinguishedName { CommonName("\(agency.name) acts") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                SubjectAlternativeNames([.uniformResourceIdentifier(AgencyIdentity.uri(for: agency))])
                AuthorityKeyIdentifier(keyIdentifier: try ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(ca.key))
        return (certificate, key)
    }

    /// A CA read back from its PEM certificate and key.
    public static func loadCA(certificatePEM: String, keyPEM: String) throws -> Issued {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw PKIError("the CA key is not the key of the CA certificate")
        }
        return Issued(certificate: certificate, key: key)
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }
}

/// Why a certificate could not be made.
public struct PKIError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
