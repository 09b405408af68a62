import Foundation
import RunsheetCore

/// A deterministic history of deployment runs for `runsheet metrics`: two services, two
/// environments, every sixth hour, with failures that roll back, failures that do not, aborted
/// runs, manual skips and emergency changes, each journal hash-chained like a real one.
enum RunHistory {
    /// A small linear congruential generator: the same seed, the same history.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    /// `locks`: each run.started records the environment lock the run took (format 1.3), as every
    /// run with production steps does now; `open`: the last `open` runs have not ended (they hold
    /// their locks, each on a service of its own so none conflicts with another).
    static func write(to directory: String, runs: Int, steps: Int, locks: Bool = false, open: Int = 0) throws {
        var random = Random(state: 42)
        let base = Date(timeIntervalSince1970: 1_790_000_000)  // 2026-09-21
        var events = 0
        for index in 0..<runs {
            let service = ["checkout", "search"][index % 2]
            let environment = index % 5 == 4 ? "staging" : "production"
            var clock = base.addingTimeInterval(Double(index * 6 * 3600 + random.next(3600)))
            let id = String(format: "deploy-%@-%05d", service, index)
            let stepIDs = (1...steps).map { "step-\($0)" }
            let rollback = ["switch-back", "verify-the-old-version"]
            let production = Array(stepIDs[(steps / 2)...])
            let emergency = random.next(20) == 0
            let roll = random.next(100)
            let failAt = roll < 10 ? steps / 2 + random.next(max(1, steps / 2)) : roll < 13 ? steps - 1 : nil
            let rollsBack = roll < 10
            let abortsAt = roll >= 13 && roll < 15 ? random.next(steps) : nil
            var hashes: [String: JSONValue] = [:]
            for step in stepIDs + rollback { hashes[step] = .string(SHA256Hex.of(step).prefix(16).description) }
            func event(_ type: EventType, step: String? = nil, _ data: [String: JSONValue] = [:]) -> RunEvent {
                RunEvent(seq: 0, time: Timestamp.format(clock), type: type, actor: index % 3 == 0 ? "alice" : "bob", host: "ops-1", via: "terminal", step: step, data: data)
            }
            var list: [RunEvent] = [event(.runStarted, [
                "schema": .string(RunEvent.schema), "runId": .string(id), "runbook": .string("runbooks/deploy-\(service).md"),
                "runbookId": .string("deploy-\(service)"), "title": .string("Deploy \(service)"), "sha256": .string(SHA256Hex.of(service)),
                "params": .object(["version": .string("1.\(index / 10).\(index % 10)"), "commit_time": .string(Timestamp.format(clock.addingTimeInterval(-Double(3600 + random.next(4 * 86400)))))]),
                "class": .string(emergency ? "emergency" : "normal"), "stepHashes": .object(hashes), "runsheetVersion": "bench",
                "service": .string(service), "environment": .string(environment), "production": .array(production.map(JSONValue.string)),
            ])]
            let stillOpen = index >= runs - open
            if locks {
                let lockService = stillOpen ? "\(service)-\(index)" : service
                list[0].data["lock"] = .object(["service": .string(lockService), "environment": .string(environment), "mode": "exclusive"])
            }
            var outcome = "completed"
            var walk = stepIDs
            var position = 0
            while position < walk.count {
                let step = walk[position]
                list.append(event(.stepStarted, step: step))
                clock += Double(20 + random.next(580))
                if let abortsAt, position == abortsAt, walk == stepIDs {
                    outcome = "aborted"
                    break
                }
                if let failAt, position == failAt, walk == stepIDs {
                    list.append(event(.commandFinished, step: step, ["index": 1, "attempt": 1, "command": "./health-check", "exit": 1, "timedOut": false, "interrupted": false, "durationMs": 4000, "passed": false]))
                    if rollsBack {
                        list.append(event(.stepFailed, step: step, ["reason": "health check failed", "next": .string(rollback[0])]))
                        list.append(event(.branchTaken, step: step, ["from": .string(step), "to": .string(rollback[0]), "kind": "failure"]))
                        walk = rollback
                        position = 0
                        outcome = "rolled-back"
                        continue
                    }
                    list.append(event(.stepFailed, step: step, ["reason": "health check failed"]))
                    outcome = "failed"
                    break
                }
                if random.next(40) == 0 {
                    list.append(event(.stepSkipped, step: step, ["reason": "done by hand earlier"]))
                } else {
                    list.append(event(.stepCompleted, step: step))
                }
                position += 1
            }
            if stillOpen {
                list.append(event(.runPaused))
            } else {
                list.append(event(.runEnded, ["outcome": .string(outcome)]))
            }
            let folder = (directory as NSString).appendingPathComponent(id)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var text = Data()
            var previous = ""
            for (offset, raw) in list.enumerated() {
                let sealed = try raw.sealed(seq: offset + 1, after: previous)
                previous = sealed.hash
                text.append(try sealed.canonicalJSON())
                text.append(0x0A)
            }
            try text.write(to: URL(fileURLWithPath: folder + "/journal.jsonl"))
            events += list.count
        }
        print("runs=\(runs) events=\(events)")
    }
}
