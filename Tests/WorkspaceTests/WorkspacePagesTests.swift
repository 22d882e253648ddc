import Foundation
import HSBPractice
import HSBSafeguarding
import HSBServiceKit
import HSBWire
import Mustache
import Testing

@testable import WorkspaceApp

@Suite struct WorkspacePagesTests {
    static func workspace() throws -> Workspace {
        let gateway = OrchestratorGateway(
            orchestrator: ServiceEndpoint(name: "orchestrator", host: "127.0.0.1", port: 1), credentials: [], endpoints: [])
        return try Workspace(configuration: WorkspaceConfiguration(accounts: [:]), gateway: gateway)
    }

    static let who = Practitioner(username: "mash.screener", agency: .socialCare, role: .practitioner)

    /// Whatever a case holds (a referrer's words, a subject id) is text on the page, never markup.
    @Test func aCaseIsEscapedWhereverItsTextAppears() throws {
        let hostile = "<script>alert(1)</script>\"'&"
        let view = OrchestratorV1.CaseView(
            caseId: "case-1", childSubjectId: hostile, status: hostile,
            deadlines: [
                OrchestratorV1.DeadlineEntry(
                    caseId: "case-1", taskId: "SCR-08/strategy-meeting/x", description: hostile, ruleId: "SCR-08", status: "open")
            ],
            chronology: [OrchestratorV1.ChronologyEntry(atUnixMs: 1_765_000_000_000, what: hostile, ruleIds: [hostile])],
            alerts: [hostile], withheld: [hostile],
            linked: [OrchestratorV1.LinkedCase(caseId: "case-2", subjectId: hostile, role: "person-harmed", threshold: hostile)])
        let html = try Self.workspace().render("case", Views.casePage(view, who: Self.who))
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("href=\"/rules/SCR-08\""))
        #expect(html.contains("Withheld from you (need to know, INF-04)"))
    }

    @Test func theTrayListsOverdueFirstAndFiltersByOwnerAndKind() throws {
        let list = OrchestratorV1.DeadlineList(
            overdue: [
                OrchestratorV1.DeadlineEntry(caseId: "case-b", description: "late two", owner: .socialCare, dueUnixMs: 2_000, ruleId: "STR-05"),
                OrchestratorV1.DeadlineEntry(
                    caseId: "case-a", description: "late one", owner: .socialCare, assignee: "mash.screener", dueUnixMs: 1_000, ruleId: "SCR-09"),
            ],
            dueSoon: [
                OrchestratorV1.DeadlineEntry(caseId: "case-c", description: "no limit", owner: .socialCare, dueUnixMs: 0, ruleId: "GEN-02"),
                OrchestratorV1.DeadlineEntry(caseId: "case-d", description: "soon", owner: .socialCare, dueUnixMs: 5_000, ruleId: "SCR-08"),
            ])
        func descriptions(_ model: [String: Any], _ section: Int) -> [String] {
            let sections = model["sections"] as? [[String: Any]] ?? []
            return (sections[section]["rows"] as? [[String: Any]] ?? []).compactMap { $0["description"] as? String }
        }
        let all = Views.tray(list, who: Self.who, owner: "team", kind: "")
        #expect(descriptions(all, 0) == ["late one", "late two"])
        #expect(descriptions(all, 1) == ["soon", "no limit"])
        #expect(descriptions(Views.tray(list, who: Self.who, owner: "mine", kind: ""), 0) == ["late one"])
        #expect(descriptions(Views.tray(list, who: Self.who, owner: "team", kind: "STR"), 0) == ["late two"])
        let html = try Self.workspace().render("tray", all)
        #expect(html.range(of: "late one")!.lowerBound < html.range(of: "late two")!.lowerBound)
        #expect(html.contains("Overdue (2)") && html.contains("Due this week (2)"))
    }

    @Test func everyRuleOnAPageHasItsClausesAndProcedures() throws {
        let rule = try #require(RuleCatalogue.rule("SCR-08"))
        let html = try Self.workspace().render("rule", Views.rule(rule))
        #expect(html.contains("ISL 5.3: Islington HSB procedure"))
        #expect(html.contains("CAM 8.3: Camden Safeguarding Children Partnership HSB protocol 2023"))
    }
}

@Suite struct OrchestratorGaugesTests {
    @Test func theOpsPageReadsTheOrchestratorsGaugesAndNothingElse() {
        let text = """
            # HELP hsb_orchestrator_deadlines_overdue Deadlines past due across all cases, as of the last count.
            # TYPE hsb_orchestrator_deadlines_overdue gauge
            hsb_orchestrator_deadlines_overdue 3.0
            hsb_orchestrator_deadlines_overdue_by_kind{rule="SCR-09",task="immediate-protection",owner="social-care"} 1.0
            hsb_orchestrator_deadlines_overdue_by_kind{rule="SCR-08",task="strategy \\"meeting\\"",owner="social-care"} 2.0
            hsb_orchestrator_outbox_pending 5
            hsb_orchestrator_outbox_dead 0.0
            hsb_orchestrator_requests_total{method="x",code="OK"} 10
            not a metric line
            """
        let gauges = OrchestratorGauges.parse(text)
        #expect(gauges.overdue == 3 && gauges.outboxPending == 5 && gauges.outboxDead == 0 && gauges.oldestPendingSeconds == nil)
        #expect(
            gauges.overdueByKind == [
                .init(rule: "SCR-08", task: "strategy \"meeting\"", owner: "social-care", count: 2),
                .init(rule: "SCR-09", task: "immediate-protection", owner: "social-care", count: 1),
            ])
        #expect(OrchestratorGauges.parse("") == OrchestratorGauges())
    }
}

@Suite struct CaseTextTests {
    /// Times are shown in UK local time, the clock deadlines are counted in, GMT and BST alike.
    @Test func timesAreUKLocalTime() {
        // 2026-12-07 09:30 UTC (GMT) and 2026-07-01 12:05 UTC (BST, 13:05 local); 1999-12-31 23:59:59 UTC.
        #expect(CaseText.date(1_796_635_800_000) == "Mon 7 Dec 2026 09:30")
        #expect(CaseText.date(1_782_907_500_000) == "Wed 1 Jul 2026 13:05")
        #expect(CaseText.date(946_684_799_000) == "Fri 31 Dec 1999 23:59")
        // The first minute of BST: 01:00 UTC on the last Sunday of March 2026 is 02:00 local.
        #expect(CaseText.date(1_774_746_000_000) == "Sun 29 Mar 2026 02:00")
        #expect(CaseText.localDate(1_782_907_500_000) == CivilDate(2026, 7, 1))
    }
}

@Suite struct HTMLEscapingTests {
    /// The workspace's escaping is Mustache's own, byte for byte, only faster.
    @Test func escapesExactlyAsMustacheDoes() throws {
        let template = try MustacheTemplate(string: "{{x}}")
        for text in ["", "plain", "<script>alert('x')</script>", "a & b \"quoted\" > c", "émoji 🧒 <b>", String(repeating: "<&>", count: 500)] {
            #expect(HTML.escape(text) == template.render(["x": text]), "\(text.prefix(40))")
            var html = HTML()
            html.value(text)
            #expect(html.text == HTML.escape(text))
        }
    }
}
