import Foundation

/// How running a step's commands ended.
public enum CommandStepResult: Sendable, Equatable {
    case passed
    case failed(String)
    /// Ctrl-C stopped a command: the operator decides what happens to the step.
    case interrupted
}

extension RunEngine {
    /// The commands of the current step that are marked to run.
    public var runnableCommands: [Command] { currentStep?.commands.filter(\.run) ?? [] }

    /// Runs every `run` block of the current step with its retries, polling and expectations,
    /// records each attempt, then completes the step, follows its failure branch, or (where a
    /// failure would end the run) leaves it open for the operator's decision (`failedCheck`).
    ///
    /// `terminal` is the operator's terminal, which a command flagged `interactive` needs (and
    /// gets, through a pseudo-terminal); without one such a step is refused before anything is
    /// recorded. `onProgress` hears each attempt start and end and each wait between attempts.
    public func runCommands(
        runner: CommandRunner, terminal: Int32? = nil, onAttempt: (Int, Int, String) -> Void = { _, _, _ in },
        onProgress: (CommandProgress) -> Void = { _ in },
        onOutput: @escaping @Sendable (String) -> Void
    ) throws -> CommandStepResult {
        let step = try requireOpen()
        try requireCalendar(step)
        let commands = step.commands.enumerated().filter { $0.element.run }
        guard !commands.isEmpty else { throw RunError.noCommand(step.id) }
        if terminal == nil, commands.contains(where: { $0.element.interactive }) { throw RunError.needsTerminal(step.id) }
        let runbookDirectory = (runbook.path as NSString).deletingLastPathComponent
        var environment = ["RUNSHEET_RUN_ID": state.runID, "RUNSHEET_RUN_DIR": runDirectory, "RUNSHEET_STEP": step.id]
        environment.merge(placeholderEnvironment) { _, value in value }
        // Running the step's commands at a command that may have run is the operator's decision to run it again.
        if let unfinished = state.record(step.id).unfinished {
            try record(.commandResolved(CommandResolved(index: unfinished.index, attempt: unfinished.attempt,
                                                        decision: CommandResolved.runAgain)), step: step.id)
        }
        for (index, command) in commands {
            let shown = display(command)
            let started = Date()
            var attempt = 0
            var progress = CommandProgress(
                command: commands.firstIndex { $0.offset == index }.map { $0 + 1 } ?? 1, commands: commands.count, attempt: 0,
                attempts: step.retries.map { $0.count + 1 }, pollEndsAt: step.poll.map { started.addingTimeInterval(Double($0.limitSeconds)) },
                limitSeconds: step.commandLimitSeconds, earlier: [], interactive: command.interactive, phase: .running, since: started)
            while true {
                attempt += 1
                onAttempt(index + 1, attempt, shown)
                let relative = outputFile(step: step.id, command: index + 1, attempt: attempt)
                let spec = CommandSpec(
                    shell: command.shell, script: executable(command), environment: environment,
                    workingDirectory: runbookDirectory.isEmpty ? "." : runbookDirectory,
                    timeoutSeconds: step.commandLimitSeconds,
                    outputPath: (runDirectory as NSString).appendingPathComponent(relative), secrets: secretValues,
                    terminal: command.interactive ? terminal : nil)
                // What would keep it from starting (E2BIG, no shell) is said before its intent is recorded.
                try runner.check(spec)
                if state.format >= JournalFormat(major: 1, minor: 2) {
                    try record(.commandStarted(CommandStarted(index: index + 1, attempt: attempt, command: shown, outputFile: relative)),
                               step: step.id)
                }
                let outcome: CommandOutcome
                progress.attempt = attempt
                progress.phase = .running
                progress.since = Date()
                onProgress(progress)
                do {
                    outcome = try runner.run(spec, onOutput: onOutput)
                } catch {
                    // Started and recorded, but it did not run to a result: say so in the journal.
                    let failed = CommandFinished(
                        index: index + 1, attempt: attempt, command: shown, exit: nil, timedOut: false, interrupted: false,
                        durationMs: 0, outputBytes: nil, outputSha256: nil, outputFile: relative, passed: false)
                    _ = try? record(.commandFinished(failed), step: step.id)
                    throw error
                }
                let verdict = judge(outcome, step: step, outputPath: spec.outputPath)
                let finished = CommandFinished(
                    index: index + 1, attempt: attempt, command: shown, exit: outcome.exitCode.map(Int.init),
                    signal: outcome.signal.map(Int.init), timedOut: outcome.timedOut, interrupted: outcome.interrupted,
                    durationMs: outcome.durationMs, outputBytes: outcome.outputBytes, outputSha256: outcome.outputSHA256,
                    outputFile: relative, passed: verdict == nil)
                try record(.commandFinished(finished), step: step.id)
                progress.since = Date()
                if outcome.interrupted {
                    progress.phase = .ended(passed: false)
                    onProgress(progress)
                    return .interrupted
                }
                guard let problem = verdict else {
                    progress.phase = .ended(passed: true)
                    onProgress(progress)
                    break
                }
                progress.earlier.append(CommandProgress.ending(outcome) + (outcome.exitCode.map { step.expectExit.contains($0) } == true ? ", wrong output" : ""))
                // Ctrl-C between attempts stops the step as it does during a command.
                if let retries = step.retries, attempt <= retries.count {
                    progress.phase = .waiting(seconds: retries.delaySeconds)
                    onProgress(progress)
                    if retries.delaySeconds > 0, try !runner.sleep(seconds: Double(retries.delaySeconds)) { return .interrupted }
                    continue
                }
                if let poll = step.poll, Date().timeIntervalSince(started) + Double(poll.intervalSeconds) <= Double(poll.limitSeconds) {
                    progress.phase = .waiting(seconds: poll.intervalSeconds)
                    onProgress(progress)
                    if try !runner.sleep(seconds: Double(poll.intervalSeconds)) { return .interrupted }
                    continue
                }
                progress.phase = .ended(passed: false)
                onProgress(progress)
                let reason = commands.count > 1 ? "command \(index + 1) \(problem)" : "command \(problem)"
                // A failure the runbook would end the run with leaves the step open instead: a
                // person decides (run again, skip, done anyway, fail, abort). A branch or `continue` is followed.
                if followsFailureByItself(step) { try fail(reason: attempt > 1 ? "\(reason) after \(attempt) attempts" : reason) }
                return .failed(reason)
            }
        }
        try complete()
        return .passed
    }

