import Foundation
import HSBRuntime
import HSBWire
import NIOPosix
import Testing

@Suite("SIGHUP reloads a running service's TLS material", .timeLimit(.minutes(1)))
struct ReloadTests {
    @Test("A new certificate and a CA bundle written to disk take effect on SIGHUP: a client of the new CA is refused before and served after")
    func sighupReloadsCertificates() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hsb-reload-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(folder)/data", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let old = try PartnershipPKI.makeCA(name: "Old")
        let new = try PartnershipPKI.makeCA(name: "New")
        func write(_ issued: PartnershipPKI.Issued, _ name: String) throws {
            try issued.certificatePEM.write(toFile: "\(folder)/\(name).pem", atomically: true, encoding: .utf8)
            try issued.keyPEM.write(toFile: "\(folder)/\(name)-key.pem", atomically: true, encoding: .utf8)
        }
        try old.certificatePEM.write(toFile: "\(folder)/trust.pem", atomically: true, encoding: .utf8)
        try new.certificatePEM.write(toFile: "\(folder)/new-ca.pem", atomically: true, encoding: .utf8)
        try write(try PartnershipPKI.issue(agency: .socialCare, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], by: old), "intake")
        try write(try PartnershipPKI.issue(agency: .orchestrator, dnsNames: [], ipAddresses: [], by: new), "caller")

        let port = try freePort()
        let binary = packageRoot.appendingPathComponent(".build/debug/intake").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", "\(port)", "--ops-port", "0", "--data-dir", "\(folder)/data", "--local-authority", "Camden", "--tls-certificate",
            "\(folder)/intake.pem", "--tls-key", "\(folder)/intake-key.pem", "--tls-ca", "\(folder)/trust.pem",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        // A caller whose certificate is from the new CA, trusting only the new CA.
        let caller = try TLSMaterial(
            files: TLSFiles(certificate: "\(folder)/caller.pem", key: "\(folder)/caller-key.pem", trustedCAs: "\(folder)/new-ca.pem"))
        func check() async -> RPCError? {
            let client = RPCClient(
                configuration: RPCClientConfiguration(host: "127.0.0.1", port: port, retry: .none, tls: caller, expectedAgency: .socialCare),
                signer: RequestSigner(agency: .orchestrator), group: MultiThreadedEventLoopGroup.singleton)
            defer { Task { await client.close() } }
            do {
                _ = try await client.call(HealthV1.Health.Method.check, HealthCheckRequest(), options: CallOptions(timeout: .seconds(2)))
                return nil
            } catch {
                return error
            }
        }
        // Until the service listens, and then: refused, because neither side trusts the other's CA.
        var before = await check()
        for _ in 0..<100 where before?.message.contains("TLS handshake") != true {
            try await Task.sleep(for: .milliseconds(100))
            before = await check()
        }
        #expect(before?.message.contains("the TLS handshake with the service failed") == true, "\(String(describing: before))")

        // The operator installs a certificate from the new CA and a bundle of both, then SIGHUP.
        try write(try PartnershipPKI.issue(agency: .socialCare, dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], by: new), "intake")
        try (old.certificatePEM + new.certificatePEM).write(toFile: "\(folder)/trust.pem", atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        var after = await check()
        for _ in 0..<50 where after != nil {
            try await Task.sleep(for: .milliseconds(100))
            after = await check()
        }
        #expect(after == nil, "after SIGHUP: \(String(describing: after))")
        #expect(process.isRunning, "SIGHUP reloads; it does not stop the service")
    }
}
