import ArgumentParser
import Foundation
import HSBRuntime
import HSBWire

/// `hsbctl pki init|issue`: a partnership CA and agency certificates, for development and the
/// local suite. In production each certificate comes from the councils' own CA (docs/SECURITY.md).
struct PKI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pki",
        abstract: "Make a local partnership CA and agency certificates for mutual TLS.",
        discussion: """
            For development, tests and the local suite. A partnership in production issues each agency's certificate from \
            its own CA; a certificate only has to chain to a CA in the services' --tls-ca file and name its agency as a \
            subject alternative name URI hsb://agency/<agency>.
            """,
        subcommands: [PKIInit.self, PKIIssue.self])
}

/// Writes `text` to `path` with `mode`, refusing to overwrite what is there.
func writeNew(_ path: String, _ text: String, mode: Int) throws {
    guard !FileManager.default.fileExists(atPath: path) else {
        throw ValidationError("\(path) already exists; remove it first if you mean to replace it")
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
        throw ValidationError("cannot write \(path)")
    }
}

struct PKIInit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a CA: <dir>/ca.pem (give it to every service and client) and <dir>/ca-key.pem (keep it secret).")

    @Option(help: "Folder for the CA's files (made 0700 if missing).")
    var dir: String

    @Option(help: "The partnership's name, in the CA's subject.")
    var name = "Local"

    @Option(help: "Days the CA is valid.")
    var days = 3650

    func run() async throws {
        guard (1...36_500).contains(days) else { throw ValidationError("--days must be 1 to 36500") }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let ca = try PartnershipPKI.makeCA(name: name, days: days)
        try writeNew("\(dir)/ca-key.pem", ca.keyPEM, mode: 0o600)
        try writeNew("\(dir)/ca.pem", try ca.certificatePEM, mode: 0o644)
        print("CA written: \(dir)/ca.pem (trust this), \(dir)/ca-key.pem (secret; only whoever issues certificates needs it)")
    }
}

struct PKIIssue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract:
            "Issue an agency's certificates from the CA in --dir: for TLS (<agency>.pem, <agency>-key.pem) and for signing its acts (<agency>-act.pem, <agency>-act-key.pem)."
    )

    @Argument(help: "The agency: orchestrator, social-care, youth-justice, camhs, mappa, police, education, health or ops.")
    var agency: String

    @Option(help: "Folder holding ca.pem and ca-key.pem; the certificate is written there.")
    var dir: String

    @Option(name: .customLong("dns"), help: "A host name the service answers on; repeat for each. Default: localhost.")
    var dnsNames: [String] = []

    @Option(name: .customLong("ip"), help: "An IP address the service answers on; repeat for each. Default: 127.0.0.1 and ::1.")
    var ipAddresses: [String] = []

    @Option(help: "Days the certificate is valid (at most 397, as public CAs allow).")
    var days = 397

    @Option(help: "File name without .pem (default: the agency), e.g. youth-justice-2027 for a rotation.")
    var name: String?

    func run() async throws {
        guard let agency = Agency(name: agency) else {
            throw ValidationError(
                "\(agency) is not an agency of the suite; known: \(Agency.allCases.dropFirst().map(\.name).joined(separator: ", "))")
        }
        guard (1...397).contains(days) else { throw ValidationError("--days must be 1 to 397") }
        let caText: String
        let keyText: String
        do {
            caText = try String(contentsOfFile: "\(dir)/ca.pem", encoding: .utf8)
            keyText = try String(contentsOfFile: "\(dir)/ca-key.pem", encoding: .utf8)
        } catch {
            throw ValidationError("cannot read the CA in \(dir) (ca.pem, ca-key.pem): run hsbctl pki init --dir \(dir) first")
        }
        let ca = try PartnershipPKI.loadCA(certificatePEM: caText, keyPEM: keyText)
        let issued = try PartnershipPKI.issue(
            agency: agency, dnsNames: dnsNames.isEmpty ? ["localhost"] : dnsNames,
            ipAddresses: ipAddresses.isEmpty && dnsNames.isEmpty ? ["127.0.0.1", "::1"] : ipAddresses, by: ca, days: days)
        let base = "\(dir)/\(name ?? agency.name)"
        try writeNew("\(base)-key.pem", issued.keyPEM, mode: 0o600)
        try writeNew("\(base).pem", try issued.certificatePEM, mode: 0o644)
        // The orchestrator relays acts and never makes one; ops does no case work: no act key for either.
        guard ![.orchestrator, .ops].contains(agency) else {
            print("certificate for \(agency.name) written (valid until \(issued.certificate.notValidAfter)): \(base).pem and \(base)-key.pem for TLS")
            return
        }
        let act = try PartnershipPKI.issueActCertificate(agency: agency, by: ca, days: days)
        try writeNew("\(base)-act-key.pem", ActSigner.pem(act.key), mode: 0o600)
        try writeNew("\(base)-act.pem", try act.certificate.serializeAsPEM().pemString, mode: 0o644)
        print(
            "certificates for \(agency.name) written (valid until \(issued.certificate.notValidAfter)): \(base).pem and \(base)-key.pem for TLS, \(base)-act.pem and \(base)-act-key.pem for signing its acts"
        )
    }
}
