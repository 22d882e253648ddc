// End to end: referrals submitted to a running orchestrator, as hsbctl submits them. Each reply
// comes after the orchestrator wrote the case and its outbox step, intake screened and stored the
// referral, and the orchestrator recorded the screening: three durable commits in two services.
// Also the disk's own rate: one writer, one fsync per write, in the folder the stores use.
//
// Usage:
//   EndToEnd fsync DIR SECONDS
//   EndToEnd referrals HOST:PORT[,HOST:PORT...] SECRET-HEX CONCURRENCY SECONDS [PID ...]
// Several orchestrators (replicas on one store) share the callers' connections between them.
// `referrals` prints the referrals/s as a plain number, then one Markdown row: concurrency, referrals/s, p50/p99/p99.9 ms, and the largest
// resident size of each PID sampled during the run (MiB).
import BenchSupport
import Foundation
import HSBRuntime
import HSBWire
import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("EndToEnd: \(message)\n".utf8))
    exit(64)
}

/// Resident set size of `pid` in MiB, from /proc.
func residentMiB(_ pid: Int32) -> Double {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return 0 }
    return kib / 1024
}

func fsyncRate(directory: String, seconds: Double) -> Double {
    let path = "\(directory)/fsync-probe-\(getpid())"
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { fail("cannot create \(path)") }
    defer {
        close(fd)
        unlink(path)
    }
    let block = [UInt8](repeating: 0x42, count: 4096)
    let clock = ContinuousClock()
    let stop = clock.now + .milliseconds(Int(seconds * 1000))
    let started = clock.now
    var writes = 0
    while clock.now < stop {
        // Append, as a write-ahead log does, and make it durable before the next.
        guard block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == block.count, fsync(fd) == 0 else { fail("write or fsync failed") }
        writes += 1
    }
    return Double(writes) / secondsOf(clock.now - started)
}

func referral(_ worker: Int, _ index: Int) -> IntakeV1.Referral {
    IntakeV1.Referral(
        child: Subject(
            subjectID: "bench-\(worker)-\(index)-\(UInt32.random(in: 0...UInt32.max))", role: .childDisplayingHSB, givenName: "Jordan",
            familyName: "Bench\(worker)x\(index)", dateOfBirth: CalendarDate(year: 2011, month: 4, day: 2), postcode: "NW5 1AA"),
        personsHarmed: [
            IntakeV1.PersonHarmed(
                subject: Subject(
                    subjectID: "harmed-\(worker)-\(index)", role: .personHarmed, dateOfBirth: CalendarDate(year: 2014, month: 11, day: 30)))
        ],
        behaviours: [IntakeV1.Behaviour(catalogueId: "brook/13-17/red/8"), IntakeV1.Behaviour(catalogueId: "brook/13-17/amber/3")],
        harmIndicators: [.coercionIntimidationOrForce, .divergentAgesOrAbilities],
        referrer: "Designated safeguarding lead, Hill Secondary School",
        incidentDetails: "Followed a younger pupil into the changing rooms and touched him after being told to stop.",
        victimVulnerability: "three years younger", coercionEvidence: "blocked the door", referrerAssessedRisk: "high",
        otherChildrenMayBeAtRisk: .no, parentsTold: .yes, sexualActivity: true, significantHarmSuspected: true)
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "fsync":
    guard arguments.count == 3, let seconds = Double(arguments[2]) else { fail("usage: EndToEnd fsync DIR SECONDS") }
    print(grouped(fsyncRate(directory: arguments[1], seconds: seconds)))
case "referrals":
    guard arguments.count >= 5, let secret = AgencySecret(hex: arguments[2]), let concurrency = Int(arguments[3]),
        let seconds = Double(arguments[4])
    else { fail("usage: EndToEnd referrals HOST:PORT[,HOST:PORT...] SECRET-HEX CONCURRENCY SECONDS [PID ...]") }
    let targets = arguments[1].split(separator: ",").map { text -> (String, Int) in
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { fail("HOST:PORT expected, not \(text)") }
        return (String(parts[0]), port)
    }
    let pids = arguments.dropFirst(5).compactMap { Int32($0) }
    // One connection per 16 callers, as a practitioner-facing front end would share them (at least
    // one per orchestrator), spread over the orchestrators in turn.
    let clients = (0..<max(targets.count, concurrency / 16)).map { index in
        RPCClient(
            configuration: RPCClientConfiguration(host: targets[index % targets.count].0, port: targets[index % targets.count].1, retry: .none),
            signer: RequestSigner(agency: .education, secret: secret, user: "bench"), group: MultiThreadedEventLoopGroup.singleton)
    }
    let counter = Atomic<Int>(0)
    // Peak resident size of each service while the load runs.
    let peaks = Mutex<[Int32: Double]>([:])
    let sampling = Task {
        while !Task.isCancelled {
            for pid in pids {
                let size = residentMiB(pid)
                peaks.withLock { $0[pid] = max($0[pid] ?? 0, size) }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
    let result = try await load(workers: concurrency, seconds: seconds) { worker in
        let index = counter.add(1, ordering: .relaxed).newValue
        let view = try await clients[worker % clients.count].call(
            OrchestratorV1.Orchestrator.Method.submitReferral, OrchestratorV1.SubmitReferralRequest(referral: referral(worker, index)),
            options: CallOptions(timeout: .seconds(30), purpose: "benchmark"))
        guard view.status == "screened" else { fail("a referral came back \(view.status), not screened: \(view.steps.map(\.lastError))") }
    }
    sampling.cancel()
    for client in clients { await client.close() }
    let sizes = pids.map { pid in oneDecimal(peaks.withLock { $0[pid] ?? 0 }) }
    // The plain rate first (for sorting rounds), then the Markdown row.
    print(
        "\(Int(result.rate.rounded())) | \(concurrency) | \(grouped(result.rate)) | \(oneDecimal(result.micros(50) / 1000)) | \(oneDecimal(result.micros(99) / 1000)) | \(oneDecimal(result.micros(99.9) / 1000)) | \(sizes.joined(separator: " / ")) |"
    )
default:
    fail("usage: EndToEnd fsync DIR SECONDS | EndToEnd referrals HOST:PORT SECRET-HEX CONCURRENCY SECONDS [PID ...]")
}
