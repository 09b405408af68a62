import Foundation
@testable import RunsheetCore
import RunsheetTestSupport
import Testing

/// `ClassChoice.decide` and `PolicyFloor` on compiled runbooks: what makes a class less strict,
/// and that only the repository's policy file can permit one.
@Suite struct ClassChoiceTests {
    static let runbook = """
        ---
        roles: [sre, release-manager]
        ---
        # Change

        - [ ] Approve
          - Sign-off: 2 of sre
        - [ ] Approve the rollout
          - Sign-off: release-manager
          - When: class in normal, major
        - [ ] Ship
        """

    func governance(_ repository: String?, roles: String = "roles:\n  sre: [sam, sue]\n  release-manager: [rita]\n") -> (Runbook, Governance) {
        let runbook = Fixtures.compile(Self.runbook).runbook
        let policy = repository.map { Policy.parse(path: "policy.yaml", text: $0).0 }
        return (runbook, Governance(roles: RolesFile.parse(path: "roles.yaml", text: roles).0,
                                    policy: Policy.effective(for: runbook, repository: policy), repositoryPolicy: policy))
    }

    /// A gate a class's `When` leaves out counts as skipped: standard has no policy of its own here,
    /// yet it walks past 'approve-the-rollout'.
    @Test func aGateTheClassConditionSkipsMakesTheClassLessStrict() throws {
        let (runbook, governance) = governance(nil)
        #expect(throws: ClassChoice.Refusal.self) {
            try ClassChoice.decide(runbook: runbook, chosen: .standard, values: [:], governance: governance, actor: "rita")
        }
        do {
            _ = try ClassChoice.decide(runbook: runbook, chosen: .standard, values: [:], governance: governance, actor: "rita")
        } catch {
            guard case .notPermitted(let choice, _) = error else { Issue.record("\(error)"); return }
            #expect(choice.relaxations == [.skipped(gate: "approve-the-rollout")])
        }
        // Major walks the same gates with the same counts: as strict, so allowed without permission.
        let major = try ClassChoice.decide(runbook: runbook, chosen: .major, values: [:], governance: governance, actor: "olly")
        #expect(major.relaxations.isEmpty && major.downgrade == nil && major.declared == .normal)
    }

    /// A runbook's own `downgrade` is never a permission, even if it reached the effective policy.
    @Test func onlyTheRepositoryPolicyPermits() throws {
        var (runbook, governance) = governance("standard: {gates: none}\n")
        runbook.policy = Policy.parse(path: "x", text: "normal:\n  downgrade: {to: [standard], roles: [sre]}\n").0
        governance.policy = Policy.effective(for: runbook, repository: governance.repositoryPolicy)
        #expect(throws: ClassChoice.Refusal.self) {
            try ClassChoice.decide(runbook: runbook, chosen: .standard, values: [:], governance: governance, actor: "sam")
        }
        let (_, permitted) = self.governance("standard: {gates: none}\nnormal:\n  downgrade: {to: standard, roles: release-manager}\n")
        let choice = try ClassChoice.decide(runbook: runbook, chosen: .standard, values: [:], governance: permitted, actor: "ＲＩＴＡ")
        #expect(choice.downgrade == RunStarted.Downgrade(to: ["standard"], roles: ["release-manager"], role: "release-manager"))
        #expect(choice.relaxations.map(\.phrase) == ["gate 'approve' is skipped", "gate 'approve-the-rollout' is skipped"])
        // Without a roles file nobody can show they hold the role.
        var noRoles = permitted
        noRoles.roles = nil
        #expect(throws: ClassChoice.Refusal.self) {
            try ClassChoice.decide(runbook: runbook, chosen: .standard, values: [:], governance: noRoles, actor: "rita")
        }
    }

    /// Whatever a policy layer says, emergency keeps all its gates and its follow-up review.
    @Test func emergencyKeepsItsGatesAndFollowUp() {
        let runbook = Fixtures.compile(Self.runbook).runbook
        let (repository, problems) = Policy.parse(path: "policy.yaml", text: "emergency: {gates: none, follow-up: none}\n")
        #expect(problems.map(\.code) == [.policyFile, .policyFile])
        let effective = Policy.effective(for: runbook, repository: repository)[.emergency]
        #expect(effective.gates == nil && effective.followUp == [] && effective.approvers == 1)
    }

    /// Front matter that raises the floor is no weakening; each way of lowering it is one.
    @Test func weakeningsOfTheFloor() {
        let runbook = Fixtures.compile(Self.runbook).runbook
        let floor = Policy.floor(repository: Policy.parse(path: "p", text: "normal: {approvers: 2, follow-up: release-manager, follow-up-within: 1d}\n").0)
        func keys(_ yaml: String) -> [String] {
            PolicyFloor.weakenings(of: Policy.parse(path: "f", text: yaml).0, below: floor, in: runbook).map(\.key)
        }
        #expect(keys("normal: {approvers: 3, follow-up-within: 12h}\nmajor: {approvers: 4}\n").isEmpty)
        #expect(keys("normal: {gates: [approve]}\n") == ["normal.gates"])
        #expect(keys("normal: {approvers: 1}\n") == ["normal.approvers"])
        #expect(keys("normal: {follow-up: none}\n") == ["normal.follow-up"])
        #expect(keys("normal: {follow-up: sre}\n") == ["normal.follow-up"])
        #expect(keys("normal: {follow-up: true}\n") == ["normal.follow-up"])
        #expect(keys("normal: {follow-up-within: 2d}\n") == ["normal.follow-up-within"])
        #expect(keys("allowed-classes: [emergency]\nemergency: {gates: none}\n") == ["allowed-classes", "emergency.gates"])
    }
}
