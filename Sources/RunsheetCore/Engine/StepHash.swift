import Foundation

/// What a step's approval covers: everything the operator sees and runs, nothing about where the
/// step sits in the file, so edits elsewhere in the runbook leave its hash (and its sign-offs)
/// alone. A new `Step` field has to be added here or to `StepHash.positions` (a test checks), so
/// it cannot fall outside the approval unnoticed.
public struct StepApproval: Encodable, Sendable, Equatable {
    /// A command as approved: its position is not covered.
    public struct ApprovedCommand: Encodable, Sendable, Equatable {
        public var language: String?
        public var shell: String
        public var code: String
        public var run: Bool
        /// Only when set: a block without `interactive` hashes as it did before the flag existed.
        public var interactive: Bool?
        /// Written as 0, as hashes recorded before this struct existed were computed with it.
        private let line = 0

        public init(_ command: Command) {
            language = command.language
            shell = command.shell
            code = command.code
            run = command.run
            interactive = command.interactive ? true : nil
        }
    }

    public var id: String
    public var title: String
    public var kind: Step.Kind
    public var checked: Bool
    public var section: String?
    public var parent: String?
    public var depth: Int
    public var body: String
    public var estimateSeconds: Int?
    public var when: Condition?
    public var commands: [ApprovedCommand]
    public var timeoutSeconds: Int?
    public var commandTimeoutSeconds: Int?
    public var retries: Retries?
    public var poll: Poll?
    public var expectExit: [Int32]
    public var expectOutput: OutputExpectation?
    public var signOffs: [SignOffRule]
    public var separation: [Separation]
    public var onFailure: Target?
    public var onReject: Target?
    public var next: Target?
    public var role: String?
    public var production: Bool
    public var include: String?
    public var origin: String?
    public var lessons: [String]
    /// Only when set: a step without `Components:` hashes as it did before the key existed.
    public var components: [String]?
    /// Written as 0, as hashes recorded before this struct existed were computed with them.
    private let line = 0
    private let column = 0

    public init(_ step: Step) {
        id = step.id
        title = step.title
        kind = step.kind
        checked = step.checked
        section = step.section
        parent = step.parent
        depth = step.depth
        body = step.body
        estimateSeconds = step.estimateSeconds
        when = step.when
        commands = step.commands.map(ApprovedCommand.init)
        timeoutSeconds = step.timeoutSeconds
        commandTimeoutSeconds = step.commandTimeoutSeconds
        retries = step.retries
        poll = step.poll
        expectExit = step.expectExit
        expectOutput = step.expectOutput
        signOffs = step.signOffs
        separation = step.separation
        onFailure = step.onFailure
        onReject = step.onReject
        next = step.next
        role = step.role
        production = step.production
        include = step.include
        origin = step.origin
        lessons = step.lessons
        components = step.components
    }
}

/// A hash per step over what its approval covers (`StepApproval`), to detect edits between
/// sessions and to make a sign-off stale when its step changes.
public enum StepHash {
    /// The `Step` fields an approval does not cover: where the step sits in the file.
    public static let positions: Set<String> = [
        "line", "column", "boxOffset", "trailLine", "trailColumn", "endLine", "estimateLine", "annotationAnchor",
    ]

    /// The first 16 hex digits of the SHA-256 of the approval's JSON (keys sorted, as the journal writes).
    public static func of(_ step: Step) -> String {
        let data = (try? RunEvent.canonicalEncoder.encode(StepApproval(step))) ?? Data(step.id.utf8)
        return String(SHA256Hex.of(data).prefix(16))
    }

    public static func all(_ runbook: Runbook) -> [String: String] {
        Dictionary(runbook.steps.map { ($0.id, of($0)) }, uniquingKeysWith: { a, _ in a })
    }
}

/// Steps added, removed or changed between the runbook a run started on and the one now.
public struct RunbookChanges: Codable, Sendable, Equatable {
    public var added: [String] = []
    public var removed: [String] = []
    public var changed: [String] = []

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    /// "changed: a, b; added: c; removed: d", leaving out what is empty.
    public var summary: String {
        [("changed", changed), ("added", added), ("removed", removed)]
            .filter { !$0.1.isEmpty }.map { "\($0.0): " + $0.1.joined(separator: ", ") }.joined(separator: "; ")
    }

    public init(added: [String] = [], removed: [String] = [], changed: [String] = []) {
        self.added = added
        self.removed = removed
        self.changed = changed
    }

    public init(recorded: [String: String], runbook: Runbook) {
        let now = StepHash.all(runbook)
        added = runbook.steps.map(\.id).filter { recorded[$0] == nil }
        changed = runbook.steps.map(\.id).filter { recorded[$0] != nil && recorded[$0] != now[$0] }
        removed = recorded.keys.filter { now[$0] == nil }.sorted()
    }
}
