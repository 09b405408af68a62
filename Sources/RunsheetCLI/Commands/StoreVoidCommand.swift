import ArgumentParser
import Foundation
import RunsheetCore
import RunsheetPostgres

/// `runsheet store void`: the owner's recorded way out of a record that does not verify (a
/// well-formed signature a member inserted by hand, docs/TEAMS.md "Voiding records that do not
/// verify"). Only the first record of a run or log that does not verify can be voided, with those
/// after it; the rows move to `runsheet.voided` with who, when and why, so nothing is lost.
struct StoreVoid: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "void",
        abstract: "Move a store run's (or governance log's) records from the first that does not verify on into runsheet.voided (by the database's owner).",
        discussion: """
            SEQ must be the first record of the run (or of the store's halts or closures \
            log) that does not verify here, as 'verify' and 'halt' judge it (so run it in the \
            repository whose rules and allowed signers apply), with the allowed signers as \
            committed at HEAD (refused while the working copy's file differs); a run's record \
            must also fail under those committed at the commit the run started at; a log is \
            judged only in a repository whose committed config names the store, and its \
            record must fail under every version of the allowed signers in HEAD's history; \
            it and every record after it \
            (they chain onto it) move, in one transaction, into runsheet.voided with the \
            database user who voided them, when and --reason. A record that verifies is never \
            voided. Only the owner of the store's tables may void; anyone may list what was \
            voided with --list (JSON lines: each record's line, who inserted it and when, who \
            voided it, when and why). 'status' and 'audit' name the voided records.

            Exit codes: 0 voided (or listed); 1 refused: SEQ is not the first record that does \
            not verify, the allowed signers file differs from HEAD's, or the run or log changed \
            meanwhile; 2 bad input (no --reason or one with a control character, no such \
            record, --log neither halts nor closures, an allowed signers file that cannot be \
            read); 5 a \
            session drives the run; 6 the store cannot be used, or the database user does not \
            own its tables.

            Examples:
              runsheet store void checkout-deploy-20261122-051200-ab12 --from 14 --reason "INC-77: sign-off forged by db user mallory" --store postgresql://owner@db.example.com/runsheet
              runsheet store void --log halts --from 9 --reason "INC-78: halt with a copied signature" --store postgresql://owner@db.example.com/runsheet
              runsheet store void --list --log halts
            """
    )

    @Argument(help: "The run id, as the store holds it (or --log).")
    var runID: String?

    @Option(help: ArgumentHelp("A governance log of the store instead of a run: halts or closures.", valueName: "log"))
    var log: String?

    @Option(help: ArgumentHelp("The seq of the first record that does not verify: it and every record after it are voided.", valueName: "seq"))
    var from: Int?

    @Option(help: "Why the records are voided (required).")
    var reason: String?

    @Flag(help: "List the voided records of the run or log (JSON lines) instead of voiding any.")
    var list = false

    @OptionGroup var governed: GovernedFolderOption
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var outputFile: OutputFileOption

    func validate() throws {
        if (runID == nil) == (log == nil) { throw ValidationError("name a run, or a governance log with --log halts or --log closures (one of them)") }
        if let log, log != "halts", log != "closures" { throw ValidationError("--log takes halts or closures, not '\(log.shown)'") }
        if list, from != nil || reason != nil { throw ValidationError("--list lists what was voided; it takes no --from or --reason") }
        if !list, from == nil { throw ValidationError("store void needs --from SEQ, the first record that does not verify") }
        if !list, outputFile.output != nil { throw ValidationError("-o goes with --list") }
    }

    var target: VoidTarget { runID.map { .run($0) } ?? .log(log ?? "halts") }

    /// "run ID" or "the halts log", as sentences name it.
    static func named(_ target: VoidTarget) -> String {
        switch target {
        case .run(let id): "run \(id.shown)"
        case .log(let name): "the \(name) log"
        }
    }

    func run() throws {
        let url = try StoreAccess.url(storeOption.store, command: "store void")
        let target = target, shown = ConnectionSettings.redacted(url)
        if case .run(let id) = target, id.isEmpty || id.hasPrefix(".") || id.contains("/") || id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw CommandFailure(status: .usage, message: "'\(id.shown)' is not a run id: a run in the store is named by its whole id")
        }
        if list {
            let records = try StoreAccess.run(url) { store in try await RunStore.voidedRecords(store, target) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var bytes: [UInt8] = []
            for record in records { bytes += Array(try encoder.encode(record)); bytes.append(0x0A) }
            try OutputFile.write(bytes, to: outputFile.output)
            return
        }
        // One line without control characters: status and audit show it on the line that names the voided records.
        if let given = self.reason, given.unicodeScalars.contains(where: ShownText.isControl) {
            throw CommandFailure(status: .usage, message: "the text given with --reason holds a control character (a line break, tab or escape); a reason for voiding is one line of text, so that status and audit show it beside the records it voided; nothing was voided")
        }
        let reason = try RepositoryRules.text(self.reason, option: "--reason", required: "voiding records") ?? ""
        let seq = from ?? 0
        // A member is refused before anything is read.
        try refusing(target, store: shown) { try StoreAccess.run(url) { store in try await RunStore.requireOwner(store) } }
        let (lines, first) = try firstUnverified(target, url: url)
        guard let first else {
            throw CommandFailure(status: .findings, message: "\(Self.named(target)) of the store \(shown) verifies here (\(lines.count) records), so none of its records can be voided; nothing was voided")
        }
        guard first.seq == seq else {
            throw CommandFailure(status: .findings, message: "record \(seq) of \(Self.named(target)) is not the first that does not verify here: record \(first.seq) is (\(first.why)); only that one, with those after it, can be voided, and nothing was voided")
        }
        let count = try refusing(target, store: shown) {
            try StoreAccess.run(url) { store in try await RunStore.void(store, target, from: seq, verified: lines, reason: reason) }
        }
        let list = runID.map { "runsheet store void --list \($0.shown)" } ?? "runsheet store void --list --log \(log ?? "")"
        Output.line("voided record\(count == 1 ? "" : "s") \(Self.range(seq, seq + count - 1)) of \(Self.named(target)) in the store \(shown), kept in runsheet.voided (listed by: \(list)): \(reason.shown)")
    }

    static func range(_ first: Int, _ last: Int) -> String { first == last ? "\(first)" : "\(first) to \(last)" }

    /// The chain's lines as read and the first record that does not verify, with why; nil when all do.
    func firstUnverified(_ target: VoidTarget, url: String) throws -> (lines: [[UInt8]], first: (seq: Int, why: String)?) {
        switch target {
        case .run(let id):
            // Laid out and verified as `verify RUN` does, in the repository around the current folder.
            let view = try StoreRunView.open(id, url: url, outputs: false)
            defer { view.close() }
            // Elsewhere its signatures are checked against no allowed signers, and every signed record would fail.
            if StoreRunView.unanchored(view.directory) {
                throw CommandFailure(status: .findings, message: "run \(id.shown) is not of the repository here (its runbook is not in it), so whose key signed its records cannot be judged here; run store void in the run's repository, and nothing was voided")
            }
            let path = RunSupport.journalPath(view.directory)
            let lines = try FileReader.read(path).split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init)
            let contents = try JournalFile.verifiedRead(at: path, repair: false)
            let state = RunState.fold(contents.events)
            // Judged by the committed allowed signers only (the working copy's are refused when they differ).
            let anchor = RunSupport.signersAnchor(of: state, runDirectory: view.directory)
            _ = try VoidSigners.committed(near: anchor)
            guard let problem = contents.problem ?? RunSignatures.problem(state, runDirectory: view.directory) else { return (lines, nil) }
            if problem.kind == .misplaced {
                throw CommandFailure(status: .findings, message: "run \(id.shown) does not verify here as a whole, not at one record (\(problem.message.shown)); run store void in the run's repository, and nothing was voided")
            }
            let seq = problem.seq ?? problem.line
            // A signature must also fail under the allowed signers committed where the run started:
            // a commit made since (even in a copy of the repository) cannot make a valid one fail.
            if contents.problem == nil, state.signedEvents.contains(where: { $0.seq == seq }) {
                guard let commit = state.gitCommit.map({ String($0.prefix { $0 != "+" }) }), !commit.isEmpty else {
                    throw CommandFailure(status: .findings, message: "run \(id.shown) recorded no commit at its start, so the allowed signers it started under cannot be read and the signature of record \(seq) cannot be judged by them; nothing was voided")
                }
                let started = try VoidSigners.at(commit: commit, near: anchor, run: id)
                if SignatureVerification.outcomes(of: state, signers: started).contains(where: { $0.seq == seq && $0.verified }) {
                    throw CommandFailure(status: .findings, message: "record \(seq) of run \(id.shown) verifies under the allowed signers committed at the commit the run started at (\(commit.prefix(12))), and a record that verifies is never voided; nothing was voided")
                }
            }
            return (lines, (seq, problem.message.shown))
        case .log(let name):
            let rules = try RepositoryRules.load(from: try governed.directory(), act: "voiding records of the store's \(name) log", hint: governed.hint)
            try Self.requireConfigured(url, anchor: rules.anchor, log: name)
            let signers = try VoidSigners.committed(near: rules.anchor)
            let mirror = try StoreGovernanceMirror.open(url: url, log: name)
            defer { mirror.close() }
            let lines = try FileReader.read(mirror.path).split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init)
            let records: [GovernanceRecord]
            do { records = try mirror.governanceLog.read() } catch {
                guard let line = error.line else {
                    throw CommandFailure(status: .findings, message: "the store's \(name) log does not verify as a whole, not at one record (\(error.message.shown)), so none of its records can be voided; nothing was voided")
                }
                return (lines, (line, error.message.shown))
            }
            for record in records {
                if let problem = record.signatureProblem(log: name, signers: signers) {
                    if record.signature != nil, let version = try VoidSigners.history(near: rules.anchor).first(where: { record.signatureProblem(log: name, signers: $0) == nil }) {
                        throw CommandFailure(status: .findings, message: "record \(record.seq) of the store's \(name) log (\(record.type.shown) by \(record.actor.shown)) verifies under \(version.path.shown), a version of the allowed signers committed in this repository's history, and a record that verifies is never voided; nothing was voided")
                    }
                    return (lines, (record.seq, "the signature of record \(record.seq) (\(record.type.shown) by \(record.actor.shown)) does not verify: \(problem.shown)"))
                }
            }
            return (lines, nil)
        }
    }

    /// Refuses (exit 1) voiding a log of a store that the repository's committed
    /// `.runsheet/config.yaml` does not name: only that store's halts and closures are this
    /// repository's to judge (another repository's signers would make its records fail).
    static func requireConfigured(_ url: String, anchor: String, log: String) throws {
        let here = StoreHaltsFloor.place(of: url)
        guard let committed = CommittedConfig.read(forRunbook: anchor) else {
            throw CommandFailure(status: .findings, message: "no \(RepositoryConfig.relativePath) is committed at HEAD here, so this repository does not name the store \(ConnectionSettings.redacted(url)) and cannot judge its \(log) log; run store void in the repository whose committed config names the store, and nothing was voided")
        }
        guard committed.problems.allSatisfy({ $0.severity != .error }), let named = committed.config.store, here != nil, StoreHaltsFloor.place(of: named) == here else {
            throw CommandFailure(status: .findings, message: "\(committed.path.shown) as committed at HEAD does not name the store \(ConnectionSettings.redacted(url)) (same host, port and database), so this repository cannot judge its \(log) log; run store void in the repository whose committed config names the store, and nothing was voided")
        }
    }

    /// `work`, with the store's refusals (`VoidRefusal`) said as one sentence each.
    func refusing<T>(_ target: VoidTarget, store shown: String, _ work: () throws -> T) throws -> T {
        do {
            return try work()
        } catch let refusal as VoidRefusal {
            switch refusal {
            case .notOwner(let user, let owner):
                throw CommandFailure(status: .store, message: "database user \(user.shown) does not own the runsheet tables of the store \(shown) (\(owner.shown) does), and only their owner voids records; nothing was voided")
            case .driven(let run):
                throw CommandFailure(status: .leased, message: "run \(run.shown) is being driven by a session on the store \(shown); void its records once that session has ended, and nothing was voided")
            case .changed:
                throw CommandFailure(status: .findings, message: "\(Self.named(target)) of the store \(shown) changed while it was being verified; nothing was voided, run it again")
            case .noRecord(let count):
                throw CommandFailure(status: .usage, message: "\(Self.named(target)) of the store \(shown) has no record \(from ?? 0) (it has \(count)); nothing was voided")
            }
        }
    }
}

