import Foundation

extension Lowering {
    /// `unnamed-lock`: a runbook with production steps (its own or an included runbook's) locks the
    /// service and environment it names while a run is open (docs/FORMAT.md, "Environment locks");
    /// one that names neither in its front matter, nor as a parameter, locks its own id and
    /// `production`, which keeps out its own runs but not another runbook's changing the same
    /// environment. A warning, at what makes it production: the front matter's `production`, else
    /// the first `Production: yes` or `Include:` of production steps. `frontMatterEnd`: the
    /// first line after the front matter (1 without one).
    mutating func checkLockNames(_ runbook: Runbook, frontMatterEnd: Int) {
        guard runbook.production || runbook.steps.contains(where: \.production) else { return }
        let unnamed = [("service", runbook.service), ("environment", runbook.environment)]
            .filter { key, named in named == nil && !runbook.params.contains { $0.name == key } }.map(\.0)
        guard !unnamed.isEmpty, let (line, column) = productionPosition(runbook, frontMatterEnd: frontMatterEnd) else { return }
        let locked = EnvironmentLock.claim(for: runbook, values: [:])?.shownName ?? runbook.id
        let names = unnamed.joined(separator: " and no ")
        report(.warning, .unnamedLock, "this runbook has production steps but names no \(names) (in its front matter or as a parameter), so its runs lock '\(locked)' " +
               "and do not keep out a run of another runbook that changes the same environment; name what it changes with " +
               unnamed.map { "'\($0):'" }.joined(separator: " and "), line: line, column: column)
    }

    /// Where the runbook is made production: the front matter's `production` key, else the first
    /// step of this file marked `Production: yes`, or including a runbook with production steps.
    private func productionPosition(_ runbook: Runbook, frontMatterEnd: Int) -> (Int, Int)? {
        if front.production {
            // The top-level key, not `environment: production` on a line before it.
            let line = (1..<max(2, frontMatterEnd)).first { line in
                let text = source.lineText(line)
                return text.hasPrefix("production") && text.dropFirst(10).drop { $0 == " " }.hasPrefix(":")
            }
            return (line ?? 1, 1)
        }
        for draft in steps {
            if let raw = draft.annotations.first(where: { $0.knownKey == .production }), AnnotationValue.flag(raw.value) == true {
                return (raw.line, raw.column)
            }
            let prefix = draft.step.id + "/"
            if let raw = draft.annotations.first(where: { $0.knownKey == .include }),
               runbook.steps.contains(where: { $0.production && $0.id.hasPrefix(prefix) }) {
                return (raw.line, raw.column)
            }
        }
        return nil
    }
}

extension Lowering {
    /// `include-concurrent`: the run's lock, and whether it is shared, are the including
    /// runbook's. An included runbook with production steps whose `concurrent` says otherwise is
    /// a warning at the `Include:` line: its `concurrent: true` cannot widen this runbook's lock,
    /// and under this runbook's `concurrent: true` its steps run beside other concurrent runs
    /// though it does not say they may.
    mutating func checkConcurrent(of included: Runbook, relative: String, in runbook: Runbook, line: Int, column: Int) {
        guard included.concurrent != runbook.concurrent else { return }
        if included.concurrent {
            report(.warning, .includeConcurrent, "included runbook '\(relative)' says 'concurrent: true', but a run's lock is the runbook's it starts, and this one holds it alone; " +
                   "say 'concurrent: true' here to share it, or leave it out there", line: line, column: column)
        } else {
            report(.warning, .includeConcurrent, "this runbook says 'concurrent: true', so its runs share the lock, and the production steps of included runbook '\(relative)', " +
                   "which does not say so, run beside other concurrent runs all the same; say 'concurrent: true' there if that is safe, or leave it out here", line: line, column: column)
        }
    }
}
