/// Mermaid and Graphviz views of a step graph.
public enum GraphRenderer {
    /// A Mermaid flowchart that GitHub renders: sections as subgraphs, failures dashed.
    public static func mermaid(_ runbook: Runbook) -> String {
        var nodeName: [String: String] = [:]
        for (i, step) in runbook.steps.enumerated() { nodeName[step.id] = "s\(i)" }
        var out = "flowchart TD\n"
        out += "  start([\(mermaidLabel("Start: " + runbook.title))])\n"
        out += "  finish([End])\n"
        var bySection: [String: [Int]] = [:]
        var sectionOrder: [String] = []
        var loose: [Int] = []
        for (i, step) in runbook.steps.enumerated() {
            if let section = step.section {
                if bySection[section] == nil { sectionOrder.append(section) }
                bySection[section, default: []].append(i)
            } else {
                loose.append(i)
            }
        }
        func node(_ i: Int) -> String {
            let step = runbook.steps[i]
            var label = step.title
            if let estimate = step.estimateSeconds { label += " (" + DurationText.format(estimate) + ")" }
            let text = mermaidLabel(label)
            if step.isGate { return "  s\(i){{\(text)}}\n" }
            if step.commands.contains(where: \.run) { return "  s\(i)[/\(text)/]\n" }
            return "  s\(i)[\(text)]\n"
        }
        for i in loose { out += node(i) }
        let titles = Dictionary(runbook.sections.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for (n, section) in sectionOrder.enumerated() {
            let title = titles[section].map { ($0.branch ? "⤷ " : "") + $0.title } ?? section
            out += "  subgraph g\(n)[\(mermaidLabel(title))]\n"
            for i in bySection[section] ?? [] { out += "  " + node(i) }
            out += "  end\n"
        }
        if let start = runbook.start, let name = nodeName[start] {
            out += "  start --> \(name)\n"
        } else {
            out += "  start --> finish\n"
        }
        for edge in runbook.edges {
            guard let from = nodeName[edge.from] else { continue }
            let to = edge.to.flatMap { nodeName[$0] } ?? "finish"
            switch edge.kind {
            case .next: out += "  \(from) --> \(to)\n"
            case .jump: out += "  \(from) ==> \(to)\n"
            case .failure:
                guard edge.to != nil else { continue }
                out += "  \(from) -. failure .-> \(to)\n"
            case .reject:
                guard edge.to != nil else { continue }
                out += "  \(from) -. rejected .-> \(to)\n"
            }
        }
        return out
    }

    /// Quoted Mermaid label text: quotes and angle brackets become entity codes.
    static func mermaidLabel(_ text: String) -> String {
        var out = "\""
        for ch in text {
            switch ch {
            case "\"": out += "#quot;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "#": out += "#35;"
            case "\n", "\r": out += " "
            default: out.append(ch)
            }
        }
        return out + "\""
    }

    /// A Graphviz digraph: clusters per section, dashed failure edges.
    public static func dot(_ runbook: Runbook) -> String {
        var out = "digraph runbook {\n"
        out += "  graph [label=\(dotString(runbook.title)), labelloc=t, fontname=\"Helvetica\"];\n"
        out += "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
        out += "  edge [fontname=\"Helvetica\"];\n"
        out += "  start [shape=circle, label=\"start\"];\n  end [shape=doublecircle, label=\"end\"];\n"
        var bySection: [String: [Int]] = [:]
        var order: [String] = []
        for (i, step) in runbook.steps.enumerated() {
            let key = step.section ?? ""
            if bySection[key] == nil { order.append(key) }
            bySection[key, default: []].append(i)
        }
        let titles = Dictionary(runbook.sections.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
        var nodeName: [String: String] = [:]
        for (i, step) in runbook.steps.enumerated() { nodeName[step.id] = "s\(i)" }
        for (n, key) in order.enumerated() {
            let indent = key.isEmpty ? "  " : "    "
            if !key.isEmpty { out += "  subgraph cluster_\(n) {\n    label=\(dotString(titles[key] ?? key));\n" }
            for i in bySection[key] ?? [] {
                let step = runbook.steps[i]
                let shape = step.isGate ? ", shape=hexagon" : step.commands.contains(where: \.run) ? ", shape=parallelogram" : ""
                out += "\(indent)s\(i) [label=\(dotString(step.title))\(shape)];\n"
            }
            if !key.isEmpty { out += "  }\n" }
        }
        out += "  start -> \(runbook.start.flatMap { nodeName[$0] } ?? "end");\n"
        for edge in runbook.edges {
            guard let from = nodeName[edge.from] else { continue }
            let to = edge.to.flatMap { nodeName[$0] } ?? "end"
            switch edge.kind {
            case .next: out += "  \(from) -> \(to);\n"
            case .jump: out += "  \(from) -> \(to) [style=bold];\n"
            case .failure where edge.to != nil: out += "  \(from) -> \(to) [style=dashed, color=red, label=\"failure\"];\n"
            case .reject where edge.to != nil: out += "  \(from) -> \(to) [style=dashed, color=orange, label=\"rejected\"];\n"
            default: break
            }
        }
        return out + "}\n"
    }

    static func dotString(_ text: String) -> String {
        var out = "\""
        for ch in text {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n", "\r": out += " "
            default: out.append(ch)
            }
        }
        return out + "\""
    }
}
