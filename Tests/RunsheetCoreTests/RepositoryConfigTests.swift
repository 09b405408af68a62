import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `.runsheet/config.yaml` as read: the targets with their defaults, the store as written, and a
/// URL target named without the parts where a token may sit.
@Suite struct RepositoryConfigTests {
    @Test func targetsGetTheirDefaultsAndTheStoreIsKept() {
        let (config, problems) = RepositoryConfig.parse(path: "/repo/.runsheet/config.yaml", text: """
            store: " postgres://runsheet@db.example.com/runs "
            notify:
              - events: [run.ended, run.ended, step.failed]
                url: https://user:pass@hooks.example.com/runsheet?token=abc#frag
                secret-env: HOOK_KEY
              - name: pager
                events: [calendar.blocked]
                command: ./page
                timeout: 30s
                retries: 5
            """)
        #expect(problems.isEmpty, "\(problems)")
        #expect(config.store == "postgres://runsheet@db.example.com/runs")
        #expect(config.notify == [
            NotifyTarget(name: "https://hooks.example.com/runsheet", events: [.runEnded, .stepFailed],
                         destination: .url("https://user:pass@hooks.example.com/runsheet?token=abc#frag", secretEnv: "HOOK_KEY"),
                         timeout: 5, retries: 2),
            NotifyTarget(name: "pager", events: [.calendarBlocked], destination: .command("./page"), timeout: 30, retries: 5),
        ])
        // The bound: every attempt to its timeout and the pauses between them.
        #expect(config.notify[0].bound == 16 && config.notify[1].bound == 182.5)
    }

    @Test func anHMACSignatureIsTheDocumentedOne() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        #expect(NotificationDelivery.signature(of: Data("what do ya want for nothing?".utf8), key: "Jefe")
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
