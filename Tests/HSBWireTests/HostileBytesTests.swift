import HSBWire
import Testing

@Suite("Decoding hostile bytes fails with an error naming what is wrong, never a crash")
struct HostileBytesTests {
    @Test func invalidUTF8IsNamed() {
        // Subject.subject_id (field 1, length-delimited) = 0xFF 0xFE.
        let bytes: [UInt8] = [0x0A, 0x02, 0xFF, 0xFE, 0x10, 0x01]
        #expect(throws: WireError.invalidString(field: "hsb.common.v1.Subject.subject_id", reason: "is not valid UTF-8")) {
            try Subject(decoding: bytes)
        }
    }

    @Test func enumValuesThisBuildDoesNotKnowAreCarriedNotRefused() throws {
        // Proto3 enums are open: a newer peer's status code or agency decodes, and re-encodes as sent.
        // Response.status (field 2, varint) = 99.
        let response = try ResponseEnvelope(decoding: [0x08, 0x01, 0x10, 99])
        #expect(response.status == .unrecognized(99) && !response.status.isRecognized && "\(response.status)" == "STATUS_99")
        #expect(try response.encoded() == [0x08, 0x01, 0x10, 99])
        // Decision.notify (field 5, packed) = [2, 77].
        let decision = try Decision(decoding: [0x0A, 0x01, 0x78, 0x2A, 0x02, 0x02, 77])
        #expect(decision.notify == [.youthJustice, .unrecognized(77)] && decision.notify[1].name == "agency-77")
        #expect(try Decision(decoding: try decision.encoded()) == decision)
        // Generated enums too.
        #expect(IntakeV1.ParentsTold(rawValue: 40) == .unrecognized(40) && IntakeV1.ParentsTold(rawValue: 1) == .yes)
        #expect(!IntakeV1.ParentsTold.allCases.contains(.unrecognized(40)))
    }

    @Test func missingRequiredFieldsAreNamedTogether() {
        #expect(throws: WireError.missingFields(["hsb.rpc.v1.Request.request_id", "hsb.rpc.v1.Request.method"])) {
            try RequestEnvelope(decoding: [])
        }
        // A credential with neither agency nor time (its signature is optional: TLS links carry none).
        #expect(throws: WireError.missingFields(["hsb.rpc.v1.Credential.agency", "hsb.rpc.v1.Credential.signed_at_unix_ms"])) {
            try Credential(decoding: [])
        }
        #expect(throws: WireError.missingFields(["hsb.rpc.v1.Credential.signed_at_unix_ms"])) {
            try Credential(decoding: [0x08, 0x05])
        }
        // A nested message's own required field is named with its message.
        var task = Fixtures.task
        task.deadline?.kind = .unspecified
        #expect(throws: WireError.missingFields(["hsb.common.v1.Deadline.kind"])) {
            try CaseTask(decoding: try task.encoded())
        }
    }

    @Test func malformedBytesAreRefused() {
        // A length prefix running past the end of the input.
        #expect(throws: WireError.malformed(message: "hsb.rpc.v1.Request", byteCount: 3)) {
            try RequestEnvelope(decoding: [0x12, 0x7F, 0x41])
        }
        // A varint that never ends.
        #expect(throws: WireError.malformed(message: "hsb.rpc.v1.Response", byteCount: 11)) {
            try ResponseEnvelope(decoding: [0x08] + Array(repeating: 0xFF, count: 10))
        }
    }

    @Test func allocationBeyondTheBudgetIsRefused() throws {
        // 20,000 empty Decision.tasks entries: 2 bytes each on the wire, a whole Task struct each in memory.
        let entries = 20_000
        var bytes: [UInt8] = [0x0A, 0x01, 0x78]
        for _ in 0..<entries { bytes += [0x22, 0x00] }
        let tight = DecodeLimits(bytesPerInputByte: 8, baseBudget: 1024, maxRepeatedEntries: .max)
        #expect(throws: WireError.allocationBudgetExceeded(message: "hsb.common.v1.Decision", budget: tight.budget(forInputCount: bytes.count))) {
            try Decision(decoding: bytes, limits: tight)
        }
        // A budget that allows it, and then the empty tasks' missing ids are named.
        #expect(throws: WireError.missingFields(["hsb.common.v1.Task.task_id"])) {
            try Decision(decoding: bytes, limits: DecodeLimits(bytesPerInputByte: 256, baseBudget: 1024, maxRepeatedEntries: .max))
        }
        // The default limits refuse so many entries before anything is unpacked.
        #expect(throws: WireError.tooManyEntries(field: "hsb.common.v1.Decision.tasks", count: 4097, limit: 4096)) {
            try Decision(decoding: bytes)
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var rng = SplitMix64(seed: 0x4853_4221)
        var outcomes = [String: Int]()
        for round in 0..<20_000 {
            let length = Int(rng.next() % 64)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Half the inputs start from a valid encoding and flip bytes, to get past the first tag.
            if round % 2 == 0, var valid = try? Fixtures.request.encoded() {
                for _ in 0..<3 { valid[Int(rng.next() % UInt64(valid.count))] = UInt8(truncatingIfNeeded: rng.next()) }
                bytes = valid
            }
            outcomes[Self.classify { try RequestEnvelope(decoding: bytes) }, default: 0] += 1
            outcomes[Self.classify { try Decision(decoding: bytes) }, default: 0] += 1
            outcomes[Self.classify { try ResponseEnvelope(decoding: bytes) }, default: 0] += 1
        }
        #expect(outcomes.values.reduce(0, +) == 60_000)
        #expect(outcomes.keys.allSatisfy { !$0.hasPrefix("unexpected") }, "\(outcomes)")
        #expect(outcomes["malformed", default: 0] > 0)
        #expect(outcomes["decoded", default: 0] > 0)
    }

    static func classify(_ body: () throws -> some Any) -> String {
        do {
            _ = try body()
            return "decoded"
        } catch let error as WireError {
            switch error {
            case .malformed: return "malformed"
            case .allocationBudgetExceeded: return "budget"
            case .missingFields: return "missing"
            case .enumOutOfRange: return "enum"
            case .invalidString: return "string"
            case .tooManyEntries: return "entries"
            case .invalidJSON: return "json"
            case .stringTooLong: return "long"
            case .nestedTooDeeply: return "deep"
            case .outOfRange: return "range"
            }
        } catch {
            return "unexpected \(type(of: error))"
        }
    }
}

/// A small deterministic generator, so a failing input can be reproduced.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
