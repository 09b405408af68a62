import Foundation
import RunsheetCore
import RunsheetPostgres

/// The halts in force, for `status`, `readiness` and `metrics`: read from the repository's
/// `.runsheet/halts.jsonl` and judged by its rules as they are now.
enum HaltStatus {
    /// The halts as they stand, or why they cannot be known; nil where the repository has no rules folder.
    /// With `store` (a PostgreSQL store's URL), the store's halts, judged by the rules around
    /// `directory`; where there are none, no lift can be judged, so every halt stands until its end.
    static func book(near directory: String, store: String? = nil) -> Result<HaltBook, GovernanceLog.Problem>? {
        if let store {
            let shown = ConnectionSettings.redacted(store)
            guard let mirror = try? StoreGovernanceMirror.open(url: store, log: "halts") else {
                return .failure(GovernanceLog.Problem(path: "the halts of the store \(shown)", line: nil, message: "they cannot be read"))
            }
            defer { mirror.close() }
            if let rules = try? RepositoryRules.load(from: directory, act: "reading halts") {
                return rules.governance.haltWatch(folder: rules.folder, signersNear: rules.anchor, log: mirror.path).book()
            }
            do {
                let records = try mirror.governanceLog.read()
                return .success(HaltBook(records, liftProblem: { _ in "no repository rules here to judge it by" }))
            } catch {
                return .failure(error)
            }
        }
        guard let rules = try? RepositoryRules.load(from: directory, act: "reading halts") else {
            guard let folder = GovernanceLog.ruleFolder(from: directory) else { return nil }
            return .failure(GovernanceLog.Problem(path: folder + "/" + Halt.fileName, line: nil,
                                                  message: "the repository's rule files cannot be read, so which lifts count cannot be known"))
        }
        return rules.halts.book()
    }

    /// One line per halt in force, and one when the halts file does not verify; on a store, one
    /// per act of `store void` on its halts log.
    static func lines(near directory: String, store: String? = nil, at date: Date = Date()) -> [String] {
        halts(near: directory, store: store, at: date) + (store.map(voided) ?? [])
    }

    /// What `store void` took out of the store's halts log.
    static func voided(_ store: String) -> [String] {
        let voidings = (try? StoreAccess.run(store) { connection in try await RunStore.voidings(connection, .log("halts")) }) ?? []
        return voidings.isEmpty ? [] : [""] + VoidedLines.lines(voidings, of: "the store's halts log", list: "runsheet store void --list --log halts")
    }

    static func halts(near directory: String, store: String?, at date: Date) -> [String] {
        switch book(near: directory, store: store) {
        case nil: return []
        case .failure(let problem)?:
            return ["⛔ every production step is blocked: \((problem.errorDescription ?? problem.message).shown)"]
        case .success(let book)?:
            let active = book.active(at: date)
            guard !active.isEmpty else { return [] }
            return ["", "production halts in force (lift with: runsheet halt --lift):"]
                + active.map { halt in
                    "  ⛔ halt \(halt.seq): production \(halt.sentence.shown)" + book.lifts.filter { $0.halts.contains(halt.hash) && $0.notCounted != nil }
                        .map { " (lift \($0.seq) by \($0.by.shown) does not count: \(($0.notCounted ?? "").shown))" }.joined()
                }
        }
    }
}

extension HaltStatus {
    /// How long production was halted between `from` (nil: since the first halt) and `to`, as the
    /// union of the halts' spans (overlapping halts count once), and how many halts fell in it;
    /// with `service`, only halts that stop that service.
    static func halted(_ book: HaltBook, from: Date?, to: Date, service: String?) -> (seconds: Int, halts: Int) {
        var spans: [(Date, Date)] = []
        for halt in book.halts where service == nil || halt.service == nil || PersonName.same(halt.service ?? "", service ?? "") {
            guard let start = Timestamp.parse(halt.since) else { continue }
            let begin = max(start, from ?? start), end = min(book.end(of: halt) ?? to, to)
            if end > begin { spans.append((begin, end)) }
        }
        var total: TimeInterval = 0
        var current: (Date, Date)?
        for span in spans.sorted(by: { $0.0 < $1.0 }) {
            if let open = current, span.0 <= open.1 {
                current = (open.0, max(open.1, span.1))
            } else {
                if let open = current { total += open.1.timeIntervalSince(open.0) }
                current = span
            }
        }
        if let open = current { total += open.1.timeIntervalSince(open.0) }
        return (Int(total), spans.count)
    }

    /// The time production was halted in `metrics`' window, as the output shows it; nil in a
    /// repository that never halted.
    static func metricsHalted(near directory: String, store: String? = nil, from: Date?, to: Date, service: String?) -> DeliveryMetrics.Halted? {
        switch book(near: directory, store: store) {
        case nil: return nil
        case .failure(let problem)?: return .init(problem: "production halts cannot be counted: \((problem.errorDescription ?? problem.message).shown)")
        case .success(let book)?:
            guard !book.halts.isEmpty else { return nil }  // a repository that never halted says nothing
            let (seconds, count) = halted(book, from: from, to: to, service: service)
            return .init(seconds: seconds, halts: count)
        }
    }

    /// The sentence `metrics` prints on standard error.
    static func metricsLine(_ halted: DeliveryMetrics.Halted?, service: String?) -> String? {
        guard let halted else { return nil }
        if let problem = halted.problem { return problem }
        let count = halted.halts ?? 0
        return "production halted: \(DurationText.format(halted.seconds ?? 0)) in this window (\(count) halt\(count == 1 ? "" : "s")\(service.map { " stopping \($0.shown)" } ?? ""))"
    }
}
