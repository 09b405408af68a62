import Foundation
import Logging
import NIOCore
import PostgresNIO
import RunsheetCore
import RunsheetPostgres
import Synchronization

/// `runsheet-bench storeappend URL RUN COUNT ROUNDS`: durable appends to run RUN of the
/// PostgreSQL store at URL, made as `sign` and a session make them (`StoreJournal.append`: the
/// event is checked against the run as known and sealed onto its head, `RunStore.append` sends it
/// as one autocommit statement that inserts and announces it, and waits for its commit's
/// confirmation; were the head to have moved, `RunStore.newLines` reads what landed and it goes
/// again), by a connection holding the run's lease (a note is a driving session's event),
/// against the bare baseline over the same kind of connection (postgres-nio, opened the same
/// way): BEGIN, a single-row INSERT of the same line into a plain table with the same columns
/// and key and no trigger, COMMIT. Both commit durably as the server is set up (fsync,
/// synchronous_commit). ROUNDS rounds of COUNT appends each, store then baseline; prints each
/// round's rates and the median of the per-round ratios. The person mapped to the connecting
/// user must be `bench` (`runsheet store grant bench USER`).
enum StoreAppends {
    static func run(url: String, runID: String, count: Int, rounds: Int) throws {
        let environment = ProcessInfo.processInfo.environment
        let settings = try ConnectionSettings.parse(url, environment: environment, loginName: NSUserName(), home: NSHomeDirectory())
        let password = PasswordLookup.password(for: settings, environment: environment, home: NSHomeDirectory()).password
        let store = try Blocking.wait { try await StoreConnection.open(settings, password: password, passwordFile: "") }
        defer { _ = try? Blocking.wait { await RunStore.close(store) } }
        // Notes are the driving session's to write: the trigger wants the lease held by this connection.
        if let holder = try Blocking.wait({ try await RunStore.takeSessionLock(store, .lease, key: runID, run: runID, holder: "runsheet-bench") }) {
            throw BenchFailure.leased(holder)
        }
        try Blocking.wait {
            try await store.connection.query("""
                CREATE TABLE IF NOT EXISTS public.bench_plain (run text NOT NULL, seq integer NOT NULL, line bytea NOT NULL, hash text NOT NULL,
                    prev text NOT NULL, actor text NOT NULL, PRIMARY KEY (run, seq))
                """, logger: logger)
        }
        var state = RunState()
        state = try fold(try Blocking.wait { try await RunStore.newLines(store, runID, after: 0) })
        let before = store.statementCount
        var ratios: [Double] = []
        for round in 1...rounds {
            let clock = ContinuousClock()
            let storeStart = clock.now
            var written: [(line: [UInt8], event: RunEvent)] = []
            for index in 0..<count {
                written.append(try append(note(round, index), to: store, runID: runID, onto: &state))
            }
            let storeSeconds = JournalBench.seconds(clock.now - storeStart)
            let plainRun = "\(runID)-plain-\(UUID().uuidString.prefix(8))"
            let plainStart = clock.now
            for (index, (line, event)) in written.enumerated() {
                try insertPlain(line, event, seq: index + 1, run: plainRun, store: store)
            }
            let plainSeconds = JournalBench.seconds(clock.now - plainStart)
            // For reference, not the target's baseline: the same rows as single autocommit INSERTs (one round trip each).
            let autoRun = "\(runID)-auto-\(UUID().uuidString.prefix(8))"
            let autoStart = clock.now
            for (index, (line, event)) in written.enumerated() {
                try insertPlain(line, event, seq: index + 1, run: autoRun, store: store, autocommit: true)
            }
            let autoSeconds = JournalBench.seconds(clock.now - autoStart)
            let storeRate = Double(count) / storeSeconds, plainRate = Double(count) / plainSeconds
            ratios.append(storeRate / plainRate)
            print("round=\(round) store_appends_per_s=\(String(format: "%.0f", storeRate)) plain_inserts_per_s=\(String(format: "%.0f", plainRate)) ratio=\(String(format: "%.2f", storeRate / plainRate))" +
                  " plain_autocommit_inserts_per_s=\(String(format: "%.0f", Double(count) / autoSeconds))")
        }
        let spent = phases.withLock { $0 }, appends = Double(count * rounds)
        print(String(format: "store_phases_ms decide=%.2f send=%.2f statements_per_append=%.2f (per append: check and seal; the INSERT with its NOTIFY, committed and confirmed)",
                     spent.decide * 1000 / appends, spent.send * 1000 / appends, Double(store.statementCount - before) / appends))
        print("median_ratio=\(String(format: "%.2f", ratios.sorted()[ratios.count / 2]))")
    }