    /// `output/<step>-<n>-<attempt>.log`, with `-2`, `-3`... when an earlier event of the run
    /// already names that file (the step's commands ran again after back, goto, an interrupt or a
    /// crash), or a file of that name is there, so no output is ever overwritten.
    func outputFile(step: String, command: Int, attempt: Int) -> String {
        let base = "output/\(step.replacingOccurrences(of: "/", with: "_"))-\(command)-\(attempt)"
        func exists(_ name: String) -> Bool {
            var info = stat()
            return lstat((runDirectory as NSString).appendingPathComponent(name), &info) == 0
        }
        var name = base + ".log", again = 1
        while state.outputFiles.contains(name) || exists(name) {
            again += 1
            name = "\(base)-\(again).log"
        }
        return name
    }

    /// Why an attempt failed, or nil when it passed.
    func judge(_ outcome: CommandOutcome, step: Step, outputPath: String) -> String? {
        if outcome.timedOut { return "timed out after \(step.commandLimitSeconds.map(DurationText.format) ?? "its limit")" }
        if outcome.interrupted { return "was interrupted" }
        guard let code = outcome.exitCode else { return "was killed by signal \(outcome.signal ?? 0)" }
        if !step.expectExit.contains(code) {
            return "exited \(code) (expected \(step.expectExit.map(String.init).joined(separator: " or ")))"
        }
        if let expectation = step.expectOutput {
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            // Placeholders in the expectation are filled in: as text, or escaped inside a pattern.
            switch expectation {
            case .contains(let text):
                let wanted = Placeholders.substitute(text) { builtin($0) ?? values[$0] }
                if !output.contains(wanted) { return "output does not contain '\(displayText(text))'" }
            case .regex(let pattern):
                let filled = Placeholders.substitute(pattern) { (builtin($0) ?? values[$0]).map(NSRegularExpression.escapedPattern(for:)) }
                let regex = try? NSRegularExpression(pattern: filled)
                if regex?.firstMatch(in: output, range: NSRange(output.startIndex..., in: output)) == nil {
                    return "output does not match /\(displayText(pattern))/"
                }
            }
        }
        return nil
    }
}
