import Foundation
import RunsheetMarkdown

/// Lowers one parsed file to a `Runbook`: sections, steps, annotations, ids, then flow.
struct Lowering {
    let source: SourceFile
    let compiler: Compiler
    /// Canonical paths of the files including this one, this one last; empty for a file compiled
    /// on its own, whose canonical path is worked out only when it includes another.
    let includeStack: [String]
    /// False when only diagnostics are wanted: step bodies are then left empty.
    let bodies: Bool
    var diagnostics: [Diagnostic] = []
    var front = FrontMatter()
    var document = MarkdownDocument.empty
    var sections: [SectionDraft] = []
    var steps: [StepDraft] = []
    /// Section annotations, applied once every section exists.
    var sectionAnnotations: [(section: Int, annotation: RawAnnotation)] = []
    /// `#anchor` links anywhere in the file, for the dangling-link check.
    var anchorLinks: [(anchor: String, line: Int, column: Int)] = []
    /// Where each branch or jump target was written, for dangling-target errors.
    var targetPositions: [(target: Target, line: Int, column: Int)] = []
    /// GitHub anchors of headings whose section id is a custom `{#id}`.
    var extraAnchors = Set<String>()
    /// Annotation values already read: runbooks repeat the same durations, conditions and patterns.
    var readDurations: [String: Int?] = [:]
    var readConditions: [String: Result<Condition, Condition.ParseError>] = [:]
    var validPatterns: [String: Bool] = [:]

    struct SectionDraft {
        var id: String
        var title: String
        var level: Int
        var line: Int
        var parent: Int?
        var section = Section(id: "", title: "", level: 0, line: 0, parent: nil, branch: false, when: nil, onFailure: nil, next: nil)
    }

    struct StepDraft {
        var node: Int32
        var step: Step
        var sectionIndex: Int?
        var parentIndex: Int?
        var annotations: [RawAnnotation] = []
        /// Lines of annotation items and child steps, left out of the body.
        var excludedLines: [ClosedRange<Int>] = []
        var explicitID = false
    }

    init(source: SourceFile, compiler: Compiler, includeStack: [String], bodies: Bool = true) {
        self.source = source
        self.compiler = compiler
        self.includeStack = includeStack
        self.bodies = bodies
    }

    /// A control character other than a tab or a line ending (ESC, backspace, C1 controls...)
    /// would reach every screen that shows the title, text or command it is in: one error per
    /// line that holds any. (What a journal holds is shown escaped wherever it is shown.)
    mutating func checkControlCharacters() {
        var found: [(line: Int, byteColumn: Int, scalar: Unicode.Scalar)] = []
        source.bytes.withUnsafeBufferPointer { bytes in
            var line = 1, lineStart = 0, reported = 0
            for i in 0..<bytes.count {
                let byte = bytes[i]
                if byte == 0x0A {
                    line += 1
                    lineStart = i + 1
                    continue
                }
                let scalar: Unicode.Scalar
                if byte < 0x20 || byte == 0x7F {
                    guard byte != 0x09, byte != 0x0D else { continue }
                    scalar = Unicode.Scalar(byte)
                } else if byte == 0xC2, i + 1 < bytes.count, (0x80...0x9F).contains(bytes[i + 1]) {
                    scalar = Unicode.Scalar(bytes[i + 1])
                } else {
                    continue
                }
                if reported < line { found.append((line, i - lineStart + 1, scalar)) }
                reported = line
            }
        }
        for (line, byteColumn, scalar) in found {
            report(.error, .controlCharacter, "this line holds \(TypedText.describe(scalar)), which a terminal would act on instead of showing it; remove it (a command can still print one, e.g. printf '\\033')",
                   line: line, column: source.characterColumn(line: line, byteColumn: byteColumn))
        }
    }

    /// The front matter's `command-timeout` on every step that runs a command and has neither a
    /// `Timeout` nor a default already.
    func applyCommandTimeout(_ seconds: Int?, to runbook: inout Runbook) {
        guard let seconds else { return }
        for index in runbook.steps.indices {
            let step = runbook.steps[index]
            if step.timeoutSeconds == nil, step.commandTimeoutSeconds == nil, step.commands.contains(where: \.run) {
                runbook.steps[index].commandTimeoutSeconds = seconds
            }
        }
    }

    static func empty(path: String) -> Runbook {
        Runbook(path: path, id: "", title: "", version: nil, owner: nil, description: nil, releaseClass: .normal,
                service: nil, environment: nil, shell: "bash", production: false, params: [], roles: [],
                sections: [], steps: [], start: nil, edges: [])
    }

    mutating func report(_ severity: Severity, _ code: DiagnosticCode, _ message: String, line: Int, column: Int) {
        diagnostics.append(Diagnostic(severity, code, message, path: source.path, line: line, column: column))
    }

    /// Reports at a cmark position (byte column).
    mutating func report(_ severity: Severity, _ code: DiagnosticCode, _ message: String, at position: SourcePosition) {
        let column = source.characterColumn(line: position.line, byteColumn: max(position.column, 1))
        report(severity, code, message, line: position.line, column: column)
    }

