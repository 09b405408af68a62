/// Builds the step graph's edges and checks it: reachability and runs that can never end.
enum FlowAnalysis {
    /// Marks branch sections, folds section conditions into steps, and computes every edge.
    static func link(_ runbook: inout Runbook, lowering: inout Lowering) {
        let sectionIndex = Dictionary(runbook.sections.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Sections are identified by id: `canonical[i]` is the first section with section i's id.
        let canonical = runbook.sections.map { sectionIndex[$0.id]! }
        // Each section's chain of enclosing sections, innermost first; the length cap stops cycles.
        let chains: [[Int]] = runbook.sections.indices.map { start in
            var chain: [Int] = []
            var current: Int? = start
            while let index = current, chain.count <= runbook.sections.count {
                chain.append(index)
                current = runbook.sections[index].parent.flatMap { sectionIndex[$0] }
            }
            return chain
        }
        // Each step's chain; neighbours mostly share a section, so the last lookup is reused.
        var stepChains: [[Int]] = []
        stepChains.reserveCapacity(runbook.steps.count)
        var previous: (section: String?, chain: [Int])?
        for index in runbook.steps.indices {
            let section = runbook.steps[index].section
            if previous == nil || previous!.section != section {
                previous = (section, section.flatMap { sectionIndex[$0] }.map { chains[$0] } ?? [])
            }
            stepChains.append(previous!.chain)
        }
        // Dangling targets, and branch sections.
        for (target, line, column) in lowering.targetPositions {
            guard case .section(let id) = target else { continue }
            guard sectionIndex[id] != nil else {
                let near = EditDistance.closest(to: id, in: runbook.sections.map(\.id), maximum: 3).map { "; did you mean '#\($0)'?" } ?? ""
                lowering.report(.error, .danglingTarget, "'#\(id)' matches no section heading in this file\(near)", line: line, column: column)
                continue
            }
        }
        var branchIDs = Set<String>()
        for index in runbook.steps.indices {
            if case .section(let id)? = runbook.steps[index].onFailure { branchIDs.insert(id) }
            if case .section(let id)? = runbook.steps[index].onReject { branchIDs.insert(id) }
        }
        for section in runbook.sections {
            if case .section(let id)? = section.onFailure { branchIDs.insert(id) }
        }
        for index in runbook.sections.indices where branchIDs.contains(runbook.sections[index].id) {
            runbook.sections[index].branch = true
        }
        // Each step's region: nil for the main flow, else its outermost branch section (by canonical index).
        var region: [Int?] = []
        region.reserveCapacity(runbook.steps.count)
        for index in runbook.steps.indices {
            let chain = stepChains[index]
            region.append(chain.last(where: { runbook.sections[$0].branch }).map { canonical[$0] })
            var when = runbook.steps[index].when
            for sectionIdx in chain { if let w = runbook.sections[sectionIdx].when { when = when.map { $0.and(w) } ?? w } }
            runbook.steps[index].when = when
        }
        // First step of each section (including its subsections), and the step each section ends at.
        var firstStep = [Int?](repeating: nil, count: runbook.sections.count)
        var lastStepOfSection = [Int?](repeating: nil, count: runbook.sections.count)
        for index in runbook.steps.indices {
            for sectionIdx in stepChains[index] {
                let key = canonical[sectionIdx]
                if firstStep[key] == nil { firstStep[key] = index }
                lastStepOfSection[key] = index
            }
        }
        func resolve(_ target: Target, successor: String?) -> String? {
            switch target {
            case .section(let id): sectionIndex[id].flatMap { firstStep[$0] }.map { runbook.steps[$0].id }
            case .abort, .end: nil
            case .continue: successor
            }
        }
        var successor = [String?](repeating: nil, count: runbook.steps.count)
        var lastInRegion: [Int: Int] = [:]
        let mainFlow = -1
        for index in runbook.steps.indices {
            let key = region[index] ?? mainFlow
            if let previous = lastInRegion[key] { successor[previous] = runbook.steps[index].id }
            lastInRegion[key] = index
        }
        var edges: [Edge] = []
        edges.reserveCapacity(runbook.steps.count * 2)
        for index in runbook.steps.indices {
            let chain = stepChains[index]
            let id = runbook.steps[index].id
            var jump = runbook.steps[index].next
            if jump == nil {
                for sectionIdx in chain where lastStepOfSection[canonical[sectionIdx]] == index {
                    if let next = runbook.sections[sectionIdx].next { jump = next; break }
                }
            }
            if let jump {
                edges.append(Edge(from: id, to: resolve(jump, successor: successor[index]), kind: .jump))
            } else {
                edges.append(Edge(from: id, to: successor[index], kind: .next))
            }
            let sectionFailure = chain.first(where: { runbook.sections[$0].onFailure != nil }).flatMap { runbook.sections[$0].onFailure }
            let failure = runbook.steps[index].onFailure ?? sectionFailure ?? .abort
            edges.append(Edge(from: id, to: resolve(failure, successor: successor[index]), kind: .failure))
            if runbook.steps[index].isGate {
                edges.append(Edge(from: id, to: resolve(runbook.steps[index].onReject ?? .abort, successor: successor[index]), kind: .reject))
            }
        }
        runbook.edges = edges
        runbook.start = runbook.steps.indices.first(where: { region[$0] == nil }).map { runbook.steps[$0].id }
    }

    /// Unreachable steps and steps from which the run can never end.
    static func check(_ runbook: Runbook, lowering: inout Lowering) {
        let own = runbook.steps.indices.filter { runbook.steps[$0].origin == nil }
        guard !own.isEmpty else { return }
        var index: [String: Int] = [:]
        index.reserveCapacity(runbook.steps.count)
        for i in runbook.steps.indices where index[runbook.steps[i].id] == nil { index[runbook.steps[i].id] = i }
        var links: [(from: Int, to: Int)] = []
        var successes: [(from: Int, to: Int)] = []
        links.reserveCapacity(runbook.edges.count)
        successes.reserveCapacity(runbook.steps.count)
        var endsRun = [Bool](repeating: false, count: runbook.steps.count)
        // Edges come grouped by step, so the last lookup of each end is reused.
        var lastFrom: (id: String, index: Int?)?
        var lastTo: (id: String, index: Int?)?
        for edge in runbook.edges {
            if lastFrom?.id != edge.from { lastFrom = (edge.from, index[edge.from]) }
            guard let from = lastFrom!.index else { continue }
            var to: Int?
            if let id = edge.to {
                if lastTo?.id != id { lastTo = (id, index[id]) }
                to = lastTo!.index
            }
            if let to { links.append((from, to)) }
            if edge.kind == .next || edge.kind == .jump {
                if let to {
                    successes.append((from, to))
                } else {
                    endsRun[from] = true
                }
            }
        }
        let out = Adjacency(nodes: runbook.steps.count, edges: links)
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
            lowering.report(.warning, .unreachableStep, "step '\(step.id)' can never be reached from the first step", line: step.line, column: step.column)
        }
        // Steps from which a chain of successes reaches the end of the run.
        let successIn = Adjacency(nodes: runbook.steps.count, edges: successes.map { ($0.to, $0.from) })
        var exits = endsRun
        queue = runbook.steps.indices.filter { endsRun[$0] }
        while let i = queue.popLast() {
            for j in successIn[i] where !exits[j] {
                exits[j] = true
                queue.append(j)
            }
        }
        guard own.contains(where: { reached[$0] && !exits[$0] }) else { return }
        let successOut = Adjacency(nodes: runbook.steps.count, edges: successes)
        var covered = [Bool](repeating: false, count: runbook.steps.count)
        for i in own where reached[i] && !exits[i] && !covered[i] {
            let step = runbook.steps[i]
            lowering.report(.error, .cycleNoExit, "from step '\(step.id)' the run loops forever: no chain of completed steps reaches the end; add an exit or remove a Next jump", line: step.line, column: step.column)
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

/// Adjacency lists in two flat arrays: node i's targets are `targets[offsets[i]..<offsets[i + 1]]`, in edge order.
private struct Adjacency {
    private var offsets: [Int]
    private var targets: [Int]

    init(nodes: Int, edges: [(from: Int, to: Int)]) {
        offsets = [Int](repeating: 0, count: nodes + 1)
        for edge in edges { offsets[edge.from + 1] += 1 }
        for i in 0..<nodes { offsets[i + 1] += offsets[i] }
        var next = offsets
        targets = [Int](repeating: 0, count: edges.count)
        for edge in edges {
            targets[next[edge.from]] = edge.to
            next[edge.from] += 1
        }
    }

    subscript(node: Int) -> ArraySlice<Int> { targets[offsets[node]..<offsets[node + 1]] }
}
