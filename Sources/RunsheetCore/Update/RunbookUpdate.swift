/// Edits proposed back to a runbook from real runs: estimates set to observed medians, steps
/// operators added during runs, and notes they marked as lessons. Each change is a whole-line
/// replacement or insertion, so the diff shows those lines and nothing else.
public struct RunbookUpdate: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        /// `Estimate:` set (from nil: added) to the median of `samples` observed durations.
        case estimate(step: String, from: Int?, to: Int, samples: Int, line: Int)
        /// A step added during `runs`, inserted after step `after`.
        case step(title: String, after: String, runs: [String], line: Int)
        /// A `Lesson:` annotation from a note marked as a lesson in `run`.
        case lesson(step: String, text: String, run: String, line: Int)

        /// One line for the summary: `path:line: what changes`.
        public var summary: String {
            switch self {
            case .estimate(let step, let from, let to, let samples, _):
                let observed = "median of \(samples) run\(samples == 1 ? "" : "s")"
                if let from { return "\(step): estimate \(DurationText.format(from)) → \(DurationText.format(to)) (\(observed))" }
                return "\(step): estimate \(DurationText.format(to)) added (\(observed))"
            case .step(let title, let after, let runs, _):
                return "new step '\(title)' after \(after) (added in \(runs.joined(separator: ", ")))"
            case .lesson(let step, let text, let run, _):
                return "\(step): lesson '\(text)' (from \(run))"
            }
        }

        public var line: Int {
            switch self {
            case .estimate(_, _, _, _, let line), .step(_, _, _, let line), .lesson(_, _, _, let line): line
            }
        }
    }

    public struct Options: Sendable, Equatable {
        /// Fewest observed durations before an estimate is proposed.
        public var minSamples = 1
        /// A current estimate is kept when the median is within this fraction of it.
        public var tolerance = 0.2

        public init(minSamples: Int = 1, tolerance: Double = 0.2) {
            self.minSamples = minSamples
            self.tolerance = tolerance
        }
    }

    public var changes: [Change] = []
    /// What could not be placed in the file, in words.
    public var unplaced: [String] = []
    public var edits = LineEdits()

    /// Proposes the changes `runs` (states of runs of this runbook) suggest for `source`.
    public static func propose(source: [UInt8], runbook: Runbook, runs: [RunState], options: Options = Options()) -> RunbookUpdate {
        var update = RunbookUpdate()
        let lines = LineEdits.lines(source)
        let ending = LineEdits.ending(of: lines)
        var annotationInserts: [Int: [(text: String, anchor: AnnotationAnchor)]] = [:]

        for step in runbook.steps where step.origin == nil {
            // Estimates: the median of the durations operators took.
            let samples = runs.compactMap { run -> Int? in
                let record = run.record(step.id)
                guard record.status == .done else { return nil }
                return run.secondsSpent(on: step.id)
            }
            if samples.count >= max(1, options.minSamples), let median = Self.median(samples), median > 0 {
                let proposed = Self.rounded(median)
                let current = step.estimateSeconds
                let differs = current.map { abs(Double(proposed - $0)) > options.tolerance * Double($0) && proposed != $0 } ?? true
                if differs {
                    if let line = step.estimateLine, current != nil, let replaced = Self.replacingValue(lines[line - 1], with: DurationText.format(proposed)) {
                        update.edits.replace(line: line, with: replaced)
                        update.changes.append(.estimate(step: step.id, from: current, to: proposed, samples: samples.count, line: line))
                    } else if current == nil, let anchor = step.annotationAnchor {
                        annotationInserts[anchor.line, default: []].append(("Estimate: " + DurationText.format(proposed), anchor))
                        update.changes.append(.estimate(step: step.id, from: nil, to: proposed, samples: samples.count, line: anchor.line + 1))
                    } else {
                        update.unplaced.append("\(step.id): estimate \(DurationText.format(proposed)) (median of \(samples.count)) not written: \(current == nil ? "the step has no item to annotate" : "its Estimate line spans several lines")")
                    }
                }
            }
            // Lessons: notes marked as lessons, once each, unless the step already has them.
            var known = Set(step.lessons.map(Self.oneLine))
            for run in runs {
                for note in run.record(step.id).notes where note.lesson {
                    let text = Self.oneLine(note.text)
                    guard !text.isEmpty, known.insert(text).inserted else { continue }
                    if let anchor = step.annotationAnchor {
                        annotationInserts[anchor.line, default: []].append(("Lesson: " + text, anchor))
                        update.changes.append(.lesson(step: step.id, text: text, run: run.runID, line: anchor.line + 1))
                    } else {
                        update.unplaced.append("\(step.id): lesson '\(text)' not written: the step has no item to annotate")
                    }
                }
            }
        }
        for (line, entries) in annotationInserts.sorted(by: { $0.key < $1.key }) {
            for entry in entries {
                update.edits.insert(after: line, Self.annotationLine(entry.text, anchor: entry.anchor, lines: lines) + ending)
            }
        }

        // Steps operators added, once each (by id), unless the runbook now has a step like it.
        var added: [(step: RunState.AddedStep, runs: [String])] = []
        for run in runs {
            for step in run.addedSteps {
                if let index = added.firstIndex(where: { $0.step.id == step.id }) {
                    if !added[index].runs.contains(run.runID) { added[index].runs.append(run.runID) }
                } else {
                    added.append((step, [run.runID]))
                }
            }
        }
        let titles = Set(runbook.steps.map { Self.oneLine($0.title).lowercased() })
        for (step, runIDs) in added where runbook.step(step.id) == nil && !titles.contains(Self.oneLine(step.title).lowercased()) {
            let title = Self.oneLine(step.title)
            if let before = step.before.flatMap(runbook.step), before.origin == nil, before.kind != .command, before.line <= lines.count {
                let item = Self.itemLines(title: title, like: before, number: 0, lines: lines, ending: ending)
                let loose = before.line >= 2 && isBlank(lines[before.line - 2]) && runbook.steps.contains { $0.parent == before.parent && $0.line < before.line && $0.depth == before.depth }
                let at = before.line - 1
                update.edits.insert(after: at, item)
                if loose { update.edits.insert(after: at, Self.blankLine(like: lines[before.line - 1], ending: ending)) }
                update.changes.append(.step(title: title, after: step.after ?? "the start", runs: runIDs, line: before.line))
            } else if let after = step.after.flatMap(runbook.step), after.origin == nil, after.kind != .command, let end = after.endLine, after.line <= lines.count {
                let loose = end < lines.count && isBlank(lines[end])
                if loose { update.edits.insert(after: end, Self.blankLine(like: lines[after.line - 1], ending: ending)) }
                update.edits.insert(after: end, Self.itemLines(title: title, like: after, number: 1, lines: lines, ending: ending))
                update.changes.append(.step(title: title, after: after.id, runs: runIDs, line: end + 1))
            } else {
                update.unplaced.append("new step '\(title)' not written: the steps around it are not list items of this file")
            }
        }
        update.changes.sort { $0.line < $1.line }
        return update
    }

    /// The middle value (the mean of the two middle values, rounded, for an even count).
    public static func median(_ values: [Int]) -> Int? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle] + 1) / 2
    }

    /// A duration as a person would estimate it: 5-second steps under a minute, whole minutes
    /// under an hour, 5-minute steps beyond.
    public static func rounded(_ seconds: Int) -> Int {
        func round(_ value: Int, to step: Int) -> Int { max(step, (value + step / 2) / step * step) }
        if seconds < 60 { return round(seconds, to: 5) }
        if seconds < 3600 { return round(seconds, to: 60) }
        return round(seconds, to: 300)
    }

    /// The line with the value after its `Key:` replaced, ending and everything before kept.
    static func replacingValue(_ line: [UInt8], with value: String) -> [UInt8]? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var end = line.count
        while end > colon + 1, [0x0A, 0x0D, 0x20, 0x09].contains(line[end - 1]) { end -= 1 }
        return Array(line[...colon]) + Array(" \(value)".utf8) + Array(line[end...])
    }

    /// A new annotation bullet: the prefix of an existing annotation line, or the item's
    /// indentation and a marker that does not join a list that follows.
    static func annotationLine(_ text: String, anchor: AnnotationAnchor, lines: [[UInt8]]) -> [UInt8] {
        guard anchor.prefixLine >= 1, anchor.prefixLine <= lines.count else { return Array("- \(text)".utf8) }
        let source = lines[anchor.prefixLine - 1]
        if anchor.verbatim { return Array(source.prefix(max(0, anchor.column - 1))) + Array(text.utf8) }
        let prefix = ChecklistRenderer.prefix(source[...], column: anchor.column)
        // A bullet list that follows (blank lines between or not, up to three more spaces in)
        // would take the new bullet as its first item: use another bullet character.
        var marker: UInt8 = UInt8(ascii: "-")
        var next = anchor.line
        while next < lines.count, isBlank(lines[next]) { next += 1 }
        if next < lines.count, lines[next].starts(with: prefix) {
            let rest = lines[next].dropFirst(prefix.count).drop { $0 == 0x20 }
            if let bullet = rest.first, lines[next].count - rest.count - prefix.count <= 3,
               [UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "+")].contains(bullet), rest.dropFirst().first == 0x20 {
                marker = bullet == UInt8(ascii: "-") ? UInt8(ascii: "*") : UInt8(ascii: "-")
            }
        }
        return prefix + [marker, 0x20] + Array(text.utf8)
    }

    /// An item for an added step at the level of `step`, with its marker (for an ordered list,
    /// `step`'s number plus `number`) and a box when `step` has one.
    static func itemLines(title: String, like step: Step, number: Int, lines: [[UInt8]], ending: [UInt8]) -> [UInt8] {
        let first = lines[step.line - 1]
        let prefix = ChecklistRenderer.prefix(first[...], column: step.column)
        var rest = first.dropFirst(prefix.count)
        var marker = "-"
        if let byte = rest.first, [UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "+")].contains(byte) {
            marker = String(UnicodeScalar(byte))
        } else {
            var digits = ""
            while let byte = rest.first, (0x30...0x39).contains(byte) { digits.append(Character(UnicodeScalar(byte))); rest = rest.dropFirst() }
            if let value = Int(digits), let delimiter = rest.first, delimiter == UInt8(ascii: ".") || delimiter == UInt8(ascii: ")") {
                marker = "\(value + number)\(Character(UnicodeScalar(delimiter)))"
            }
        }
        // A file without task items takes its steps from numbered items: a box would change that.
        return prefix + Array("\(marker) \(step.kind == .task ? "[ ] " : "")\(title)".utf8) + ending
    }

    /// An empty line inside the same block quotes as `line`.
    static func blankLine(like line: [UInt8], ending: [UInt8]) -> [UInt8] {
        let quotes = line.prefix { $0 == UInt8(ascii: ">") || $0 == 0x20 || $0 == 0x09 }
        let kept = quotes.lastIndex(of: UInt8(ascii: ">")).map { Array(quotes[...$0]) } ?? []
        return kept + ending
    }

    static func isBlank(_ line: [UInt8]) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || $0 == UInt8(ascii: ">") }
    }

    /// Text from a run as a line of the runbook: one line, control characters escaped.
    static func oneLine(_ text: String) -> String { ShownText.escaped(ChecklistRenderer.oneLine(text)) }
}
