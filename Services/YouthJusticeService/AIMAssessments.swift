import Foundation
import HSBContract
public import HSBRuntime
import HSBSafeguarding
import HSBServiceKit
import HSBStorage
public import HSBWire

extension YouthJusticeService {
    /// AIM assessments: who leads, the stage, consent and when it is due beside the assessment as
    /// JSON (`document`), which the rules read back whole.
    static let aimTable = RecordTable(
        kind: "aim-assessment", table: "aim_assessments",
        columns: [
            .init("lead", .text), .init("co_worker", .text, nullable: true), .init("stage", .text), .init("consent", .text, nullable: true),
            .init("due_unix_ms", .integer), .init("document", .text),
        ])

    /// Moves AIM assessments from the generic table of earlier releases (the same JSON).
    static let aimMigration = aimTable.migration(version: 202) { record in
        guard let assessment = try? JSONDecoder().decode(AIMAssessment.self, from: Data(record.body.utf8)) else { return nil }
        return try? aimValues(assessment)
    }

    static func aimValues(_ assessment: AIMAssessment) throws(RecordStoreError) -> [SQLValue] {
        [
            .text(assessment.lead.rawValue), .optional(assessment.coWorker?.rawValue), .text(assessment.stage.rawValue),
            .optional(assessment.consentGiven.map { $0 ? "given" : "refused" }), .integer(assessment.due.due.unixMillis),
            .text(try encodeAssessment(assessment)),
        ]
    }

    static func leadAgency(_ agency: Agency) throws(RPCError) -> LeadAgency {
        switch agency {
        case .youthJustice: return .youthJustice
        case .socialCare: return .socialCare
        default: throw RPCError(.permissionDenied, "only youth justice and children's social care take part in AIM assessments (YJ-04)")
        }
    }

    static func wire(_ assessment: AIMAssessment, id: String, version: Int64) -> YouthjusticeV1.AIMRecord {
        YouthjusticeV1.AIMRecord(
            recordId: id, subjectId: assessment.subjectID, lead: assessment.lead.rawValue, coWorker: assessment.coWorker?.rawValue ?? "",
            stage: assessment.stage.rawValue, consent: assessment.consentGiven.map { $0 ? "given" : "refused" } ?? "",
            onBestAvailableInformation: assessment.onBestAvailableInformation,
            reportSections: AIMReportSection.allCases.filter(assessment.sections.contains).map(\.rawValue),
            due: Deadline(
                kind: DecisionWire.deadlineKind(assessment.due.rule), dueUnixMillis: assessment.due.due.unixMillis, ruleID: "YJ-05",
                description: "\(assessment.due.rule), by \(assessment.due.date)"),
            version: version,
            citations: ["YJ-04", "YJ-05"].map { RuleCatalogue.cite($0) }.map { RuleCitation(ruleID: $0.ruleID, source: $0.source) })
    }

    static func encodeAssessment(_ assessment: AIMAssessment) throws(RecordStoreError) -> String {
        do { return String(decoding: try JSONEncoder().encode(assessment), as: UTF8.self) } catch {
            throw .storage(StorageError(operation: "encode AIM assessment", message: "\(error)"))
        }
    }

    public func startAIMAssessment(
        _ request: YouthjusticeV1.StartAIMAssessmentRequest, context: CallerContext
    ) async throws -> YouthjusticeV1.AIMRecord {
        _ = try Self.leadAgency(context.caller.agency)
        let now = Instant(unixMillis: resources.clock.nowUnixMillis())
        let person = try YoungPerson(request.youngPerson!, now: now)
        guard let route = CaseRoute(rawValue: request.route) else {
            throw RPCError(.invalidArgument, "route must be criminal-justice or concern")
        }
        let assessment = try AIMRules.start(
            subjectID: person.subjectID, age: person.age, route: route, openToYouthJustice: person.openToYouthJustice,
            leadAssessorTrained: request.leadAssessorTrained, timescaleWeeks: Int(request.timescaleWeeks), at: now, profile: profile,
            deadlines: deadlines)
        let id = ServiceResources.newID("aim")
        let reply = Self.wire(assessment, id: id, version: 1)
        let caller = context.caller
        return try await resources.idempotentWrite(context, now: now.unixMillis) { tx throws(RecordStoreError) in
            try tx.insert(Self.aimTable, id: id, subjectID: person.subjectID, values: try Self.aimValues(assessment))
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Self.aimTable.kind, recordID: id,
                purpose: context.purpose.isEmpty ? "AIM assessment" : context.purpose, requestID: String(context.requestID))
            return reply
        }
    }

    public func updateAIMAssessment(
        _ request: YouthjusticeV1.UpdateAIMAssessmentRequest, context: CallerContext
    ) async throws -> YouthjusticeV1.AIMRecord {
        let caller = context.caller
        let actor = try Self.leadAgency(caller.agency)
        let action: AIMAction
        switch request.action {
        case .unspecified: throw RPCError(.invalidArgument, "action is unspecified")
        case .unrecognized(let value): throw RPCError.unrecognized("action", value)
        case .recordConsent: action = .recordConsent(given: request.consentGiven)
        case .proceedWithoutEngagement: action = .proceedWithoutEngagement
        case .shareReport: action = .shareReport
        case .completeReport:
            var sections: Set<AIMReportSection> = []
            for (index, name) in request.reportSections.enumerated() {
                guard let section = AIMReportSection(rawValue: name) else {
                    throw RPCError(.invalidArgument, "report_sections[\(index)] '\(name)' is not a section of the AIM report")
                }
                sections.insert(section)
            }
            action = .completeReport(sections: sections)
        }
        let now = resources.clock.nowUnixMillis()
        // A rule's refusal rolls the transaction back and is answered as FAILED_PRECONDITION.
        return try await resources.idempotentWrite(context, now: now) { tx throws(RecordStoreError) in
            guard let record = try tx.get(Self.aimTable, id: request.recordId) else {
                throw .notFound(kind: Self.aimTable.kind, id: request.recordId)
            }
            guard record.version == request.expectedVersion else {
                throw .versionConflict(kind: Self.aimTable.kind, id: record.id, expected: request.expectedVersion, actual: record.version)
            }
            guard let current = try? JSONDecoder().decode(AIMAssessment.self, from: Data((record["document"] ?? "").utf8)) else {
                throw .storage(StorageError(operation: "read AIM assessment", message: "record \(record.id) is unreadable"))
            }
            let next: AIMAssessment
            do throws(ScreeningInputError) {
                next = try AIMRules.apply(action, by: actor, to: current)
            } catch {
                throw .refused(.failedPrecondition, error.problems.joined(separator: "; "))
            }
            let updated = try tx.update(Self.aimTable, id: record.id, expectedVersion: record.version, values: try Self.aimValues(next))
            try tx.logAccess(
                agency: caller.agency.name, user: caller.user, action: .write, kind: Self.aimTable.kind, recordID: record.id,
                purpose: context.purpose.isEmpty ? "AIM assessment" : context.purpose, requestID: String(context.requestID))
            return Self.wire(next, id: record.id, version: updated.version)
        }
    }
}
