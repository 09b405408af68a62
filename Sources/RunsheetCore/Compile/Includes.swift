import Foundation

extension Lowering {
    /// Compiles each included runbook and splices its steps in after the including step.
    mutating func spliceIncludes(_ runbook: inout Runbook) {
        let includers = runbook.steps.indices.filter { runbook.steps[$0].include != nil && runbook.steps[$0].origin == nil }
        guard !includers.isEmpty else { return }
        let includeStack = self.includeStack.isEmpty ? [Compiler.canonical(source.path)] : self.includeStack
        for stepIndex in includers.reversed() {
            let step = runbook.steps[stepIndex]
            guard let relative = step.include else { continue }
            let raw = steps[stepIndex].annotations.first { $0.knownKey == .include }
            let (line, column) = (raw?.line ?? step.line, raw?.column ?? step.column)
            let directory = (source.path as NSString).deletingLastPathComponent
            let path = relative.hasPrefix("/") ? relative : (directory.isEmpty ? relative : directory + "/" + relative)
            let canonical = Compiler.canonical(path)
            if includeStack.contains(canonical) {
                report(.error, .includeCycle, "including '\(relative)' creates a cycle: \((includeStack + [canonical]).map { ($0 as NSString).lastPathComponent }.joined(separator: " -> "))", line: line, column: column)
                continue
            }
            let bytes: [UInt8]
            do {
                bytes = try compiler.loader(path)
            } catch {
                report(.error, .includeMissing, "cannot include '\(relative)': \((error as? LocalizedError)?.errorDescription ?? "\(error)")", line: line, column: column)
                continue
            }
            let included = compiler.compile(path: path, bytes: bytes, including: includeStack + [canonical], bodies: bodies)
            runbook.includedSHA256[path] = SHA256Hex.of(bytes)
            runbook.includedSHA256.merge(included.runbook.includedSHA256) { current, _ in current }
            if included.hasErrors {
                report(.error, .includeFailed, "included runbook '\(relative)' has \(included.errors.count) error(s)", line: line, column: column)
                diagnostics += included.diagnostics.filter { $0.severity == .error && $0.path != source.path }
            }
            checkLock(of: included.runbook, relative: relative, in: runbook, line: line, column: column)
            for parameter in included.runbook.params where !runbook.params.contains(where: { $0.name == parameter.name }) {
                if parameter.required {
                    report(.error, .includeFailed, "included runbook '\(relative)' needs parameter '\(parameter.name)'; declare it here or give it a default there", line: line, column: column)
                }
                runbook.params.append(parameter)
            }
            for role in included.runbook.roles where !runbook.roles.contains(role) { runbook.roles.append(role) }
            splice(included.runbook, into: &runbook, after: stepIndex)
        }
    }

    /// The run locks the including runbook's service and environment (docs/FORMAT.md, "Environment
    /// locks"): an included runbook with production steps that names another one would change it
    /// without its lock, so that is an error at the include.
    private mutating func checkLock(of included: Runbook, relative: String, in runbook: Runbook, line: Int, column: Int) {
        guard included.production || included.steps.contains(where: \.production) else { return }
        checkConcurrent(of: included, relative: relative, in: runbook, line: line, column: column)
        for (key, theirs, ours) in [("service", included.service, runbook.service), ("environment", included.environment, runbook.environment)] {
            guard let theirs else { continue }
            let decidedByParameter = runbook.params.contains { $0.name == key }
            guard decidedByParameter || ours.map(EnvironmentLock.Key.canonical) != EnvironmentLock.Key.canonical(theirs) else { continue }
            let here = decidedByParameter ? "the parameter '\(key)' names this run's \(key)" : ours.map { "this runbook's \(key) is '\($0)'" } ?? "this runbook names no \(key)"
            report(.error, .includeFailed, "included runbook '\(relative)' has production steps for \(key) '\(theirs)', but \(here), and a run locks only the \(key) of the runbook it starts; " +
                   "name the same \(key) in both, or leave it out of the included one", line: line, column: column)
        }
    }

    private func splice(_ included: Runbook, into runbook: inout Runbook, after stepIndex: Int) {
        let host = runbook.steps[stepIndex]
        let prefix = host.id + "/"
        let hostNext = runbook.edges.first { $0.from == host.id && ($0.kind == .next || $0.kind == .jump) }
        var inserted = included.steps.map { step -> Step in
            var s = step
            s.id = prefix + step.id
            s.parent = step.parent.map { prefix + $0 } ?? host.id
            s.depth = step.depth + host.depth + 1
            s.section = step.section.map { prefix + $0 }
            s.origin = step.origin ?? included.path
            // A runbook that is all production stays so when included.
            s.production = s.production || included.production
            // Its front matter's `components` are the items each of its production steps changes.
            if s.production, !included.components.isEmpty {
                var names = s.components ?? []
                for name in included.components where !names.contains(where: { EnvironmentLock.Key.canonical($0) == EnvironmentLock.Key.canonical(name) }) {
                    names.append(name)
                }
                s.components = names
            }
            return s
        }
        // Place after the host and its own children.
        var position = stepIndex + 1
        while position < runbook.steps.count, runbook.steps[position].depth > host.depth { position += 1 }
        runbook.steps.insert(contentsOf: inserted, at: position)
        inserted.removeAll()
        runbook.sections += included.sections.map { section in
            var s = section
            s.id = prefix + section.id
            s.parent = section.parent.map { prefix + $0 }
            return s
        }
        var edges = runbook.edges
        if let start = included.start, let i = edges.firstIndex(where: { $0 == hostNext }) {
            edges[i].to = prefix + start
        }
        for edge in included.edges {
            var e = Edge(from: prefix + edge.from, to: edge.to.map { prefix + $0 }, kind: edge.kind)
            if edge.to == nil && (edge.kind == .next || edge.kind == .jump) { e.to = hostNext?.to }
            edges.append(e)
        }
        runbook.edges = edges
    }
}
