import ArgumentParser
import Foundation
import RunsheetCore
import RunsheetPostgres

/// `--store URL`.
struct StoreOption: ParsableArguments {
    @Option(name: .customLong("store"),
            help: ArgumentHelp("The run store: a PostgreSQL store, postgresql://USER@HOST:PORT/DATABASE?sslmode=…, or folder for the run folders (default: $RUNSHEET_STORE, else store: in .runsheet/config.yaml); the password comes from PGPASSWORD or ~/.pgpass, never the URL.",
                               valueName: "url"))
    var store: String?
}

/// `runsheet store …`: set up a shared PostgreSQL run store and move runs in and out of it.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Set up the shared PostgreSQL run store, push runs to it or pull them from it, and void records that do not verify.",
        discussion: """
            See docs/TEAMS.md. Exit codes: 0 done; 1 a journal that does not verify, or a \
            record to void that is not the first that does not verify; 2 bad usage, a URL \
            with a password, an unknown run, a run already there; 5 a session drives the run \
            to void; 6 the store cannot be used (unreachable, password or TLS refused, no \
            such database, its schema missing, too old or too new), refused an event, or \
            the database user does not own its tables (store void).

            Examples:
              runsheet store init postgresql://owner@db.example.com/runsheet
              runsheet store grant carol@example.com carol --store postgresql://owner@db.example.com/runsheet
              RUNSHEET_STORE=postgresql://carol@db.example.com/runsheet runsheet store push checkout-deploy-20261122-051200-ab12
              runsheet store void --log halts --from 9 --reason "INC-78: halt with a copied signature" --store postgresql://owner@db.example.com/runsheet
            """,
        subcommands: [StoreInit.self, StoreGrant.self, StorePush.self, StorePull.self, StoreVoid.self]
    )
}

struct StoreInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create or upgrade the store's schema and its NOLOGIN role (run by the database's owner, who needs CREATEROLE).",
        discussion: """
            Running it again changes nothing but the role's grants, which it sets to exactly \
            what runsheet needs: read every table, append to runs, events and files, nothing else.

            Example:
              runsheet store init postgresql://owner@db.example.com/runsheet --role runsheet
            """
    )

    @Argument(help: ArgumentHelp("The store's URL.", valueName: "url"))
    var url: String

    @Option(help: ArgumentHelp("The NOLOGIN role that holds runsheet's grants.", valueName: "name"))
    var role = "runsheet"

    func validate() throws {
        guard !role.isEmpty, role.utf8.count <= 63, !role.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError("--role takes a PostgreSQL role name of 1 to 63 bytes without control characters, not '\(role)'")
        }
    }

    func run() throws {
        let role = role
        let found = try StoreAccess.run(url) { store in try await RunStore.initialize(store, role: role) }
        let store = ConnectionSettings.redacted(url)
        switch found {
        case nil: Output.line("created the runsheet schema, version \(StoreSchema.version), in \(store); role \(role) (NOLOGIN) holds its grants; give it to each person's database user with: runsheet store grant PERSON DBUSER")
        case StoreSchema.version?: Output.line("the runsheet schema in \(store) is at version \(StoreSchema.version) already; role \(role) holds exactly its grants")
        case let old?: Output.line("upgraded the runsheet schema in \(store) from version \(old) to \(StoreSchema.version); role \(role) holds exactly its grants")
        }
    }
}

struct StoreGrant: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: "Give the store's role to a person's own database user, and record which person that user is (by the owner).",
        discussion: """
            The database then accepts an event only when its actor is that person (canonical \
            form, as everywhere in runsheet), so a member cannot write in someone else's name.

            Example:
              runsheet store grant carol@example.com carol --store postgresql://owner@db.example.com/runsheet
            """
    )

    @Argument(help: ArgumentHelp("The person, named as in roles.yaml.", valueName: "person"))
    var person: String

    @Argument(help: ArgumentHelp("Their own database user (one per person).", valueName: "dbuser"))
    var dbUser: String

    @OptionGroup var storeOption: StoreOption

    func run() throws {
        try RunContext.requireName(person, "the person")
        try RunContext.requireName(dbUser, "the database user")
        let url = try StoreAccess.url(storeOption.store, command: "store grant")
        let canonical = PersonName.canonical(person)
        let dbUser = dbUser
        let role = try StoreAccess.run(url) { store in try await RunStore.grant(store, person: canonical, dbUser: dbUser) }
        Output.line("granted role \(role) to database user \(dbUser), who is \(canonical), in \(ConnectionSettings.redacted(url))")
    }
}

