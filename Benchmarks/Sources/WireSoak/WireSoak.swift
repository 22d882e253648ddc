// Runs the wire module's encode and decode paths, successes and every error path, many times,
// and reports resident memory as it goes: flat memory means every C allocation is freed.
// Usage: WireSoak [iterations]   (default 1,000,000)
import HSBWire

#if canImport(Glibc)
    import Glibc
#endif

func residentKiB() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return -1 }
    defer { fclose(file) }
    var size = 0
    var resident = 0
    guard fscanf_pair(file, &size, &resident) else { return -1 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

func fscanf_pair(_ file: UnsafeMutablePointer<FILE>, _ a: inout Int, _ b: inout Int) -> Bool {
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, 256, file) != nil else { return false }
    let bytes = line.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
    let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ")
    guard fields.count >= 2, let x = Int(fields[0]), let y = Int(fields[1]) else { return false }
    a = x
    b = y
    return true
}

let iterations = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let deadline = Deadline(kind: .workingDays, dueUnixMillis: 1_700_000_000_000, ruleID: "SCR-08", description: "HSB strategy meeting")
let decision = Decision(
    outcome: "child protection", subjectIDs: ["s-1", "s-2"], routes: ["child-protection", "criminal-justice"],
    tasks: [CaseTask(taskID: "t-1", description: "Convene the HSB strategy meeting", owner: .socialCare, deadline: deadline, ruleID: "SCR-08")],
    notify: [.youthJustice, .police], citations: [RuleCitation(ruleID: "SCR-08", source: "ISL 5.3")],
    rationale: "Red behaviour with coercion.")
let request = RequestEnvelope(
    requestID: 1, method: IntakeV1.Intake.Method.submitReferral.fullName, timeoutMillis: 1000, idempotencyKey: "k",
    credential: Credential(agency: .orchestrator, signedAtUnixMillis: 1, signature: Array(repeating: 7, count: 32)),
    payload: Array(repeating: 0x41, count: 200))
let bomb: [UInt8] = [0x0A, 0x01, 0x78] + Array(repeating: [UInt8]([0x22, 0x00]), count: 500).flatMap { $0 }
let tight = DecodeLimits(bytesPerInputByte: 4, baseBudget: 256)
var nulDecision = decision
nulDecision.routes.append("bad\u{0}route")

var checksum = 0
var failures = 0
print("iterations,resident_kib")
print("0,\(residentKiB())")
for i in 1...iterations {
    do {
        let bytes = try request.encoded()
        checksum &+= try RequestEnvelope(decoding: bytes).payload.count
        let decisionBytes = try decision.encoded()
        checksum &+= try Decision(decoding: decisionBytes).tasks.count
    } catch {
        fatalError("a valid message failed: \(error)")
    }
    // Error paths: malformed bytes, a budget refusal part-way through, invalid UTF-8, NUL on encode.
    do { _ = try RequestEnvelope(decoding: [0x12, 0x7F, 0x41]) } catch { failures += 1 }
    do { _ = try Decision(decoding: bomb, limits: tight) } catch { failures += 1 }
    do { _ = try Decision(decoding: [0x0A, 0x02, 0xFF, 0xFE]) } catch { failures += 1 }
    do { _ = try nulDecision.encoded() } catch { failures += 1 }
    if i % (iterations / 10 == 0 ? 1 : iterations / 10) == 0 { print("\(i),\(residentKiB())") }
}
precondition(failures == iterations * 4, "every error path should have failed")
print("# checksum \(checksum), error paths taken \(failures)")