    /// Seconds spent in each phase of the store's appends so far: where an append's time goes.
    static let phases = Mutex<(decide: Double, send: Double)>((0, 0))

    static let logger = Logger(label: "runsheet-bench", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A note by `bench`, as a person's act is recorded (its canonical name, which the store's trigger checks).
    static func note(_ round: Int, _ index: Int) -> RunEvent {
        RunEvent(seq: 0, time: Timestamp.now(), type: .note, actor: "bench", host: "bench-host", via: "terminal",
                 data: ["text": .string("round \(round) note \(index): node drained, pods rescheduled")], canonical: "bench")
    }

    /// The run the lines make.
    static func fold(_ lines: [[UInt8]]) throws -> RunState {
        var state = RunState()
        for bytes in lines { state.apply(try JSONDecoder().decode(RunEvent.self, from: Data(bytes))) }
        return state
    }

    /// `StoreJournal.append(_:onto:check:)` without the command around it; returns the line and event written.
    static func append(_ event: RunEvent, to store: StoreConnection, runID: String, onto state: inout RunState) throws -> ([UInt8], RunEvent) {
        let clock = ContinuousClock()
        for _ in 1...16 {
            let start = clock.now
            if let refusal = state.refusal(of: event) { throw refusal }
            let sealed = try event.sealed(seq: state.eventCount + 1, after: state.headHash)
            let line = Array(try sealed.canonicalJSON())
            let decided = clock.now
            let outcome = try Blocking.wait { try await RunStore.append(store, runID, line: line) }
            phases.withLock { $0.decide += JournalBench.seconds(decided - start); $0.send += JournalBench.seconds(clock.now - decided) }
            if outcome == .committed {
                state.apply(sealed)
                return (line, sealed)
            }
            // Another writer's event landed first (none does here): fold it in and go again.
            let known = state.eventCount
            for (offset, bytes) in try Blocking.wait({ try await RunStore.newLines(store, runID, after: known) }).enumerated() {
                let next = try JSONDecoder().decode(RunEvent.self, from: Data(bytes))
                guard next.seq == known + offset + 1, next.prev == state.headHash else { throw BenchFailure.diverged }
                state.apply(next)
            }
        }
        throw BenchFailure.diverged
    }

    /// The baseline: one row, in a transaction of its own, committed (with `autocommit`, the INSERT alone).
    static func insertPlain(_ line: [UInt8], _ event: RunEvent, seq: Int, run: String, store: StoreConnection, autocommit: Bool = false) throws {
        try Blocking.wait {
            if autocommit {
                try await store.connection.query("""
                    INSERT INTO public.bench_plain (run, seq, line, hash, prev, actor)
                    VALUES (\(run), \(seq), \(ByteBuffer(bytes: line)), \(event.hash), \(event.prev), \(event.actor))
                    """, logger: logger)
                return
            }
            try await store.connection.query("BEGIN", logger: logger)
            try await store.connection.query("""
                INSERT INTO public.bench_plain (run, seq, line, hash, prev, actor)
                VALUES (\(run), \(seq), \(ByteBuffer(bytes: line)), \(event.hash), \(event.prev), \(event.actor))
                """, logger: logger)
            try await store.connection.query("COMMIT", logger: logger)
        }
    }

    enum BenchFailure: Error {
        case diverged
        case leased(String)
    }
}