/// What `status` and `audit` say of the records voided from a run or log of the store.
enum VoidedLines {
    /// For a run read from the store (`view`); none for a run folder.
    static func lines(of view: StoreRunView?, run id: String) -> [String] {
        view.map { lines($0.voidings, of: "this run", list: "runsheet store void --list \(id.shown)") } ?? []
    }

    /// The report's `voided` list for a run read from the store (`view`); nil when none were voided.
    static func reported(of view: StoreRunView?, run id: String) -> [RunReport.VoidedRecords]? {
        guard let voidings = view?.voidings, !voidings.isEmpty else { return nil }
        let texts = lines(voidings, of: "this run", list: "runsheet store void --list \(id.shown)")
        return zip(voidings, texts).map { voiding, text in
            RunReport.VoidedRecords(first: voiding.first, last: voiding.last, by: voiding.voidedBy, at: voiding.voidedAt, reason: voiding.reason, text: text)
        }
    }

    /// What `export` says on standard error of a run's voided records: its journal, byte for
    /// byte, ends without them.
    static func exported(_ voidings: [Voiding], run id: String) -> [String] {
        voidings.map { voiding in
            "⚠ record\(voiding.first == voiding.last ? "" : "s") \(StoreVoid.range(voiding.first, voiding.last)) of run \(id.shown) \(voiding.first == voiding.last ? "was" : "were") voided from the store by database user \(voiding.voidedBy.shown) at \(voiding.voidedAt.shown) server time (\(voiding.reason.shown)), so this journal does not hold \(voiding.first == voiding.last ? "it" : "them"); 'runsheet store void --list \(id.shown)' lists \(voiding.first == voiding.last ? "it" : "them")"
        }
    }

    static func lines(_ voidings: [Voiding], of what: String, list: String) -> [String] {
        voidings.map { voiding in
            "⚠ record\(voiding.first == voiding.last ? "" : "s") \(StoreVoid.range(voiding.first, voiding.last)) of \(what) \(voiding.first == voiding.last ? "was" : "were") voided by database user \(voiding.voidedBy.shown) at \(voiding.voidedAt.shown) server time: \(voiding.reason.shown) (listed by: \(list))"
        }
    }
}
