import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A run kept on ANOTHER PostgreSQL store than the one the repository's `.runsheet/config.yaml`
/// names (`--store postgresql://…/other`, RUNSHEET_STORE) obeys the configured store's halts as
/// well: where a run is kept does not choose which halts it obeys. Found by the adversary (02).
@Suite(.serialized) struct OtherStoreHaltsTests {
    @Test func aRunKeptOnAnotherStoreObeysTheHaltsOfTheConfiguredStore() throws {
        let server = try PostgresServer.own()
        defer { server.remove() }
        let s = try StoreRunTests().setup(on: server)
        try "store: \(s.a.url)\n".write(to: s.a.dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        // Another store on the same server, where alice (the same database user) is a member too.
        let other = try PostgresStoreTests().team(on: server)
        let granted = try Fixtures.runsheet(["store", "grant", "alice@example.com", s.team.alice.user, "--store", other.store.url()],
                                            environment: other.store.environment(password: other.store.ownerPassword))
        #expect(granted.status == 0, "\(granted.stderr)")
        let otherURL = other.store.url(user: s.team.alice.user)
        let halted = try Fixtures.runsheet(["halt", "--reason", "INC-7 payments down", "--as", "carol@example.com", "--store", s.c.url],
                                           environment: s.c.environment, directory: s.a.dir)
        #expect(halted.status == 0, "\(halted.stdout)\(halted.stderr)")

        // By flag and by variable: the halted production step does not run.
        for variable in [false, true] {
            var environment = s.a.environment
            if variable { environment["RUNSHEET_STORE"] = otherURL }
            let run = try Fixtures.runsheet(["run", "change.md", "--as", "alice@example.com"] + (variable ? [] : ["--store", otherURL]),
                                            stdin: "done\ndone\n", environment: environment, directory: s.a.dir)
            #expect(run.status == 3 && run.stdout.contains("production is halted by carol@example.com") && run.stdout.contains("INC-7 payments down"),
                    "\(variable): \(run.status) \(run.stdout)\(run.stderr)")
        }
        let done = try other.store.sql("select count(*) from runsheet.events where convert_from(line, 'UTF8') like '%\"step\":\"switch-traffic\"%\"type\":\"step.completed\"%'",
                                       user: other.store.owner, password: other.store.ownerPassword)
        #expect(done.status == 0 && done.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the halted step was never done: \(done.stdout)\(done.stderr)")

        // The same store written another way (other query parameters) is the run's own store: its halt stops the run once.
        let same = try Fixtures.runsheet(["run", "change.md", "--as", "alice@example.com", "--store", s.a.url + "&application_name=same"],
                                         stdin: "done\ndone\n", environment: s.a.environment, directory: s.a.dir)
        #expect(same.status == 3 && same.stdout.contains("production is halted by carol@example.com"), "\(same.status) \(same.stdout)\(same.stderr)")

        // The configured store cannot be read: fail closed, with the floor's sentence.
        let nowhere = "postgresql://\(s.team.alice.user)@127.0.0.1:\(PostgresServer.freePort())/\(s.team.store.database)?sslmode=disable"
        try "store: \(nowhere)\n".write(to: s.a.dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        let down = try Fixtures.runsheet(["run", "change.md", "--as", "alice@example.com", "--store", otherURL],
                                         stdin: "done\ndone\n", environment: s.a.environment, directory: s.a.dir)
        #expect(down.status == 3 && down.stdout.contains("production steps do not start: the halts of the store") && down.stdout.contains("could not be read"),
                "\(down.status) \(down.stdout)\(down.stderr)")

        // The team store committed in config.yaml, an uncommitted edit naming the run's own store
        // instead: the committed one is still obeyed.
        try "store: \(s.a.url)\n".write(to: s.a.dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        for arguments in [["add", ".runsheet/config.yaml"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", "the team store"]] {
            let git = try Fixtures.run("/usr/bin/git", ["-C", s.a.dir.path] + arguments)
            #expect(git.status == 0, "git \(arguments): \(git.stderr)")
        }
        try "store: \(otherURL)\n".write(to: s.a.dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        let edited = try Fixtures.runsheet(["run", "change.md", "--as", "alice@example.com", "--store", otherURL],
                                           stdin: "done\ndone\n", environment: s.a.environment, directory: s.a.dir)
        #expect(edited.status == 3 && edited.stdout.contains("production is halted by carol@example.com"), "\(edited.status) \(edited.stdout)\(edited.stderr)")
    }

    /// The committed config names one store, an uncommitted edit another: a run obeys the halts of
    /// both, kept in a folder or on either store. (Only the committed one's were obeyed.)
    @Test func aRunObeysTheHaltsOfTheCommittedAndTheWorkingCopyStores() throws {
        let server = try PostgresServer.own()
        defer { server.remove() }
        let s = try StoreRunTests().setup(on: server)
        let other = try PostgresStoreTests().team(on: server)
        let granted = try Fixtures.runsheet(["store", "grant", "alice@example.com", s.team.alice.user, "--store", other.store.url()],
                                            environment: other.store.environment(password: other.store.ownerPassword))
        #expect(granted.status == 0, "\(granted.stderr)")
        let otherURL = other.store.url(user: s.team.alice.user)
        // Committed: the other store (no halt there); in the working copy: the team's store, halted by carol.
        let config = s.a.dir.appendingPathComponent(".runsheet/config.yaml")
        try "store: \(otherURL)\n".write(to: config, atomically: true, encoding: .utf8)
        for arguments in [["add", ".runsheet/config.yaml"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", "the other store"]] {
            let git = try Fixtures.run("/usr/bin/git", ["-C", s.a.dir.path] + arguments)
            #expect(git.status == 0, "git \(arguments): \(git.stderr)")
        }
        try "store: \(s.a.url)\n".write(to: config, atomically: true, encoding: .utf8)
        let halted = try Fixtures.runsheet(["halt", "--reason", "INC-9 checkout down", "--as", "carol@example.com", "--store", s.c.url],
                                           environment: s.c.environment, directory: s.a.dir)
        #expect(halted.status == 0, "\(halted.stdout)\(halted.stderr)")
        for (store, runs) in [("folder", "runs-folder"), (otherURL, "runs-other")] {
            let run = try Fixtures.runsheet(["run", "change.md", "--as", "alice@example.com", "--store", store, "--runs-dir", runs],
                                            stdin: "done\ndone\n", environment: s.a.environment, directory: s.a.dir)
            #expect(run.status == 3 && run.stdout.contains("production is halted by carol@example.com") && run.stdout.contains("INC-9 checkout down"),
                    "\(store): \(run.status) \(run.stdout)\(run.stderr)")
        }
    }
}
