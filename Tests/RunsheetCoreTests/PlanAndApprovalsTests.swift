import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The `--dry-run` plan and the approvals view, rendered in Core and checked against expected files.
@Suite struct PlanAndApprovalsTests {
    static func checkoutDeploy(_ releaseClass: ReleaseClass? = nil) throws -> Runbook {
        let path = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/checkout-deploy.md").path
        var runbook = try Compiler().compile(path: path).runbook
        runbook.path = "runbooks/checkout-deploy.md"
        if let releaseClass { runbook.releaseClass = releaseClass }
        return runbook
    }

    static func plan(_ runbook: Runbook, _ values: [String: String]) -> String {
        Plan.render(runbook, values: values, policy: Policy.effective(for: runbook, repository: nil)[runbook.releaseClass])
    }

    @Test func planWithEveryValue() throws {
        let runbook = try Self.checkoutDeploy()
        let values = ["version": "1.4.2", "region": "eu-west-1", "notify_token": "s3cret-token"]
        let plan = Self.plan(runbook, values)
        try Golden.check(plan, against: "plan/checkout-deploy.txt")
        #expect(!plan.contains("s3cret-token"), "a secret is masked")
    }

    /// Another region skips the EU step; a missing value stays a placeholder; the standard class
    /// skips gates.
    @Test func planWithMissingValuesUnderAnotherClass() throws {
        let runbook = try Self.checkoutDeploy(.standard)
        try Golden.check(Self.plan(runbook, ["region": "us-east-1"]), against: "plan/checkout-deploy-standard-us.txt")
    }

    /// The same input gives the same bytes.
    @Test func planIsDeterministic() throws {
        let runbook = try Self.checkoutDeploy(.emergency)
        let values = ["version": "2.0.0", "region": "eu-west-1"]
        #expect(Self.plan(runbook, values) == Self.plan(runbook, values))
    }

    /// A run with a sign-off, a calendar exception, a rejection and, at its last event, the
    /// follow-up review its emergency class requires (made with the binary, then kept).
    static func approvalsJournal() throws -> [RunEvent] {
        let path = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/approvals/journal.jsonl").path
        return try JournalFile.read(at: path).events
    }

    static func approvals(_ events: [RunEvent], at time: String) throws -> String {
        let now = try #require(Timestamp.parse(time))
        return Approvals.lines(RunState.fold(events), now: now).joined(separator: "\n") + "\n"
    }

    @Test func approvalsOfAReviewedRun() throws {
        let events = try Self.approvalsJournal()
        try Golden.check(try Self.approvals(events, at: "2030-01-01T00:00:00Z"), against: "approvals/reviewed.txt")
    }

    /// Before the review, the last line says when it is due, or since when it is overdue.
    @Test func approvalsBeforeTheReview() throws {
        let events = try Self.approvalsJournal().dropLast()
        #expect(events.count == 14)
        try Golden.check(try Self.approvals(Array(events), at: "2026-12-04T00:00:00Z"), against: "approvals/review-due.txt")
        try Golden.check(try Self.approvals(Array(events), at: "2026-12-09T00:00:00Z"), against: "approvals/review-overdue.txt")
    }
}
