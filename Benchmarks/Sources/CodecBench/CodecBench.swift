// Encode + decode of a realistic referral (two subjects, several behaviours, harm indicators, a
// referrer, incident text): the suite's wire module (protobuf-c underneath, Swift values on top)
// beside swift-protobuf with the same .proto, and protobuf-c's own pack/unpack called from C with
// no Swift conversion (the limit). Contenders alternate in the same run; medians of the rounds.
// Usage: CodecBench [seconds-per-round] [rounds]
import BenchSupport
import CBareCodec
import Foundation
import HSBWire
import SwiftProtobuf
import SwiftProtobufMessages

let secondsPerRound = argument(1, default: 2)
let rounds = Int(argument(2, default: 5))

let referral = IntakeV1.Referral(
    child: Subject(
        subjectID: "child-7f3a9c", role: .childDisplayingHSB, givenName: "Jordan", familyName: "Example",
        dateOfBirth: CalendarDate(year: 2011, month: 4, day: 2), postcode: "NW5 1AA", homeAuthority: "Camden", lookedAfter: false,
        openToSocialCare: true),
    personsHarmed: [
        IntakeV1.PersonHarmed(
            subject: Subject(
                subjectID: "harmed-22b1", role: .personHarmed, givenName: "Alex", familyName: "Sample",
                dateOfBirth: CalendarDate(year: 2014, month: 11, day: 30), postcode: "NW5 2BB"))
    ],
    behaviours: [
        IntakeV1.Behaviour(catalogueId: "brook/13-17/red/8"), IntakeV1.Behaviour(catalogueId: "brook/13-17/amber/3"),
        IntakeV1.Behaviour(catalogueId: "brook/13-17/amber/11"), IntakeV1.Behaviour(otherDescription: "sent messages pressing for images"),
    ],
    harmIndicators: [.coercionIntimidationOrForce, .divergentAgesOrAbilities, .emotionalDistress],
    incidentDate: CalendarDate(year: 2026, month: 11, day: 18),
    referrer: "Designated safeguarding lead, Hill Secondary School",
    incidentDetails:
        "During a PE lesson a pupil reported that Jordan had followed a younger pupil into the changing rooms, blocked the door and touched him over his clothing after being told to stop. The younger pupil was distressed and told a teacher the same afternoon.",
    victimVulnerability: "three years younger; has a learning difficulty", coercionEvidence: "blocked the door; threatened to share a photo",
    referrerAssessedRisk: "high", otherChildrenMayBeAtRisk: .yes, parentsTold: .yes, urgentByTelephone: true, physicallyViolent: false,
    sexualActivity: true, significantHarmSuspected: true, siblingsAtRisk: true, mentalHealthConcern: true)

let bytes = try referral.encoded()
let swiftProtobufDecoded = try Hsb_Intake_V1_Referral(serializedBytes: bytes)
// The same bytes mean the same referral to all three.
let throughSwiftProtobuf = try IntakeV1.Referral(decoding: swiftProtobufDecoded.serializedBytes() as [UInt8])
precondition(throughSwiftProtobuf == referral)
precondition(hsb_bench_referral_roundtrip(bytes, bytes.count, 1) == bytes.count)

/// Runs `batch` round trips per call until `seconds` pass; nanoseconds per round trip.
func measure(seconds: Double, batch: Int = 1000, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let stop = clock.now + .milliseconds(Int(seconds * 1000))
    var count = 0
    let started = clock.now
    while clock.now < stop {
        for _ in 0..<batch { try body() }
        count += batch
    }
    return secondsOf(clock.now - started) * 1e9 / Double(count)
}

var sink = 0
let contenders: [(name: String, body: () throws -> Void)] = [
    (
        "suite wire module (HSBWire)",
        {
            let decoded = try IntakeV1.Referral(decoding: bytes)
            sink &+= try decoded.encoded().count
        }
    ),
    (
        "swift-protobuf 1.39",
        {
            let decoded = try Hsb_Intake_V1_Referral(serializedBytes: bytes)
            sink &+= (try decoded.serializedBytes() as [UInt8]).count
        }
    ),
    ("protobuf-c from C (no Swift)", { sink &+= hsb_bench_referral_roundtrip(bytes, bytes.count, 1000) }),
]

var results = [[Double]](repeating: [], count: contenders.count)
for contender in contenders { _ = try measure(seconds: 0.3, batch: contender.name.hasPrefix("protobuf-c") ? 1 : 1000, contender.body) }
for _ in 0..<rounds {
    for (index, contender) in contenders.enumerated() {
        let isC = contender.name.hasPrefix("protobuf-c")
        let perCall = try measure(seconds: secondsPerRound, batch: isC ? 1 : 1000, contender.body)
        results[index].append(isC ? perCall / 1000 : perCall)
    }
}
let suite = median(results[0])
let swiftProtobuf = median(results[1])
let bare = median(results[2])
print("Referral: \(bytes.count) bytes on the wire.")
print("")
print("| contender | encode + decode, ns (median of \(rounds)) | round trips/s | time vs the suite |")
print("|---|---:|---:|---:|")
for (index, contender) in contenders.enumerated() {
    let ns = median(results[index])
    print("| \(contender.name) | \(grouped(ns)) | \(grouped(1e9 / ns)) | \(ratio(ns / suite)) |")
}
print("")
print("- suite vs swift-protobuf: \(ratio(swiftProtobuf / suite)) faster (target at least 1.50x)")
print("- suite vs bare protobuf-c: \(ratio(suite / bare)) the C time (target within 1.50x)")
if sink == 42 { print("") }