    mutating func run() -> CompileResult {
        checkControlCharacters()
        var bodyOffset = 0
        var bodyLine = 1
        if let block = FrontMatterBlock.locate(in: source) {
            var found: [(Severity, DiagnosticCode, String, Int, Int)] = []
            front = FrontMatter.parse(block) { found.append(($0, $1, $2, $3, $4)) }
            for (severity, code, message, line, column) in found {
                report(severity, code, message, line: line, column: column)
            }
            bodyOffset = block.bodyOffset
            bodyLine = block.bodyLine
        }
        document = source.bytes.withUnsafeBufferPointer {
            CommonMarkParser.parse(UnsafeBufferPointer(rebasing: $0[bodyOffset...]), lineOffset: bodyLine - 1)
        }
        let stepNodes = classify()
        walk(stepNodes: stepNodes)
        assignIDs()
        var runbook = build()
        applyAnnotations(&runbook)
        applyCommandTimeout(front.commandTimeoutSeconds, to: &runbook)
        FlowAnalysis.link(&runbook, lowering: &self)
        checkAnchors(runbook)
        checkParameters(runbook)
        // The same files, read the same way, as every command that acts on the runbook reads them.
        let (loaded, governanceProblems) = Governance.load(for: runbook, loader: compiler.loader)
        var governance = loaded
        diagnostics += governanceProblems
        let rolesFileUnread = governance.roles.map { $0.members.isEmpty && governanceProblems.contains { $0.code == .rolesFile } } ?? false
        let declaredRoles = checkRoles(runbook, rolesFile: governance.roles, rolesFileUnread: rolesFileUnread)
        spliceIncludes(&runbook)
        // Included steps without a limit of their own or of their file take this runbook's.
        applyCommandTimeout(front.commandTimeoutSeconds, to: &runbook)
        // The steps within a production step are production changes too (steps come in document
        // order, so a parent is settled before its children).
        var productionSteps = Set<String>()
        for index in runbook.steps.indices {
            if let parent = runbook.steps[index].parent, productionSteps.contains(parent) { runbook.steps[index].production = true }
            if runbook.steps[index].production { productionSteps.insert(runbook.steps[index].id) }
        }
        // What the items of included steps add to the gates counts too, as it does in a run.
        let demands = ItemDemands.of(runbook, inventory: governance.inventory, rules: governance.policy.criticality)
        governance.policy.demands = demands.isEmpty ? nil : demands
        checkGovernance(runbook, governance: governance, declared: declaredRoles)
        checkLockNames(runbook, frontMatterEnd: bodyLine)
        FlowAnalysis.check(runbook, lowering: &self)
        if runbook.steps.isEmpty {
            report(.warning, .noSteps, "nothing in this file became a step; add task items such as '- [ ] Do this'", line: 1, column: 1)
        }
        diagnostics.sort { ($0.path != source.path ? 1 : 0, $0.line, $0.column) < ($1.path != source.path ? 1 : 0, $1.line, $1.column) }
        return CompileResult(runbook: runbook, diagnostics: diagnostics)
    }

    // MARK: - Pass 1: which items are steps

    /// The byte offset of the `[ ]` marker's middle character when the item is a task item.
    func taskBox(_ item: Int32) -> Int? {
        let paragraph = document[item].firstChild
        guard paragraph != MarkdownNode.none, document[paragraph].kind == .paragraph else { return nil }
        let start = document[paragraph].range.start
        let offset = source.offset(line: start.line, byteColumn: start.column)
        let line = source.lineRange(start.line)
        let b = source.bytes
        guard offset + 2 < line.upperBound, b[offset] == 0x5B, b[offset + 2] == 0x5D,
              b[offset + 1] == 0x20 || b[offset + 1] == 0x78 || b[offset + 1] == 0x58 else { return nil }
        let after = offset + 3
        guard after >= line.upperBound || b[after] == 0x20 || b[after] == 0x09 else { return nil }
        return offset + 1
    }

    /// Task items; when there are none, numbered items not nested in another item.
    mutating func classify() -> [Bool] {
        let count = document.nodes.count
        var isStep = [Bool](repeating: false, count: count)
        var procedures: [Int32] = []
        var hasTask = false
        var openItems: [Int32] = []
        let ends = subtreeEnds()
        for i in 0..<Int32(count) where document[i].kind == .item {
            while let top = openItems.last, ends[Int(top)] <= i { openItems.removeLast() }
            if taskBox(i) != nil {
                isStep[Int(i)] = true
                hasTask = true
            } else if openItems.isEmpty, document[document[i].parent].ordered {
                procedures.append(i)
            }
            openItems.append(i)
        }
        if !hasTask {
            for i in procedures { isStep[Int(i)] = true }
        }
        return isStep
    }

    /// For each node, one past the index of the last node in its subtree (nodes are in pre-order).
    func subtreeEnds() -> [Int32] {
        let count = document.nodes.count
        var ends = [Int32](repeating: 0, count: count)
        var i = count - 1
        while i >= 0 {
            let last = document.nodes[i].lastChild
            ends[i] = last == MarkdownNode.none ? Int32(i + 1) : ends[Int(last)]
            i -= 1
        }
        return ends
    }
}

extension MarkdownDocument {
    static let empty = CommonMarkParser.parse([UInt8]())
}
