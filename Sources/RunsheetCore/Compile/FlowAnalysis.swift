/// Builds the step graph's edges and checks it: reachability and runs that can never end.
enum FlowAnalysis {
    /// Marks branch sections, folds section conditions into steps, and computes every edge.
    static func link(_ runbook: inout Runbook, lowering: inout Lowering) {
        let sectionIndex = Dictionary(runbook.sections.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        func ancestors(_ id: String?) -> [Int] {
            var chain: [Int] = []
            var current = id.flatMap { sectionIndex[$0] }
            while let index = current, chain.count <= runbook.sections.count {
                chain.append(index)
                current = runbook.sections[index].parent.flatMap { sectionIndex[$0] }
            }
            return chain
        }
        // Dangling targets, and branch sections.
        for (target, line, column) in lowering.targetPositions {
            guard case .section(let id) = target else { continue }
            guard sectionIndex[id] != nil else {
                let near = EditDistance.closest(to: id, in: runbook.sections.map(\.id), maximum: 3).map { "; did you mean '#\($0)'?" } ?? ""
                lowering.report(.error, "dangling-target", "'#\(id)' matches no section heading in this file\(near)", line: line, column: column)
                continue
            }
        }
        var branchIDs = Set<String>()
        for step in runbook.steps {
            for target in [step.onFailure, step.onReject] { if case .section(let id)? = target { branchIDs.insert(id) } }
        }
        for section in runbook.sections {
            if case .section(let id)? = section.onFailure { branchIDs.insert(id) }
        }
        for index in runbook.sections.indices where branchIDs.contains(runbook.sections[index].id) {
            runbook.sections[index].branch = true
        }
        // Each step's region: nil for the main flow, else its outermost branch section.
        var region: [String?] = []
        region.reserveCapacity(runbook.steps.count)
        for index in runbook.steps.indices {
            let chain = ancestors(runbook.steps[index].section)
            region.append(chain.last(where: { runbook.sections[$0].branch }).map { runbook.sections[$0].id })
            var when = runbook.steps[index].when
            for sectionIdx in chain { if let w = runbook.sections[sectionIdx].when { when = when.map { $0.and(w) } ?? w } }
            runbook.steps[index].when = when
        }
        // First step of each section (including its subsections).
        var firstStep: [String: String] = [:]
        for (index, step) in runbook.steps.enumerated() {
            for sectionIdx in ancestors(step.section) where firstStep[runbook.sections[sectionIdx].id] == nil {
                firstStep[runbook.sections[sectionIdx].id] = runbook.steps[index].id
            }
        }
        func resolve(_ target: Target, successor: String?) -> String? {
            switch target {
            case .section(let id): firstStep[id]
            case .abort, .end: nil
            case .continue: successor
            }
        }
        // Sections that end at each step (to apply section-level Next).
        var lastStepOfSection: [String: Int] = [:]
        for (index, step) in runbook.steps.enumerated() {
            for sectionIdx in ancestors(step.section) { lastStepOfSection[runbook.sections[sectionIdx].id] = index }
        }
        var successor = [String?](repeating: nil, count: runbook.steps.count)
        var lastInRegion: [String: Int] = [:]
        let mainKey = "\u{0}main"
        for index in runbook.steps.indices {
            let key = region[index] ?? mainKey
            if let previous = lastInRegion[key] { successor[previous] = runbook.steps[index].id }
            lastInRegion[key] = index
        }
        var edges: [Edge] = []
        edges.reserveCapacity(runbook.steps.count * 2)
        for (index, step) in runbook.steps.enumerated() {
            let chain = ancestors(step.section)
            var jump = step.next
            if jump == nil {
                for sectionIdx in chain where lastStepOfSection[runbook.sections[sectionIdx].id] == index {
                    if let next = runbook.sections[sectionIdx].next { jump = next; break }
                }
            }
            if let jump {
                edges.append(Edge(from: step.id, to: resolve(jump, successor: successor[index]), kind: .jump))
            } else {
                edges.append(Edge(from: step.id, to: successor[index], kind: .next))
            }
            let sectionFailure = chain.first(where: { runbook.sections[$0].onFailure != nil }).flatMap { runbook.sections[$0].onFailure }
            let failure = step.onFailure ?? sectionFailure ?? .abort
            edges.append(Edge(from: step.id, to: resolve(failure, successor: successor[index]), kind: .failure))
            if step.isGate {
                edges.append(Edge(from: step.id, to: resolve(step.onReject ?? .abort, successor: successor[index]), kind: .reject))
            }
        }
        runbook.edges = edges
        runbook.start = runbook.steps.indices.first(where: { region[$0] == nil }).map { runbook.steps[$0].id }
    }

    /// Unreachable steps and steps from which the run can never end.
    static func check(_ runbook: Runbook, lowering: inout Lowering) {
        let own = runbook.steps.indices.filter { runbook.steps[$0].origin == nil }
        guard !own.isEmpty else { return }
        let index = Dictionary(runbook.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var out = [[Int]](repeating: [], count: runbook.steps.count)
        var successIn = [[Int]](repeating: [], count: runbook.steps.count)
        var successOut = [[Int]](repeating: [], count: runbook.steps.count)
        var endsRun = [Bool](repeating: false, count: runbook.steps.count)
        for edge in runbook.edges {
            guard let from = index[edge.from] else { continue }
            let to = edge.to.flatMap { index[$0] }
            if let to { out[from].append(to) }
            if edge.kind == .next || edge.kind == .jump {
                if let to {
                    successIn[to].append(from)
                    successOut[from].append(to)
                } else {
                    endsRun[from] = true
                }
            }
        }
        var reached = [Bool](repeating: false, count: runbook.steps.count)
        var queue: [Int] = runbook.start.flatMap { index[$0] }.map { [$0] } ?? []
        for i in queue { reached[i] = true }
        while let i = queue.popLast() {
            for j in out[i] where !reached[j] {
                reached[j] = true
                queue.append(j)
            }
        }
        for i in own where !reached[i] && runbook.steps[i].parent.map({ index[$0].map { reached[$0] } ?? true }) ?? true {
            let step = runbook.steps[i]
            lowering.report(.warning, "unreachable-step", "step '\(step.id)' can never be reached from the first step", line: step.line, column: step.column)
        }
        // Steps from which a chain of successes reaches the end of the run.
        var exits = endsRun
        queue = runbook.steps.indices.filter { endsRun[$0] }
        while let i = queue.popLast() {
            for j in successIn[i] where !exits[j] {
                exits[j] = true
                queue.append(j)
            }
        }
        var covered = [Bool](repeating: false, count: runbook.steps.count)
        for i in own where reached[i] && !exits[i] && !covered[i] {
            let step = runbook.steps[i]
            lowering.report(.error, "cycle-no-exit", "from step '\(step.id)' the run loops forever: no chain of completed steps reaches the end; add an exit or remove a Next jump", line: step.line, column: step.column)
            var stack = [i]
            covered[i] = true
            while let k = stack.popLast() {
                for to in successOut[k] where !covered[to] {
                    covered[to] = true
                    stack.append(to)
                }
            }
        }
    }
}