struct StorePush: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Copy runs from their folders into the store, verified before and after.",
        discussion: """
            Each journal must verify; its lines go in byte for byte with the command output logs \
            and the runbook and rule files as the run started, and the copy the database returns \
            is verified again before the transaction commits. The run is marked as pushed: its \
            events were written outside the database, so their actors are claims it did not check.

            Example:
              runsheet store push checkout-deploy-20261122-051200-ab12 --store postgresql://carol@db.example.com/runsheet
            """
    )

    @Argument(help: "The run ids (or unique prefixes, or run folders).", completion: Completions.runID)
    var runIDs: [String]

    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let url = try StoreAccess.url(storeOption.store, command: "store push")
        // One connection for every run; each run still goes in a transaction of its own.
        var connection: StoreConnection?
        defer { if let connection { _ = try? StoreAccess.wait { await RunStore.close(connection) } } }
        for reference in runIDs {
            let directory = try RunContext.runDirectory(reference, runsDir: runsFolder.runsDir)
            let (run, head) = try FolderRuns.read(directory)
            let count = run.lines.count
            let store = try connection ?? StoreAccess.open(url)
            connection = store
            do {
                try StoreAccess.wait {
                    try await RunStore.push(store, run) { stored in
                        try FolderRuns.verifyStored(stored, count: count, head: head, where: "the store")
                        guard stored.lines == run.lines else {
                            throw CommandFailure(status: .findings, message: "run \(run.id) came back from the store with other bytes than were sent; nothing was pushed")
                        }
                    }
                }
            } catch let presence as RunStore.RunPresence {
                throw CommandFailure(status: .usage, message: "run \(presence.run) is already in the store \(ConnectionSettings.redacted(url)); nothing was pushed")
            }
            Output.line("pushed \(run.id): \(count) events, head \(head), \(run.files.count) files, verified in the store")
        }
    }
}

struct StorePull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Copy runs from the store into run folders, verified before they are written.",
        discussion: """
            Writes RUNS/<id>/journal.jsonl byte for byte, the command output logs into output/, \
            and the runbook and rule files as the run started into started/ (by SHA-256, listed \
            in started/files.tsv). A folder that exists already is left alone.

            Example:
              runsheet store pull checkout-deploy-20261122-051200-ab12 --runs-dir runs/
            """
    )

    @Argument(help: "The run ids, as the store holds them.")
    var runIDs: [String]

    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let url = try StoreAccess.url(storeOption.store, command: "store pull")
        let runsDirectory = RunContext.runsDirectory(explicit: runsFolder.runsDir, near: FileManager.default.currentDirectoryPath)
        for id in runIDs {
            guard !id.isEmpty, !id.hasPrefix("."), !id.contains("/"), !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw CommandFailure(status: .usage, message: "'\(id)' is not a run id: a run id is one folder name, not hidden")
            }
            let run = try Export.fetch(id, url: url)
            let target = try FolderRuns.write(run, into: runsDirectory)
            Output.line("pulled \(id) into \(target): \(run.lines.count) events, \(run.files.count) files, verified")
        }
    }
}

/// `runsheet export RUN [-o FILE]`: the run's journal.jsonl, byte for byte, from whichever store holds it.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's journal as JSONL, byte for byte as journal.jsonl holds it.",
        discussion: """
            From the PostgreSQL store (--store, else $RUNSHEET_STORE), else from the run's \
            folder. To standard output, or with -o into a file written in one piece. \
            'runsheet verify FILE' checks the result like any journal.

            Examples:
              runsheet export checkout-deploy-20261122-051200-ab12 -o journal.jsonl
              runsheet export checkout-deploy-20261122-051200-ab12 --store postgresql://carol@db.example.com/runsheet | sha256sum
            """
    )

    @Argument(help: "The run id.", completion: Completions.runID)
    var runID: String

    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption
    @OptionGroup var outputFile: OutputFileOption

    func run() throws {
        let choice = StoreAccess.choice(storeOption.store)
        let bytes: [UInt8]
        var voidings: [Voiding] = []
        switch choice {
        case .folder:
            let directory = try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir)
            let path = RunSupport.journalPath(directory)
            if let kind = RegularFile.otherKind(at: path) {
                throw CommandFailure(status: .usage, message: "\(path) is \(kind), not a regular file, so it is not exported")
            }
            guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(status: .usage, message: "cannot read \(path)") }
            bytes = Array(data)
        case .postgres(let url, _):
            bytes = try Self.fetch(runID, url: url).journalBytes
            voidings = try StoreAccess.run(url) { store in try await RunStore.voidings(store, .run(runID)) }
        }
        try OutputFile.write(bytes, to: outputFile.output)
        // The journal stays byte for byte; that it is shorter than what was written is said beside it.
        for line in VoidedLines.exported(voidings, run: runID) { Output.error(line) }
    }

    /// The run as the store at `url` holds it; an unknown id is one sentence, exit 2.
    static func fetch(_ id: String, url: String) throws -> StoredRun {
        do {
            return try StoreAccess.run(url) { store in try await RunStore.fetch(store, id) }
        } catch is RunStore.RunPresence {
            throw CommandFailure(status: .usage, message: "the store \(ConnectionSettings.redacted(url)) holds no run '\(id)'")
        }
    }
}
