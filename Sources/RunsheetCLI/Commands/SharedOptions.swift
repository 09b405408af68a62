import ArgumentParser
import RunsheetCore

// Options several commands take, declared once (swift-argument-parser's @OptionGroup), so each
// is spelled, explained and completed the same way everywhere.

/// `--runs-dir DIR`.
struct RunsFolderOption: ParsableArguments {
    @Option(help: ArgumentHelp("Where runs are kept (default: $RUNSHEET_RUNS_DIR, else runs/ at the Git root, else runs/ beside the runbook or here).",
                               valueName: "folder"),
            completion: .directory)
    var runsDir: String?
}

/// `--as NAME`.
struct ActorOption: ParsableArguments {
    @Option(name: .customLong("as"), help: ArgumentHelp("Who is acting (default: $RUNSHEET_USER, git user.email, login name).", valueName: "name"))
    var actorName: String?
}

/// `-o FILE` / `--output FILE`.
struct OutputFileOption: ParsableArguments {
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"), completion: .file())
    var output: String?
}

/// `--template FILE`.
struct TemplateOption: ParsableArguments {
    @Option(help: ArgumentHelp("A Mustache template to use instead of the built-in layout.", valueName: "file"), completion: .file(extensions: ["mustache"]))
    var template: String?
}

/// `--param name=value`, repeated.
struct ParameterOptions: ParsableArguments {
    @Option(name: .customLong("param"), help: ArgumentHelp("A parameter value (secrets are never stored).", valueName: "name=value"))
    var params: [String] = []
}

/// An output format a command offers, with the one it uses when `--format` is not given.
protocol OutputFormat: ExpressibleByArgument, CaseIterable, RawRepresentable<String>, Sendable {
    static var standard: Self { get }
}

/// `--format F`; the help lists the formats of `Format` and the default.
struct FormatOption<Format: OutputFormat>: ParsableArguments {
    @Option(help: "The output format.")
    var format: Format = .standard
}

extension ReportRenderer.Format: OutputFormat { static var standard: Self { .md } }
extension ReadinessRenderer.Format: OutputFormat { static var standard: Self { .md } }
extension MetricsRenderer.Format: OutputFormat { static var standard: Self { .md } }
