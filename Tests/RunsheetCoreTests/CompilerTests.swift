import RunsheetCore
import RunsheetTestSupport
import Testing

func compile(_ text: String, path: String = "test.md") -> CompileResult { Fixtures.compile(text, path: path) }

extension CompileResult {
    var codes: [String] { diagnostics.map(\.code.rawValue) }
    func first(_ code: String) -> Diagnostic? { diagnostics.first { $0.code.rawValue == code } }
}

@Suite struct StepTests {
    @Test func everyTaskItemShapeIsAStep() {
        let result = compile("""
            # T
            - [ ] dash
            * [x] star
            + [X] plus
            1. [ ] ordered
            2) [ ] paren
            > - [ ] quoted
            - not a step
            - [] not a step either
            - [ ]no space, not a step
            """)
        #expect(result.runbook.steps.map(\.title) == ["dash", "star", "plus", "ordered", "paren", "quoted"])
        #expect(result.runbook.steps.map(\.checked) == [false, true, true, false, false, false])
        #expect(result.runbook.steps.allSatisfy { $0.kind == .task })
    }

    @Test func nestedTasksAreChildStepsInPreOrder() {
        let result = compile("- [ ] parent\n  - [ ] child\n    - [ ] grandchild\n- [ ] sibling\n")
        let steps = result.runbook.steps
        #expect(steps.map(\.id) == ["parent", "child", "grandchild", "sibling"])
        #expect(steps.map(\.parent) == [nil, "parent", "child", nil])
        #expect(steps.map(\.depth) == [0, 1, 2, 0])
        #expect(result.runbook.edges.filter { $0.kind == .next }.map(\.to) == ["child", "grandchild", "sibling", nil])
    }

    @Test func boxOffsetPointsAtTheMarker() {
        let text = "intro\n\n- [x] done\n"
        let step = compile(text).runbook.steps[0]
        let bytes = Array(text.utf8)
        #expect(step.boxOffset.map { bytes[$0] } == UInt8(ascii: "x"))
        #expect(step.line == 3 && step.column == 1)
    }

    @Test func numberedProceduresWhenThereAreNoTasks() {
        let result = compile("# Fix\n\n1. Drain the node\n2. Restart kubelet\n   - Estimate: 2m\n\n   ```bash\n   systemctl restart kubelet\n   ```\n")
        #expect(result.runbook.steps.map(\.kind) == [.procedure, .procedure])
        #expect(result.runbook.steps[1].estimateSeconds == 120)
        #expect(result.runbook.steps[1].commands.map(\.code) == ["systemctl restart kubelet\n"])
        #expect(result.runbook.steps[1].commands[0].run == false)
    }

    @Test func standaloneShellBlocksWhenThereIsNothingElse() {
        let result = compile("# Diagnosis\n\nCheck the pods. Then more.\n\n```sh\nkubectl get pods\n```\n\n```yaml\na: b\n```\n\n```bash\nls\n```\n")
        #expect(result.runbook.steps.map(\.kind) == [.command, .command])
        #expect(result.runbook.steps.map(\.title) == ["Check the pods", "Check the pods"] || result.runbook.steps[1].title == "Run ls")
    }

    @Test func tasksWinOverProcedures() {
        let result = compile("1. numbered\n\n- [ ] task\n")
        #expect(result.runbook.steps.map(\.title) == ["task"])
    }

    @Test func bodyLeavesOutAnnotationsAndChildren() {
        let result = compile("- [ ] Deploy **now**\n  more text\n  - Estimate: 5m\n  - a plain note\n  - [ ] child\n")
        #expect(result.runbook.steps[0].body == "Deploy **now**\nmore text\n- a plain note")
        #expect(result.runbook.steps[0].title == "Deploy now more text")
    }
}

@Suite struct IdentifierTests {
    @Test func idsComeFromTextOrIdAnnotation() {
        let result = compile("- [ ] Switch traffic to green!\n- [ ] Other\n  - Id: custom-1\n")
        #expect(result.runbook.steps.map(\.id) == ["switch-traffic-to-green", "custom-1"])
    }

    @Test func idsSurviveEditsElsewhere() {
        let before = compile("# A\n- [ ] Alpha\n- [ ] Beta\n").runbook.steps.map(\.id)
        let after = compile("# A\nNew intro.\n- [ ] Zero\n- [ ] Alpha\n\n## B\n- [ ] Beta\n").runbook.steps.map(\.id)
        #expect(before.allSatisfy(after.contains))
    }

    @Test func duplicateTextIsQualifiedBySection() {
        let result = compile("# Staging\n- [ ] Run tests\n# Production\n- [ ] Run tests\n")
        #expect(result.runbook.steps.map(\.id) == ["staging.run-tests", "production.run-tests"])
        #expect(!result.codes.contains("ambiguous-id"))
    }

    @Test func sameSectionDuplicatesAreNumberedWithAWarning() {
        let result = compile("# S\n- [ ] Ping\n- [ ] Ping\n")
        #expect(result.runbook.steps.map(\.id) == ["s.ping", "s.ping-2"])
        #expect(result.first("ambiguous-id")?.line == 3)
    }

    @Test func duplicateExplicitIdIsAnError() {
        let result = compile("- [ ] a\n  - Id: same\n- [ ] b\n  - Id: same\n")
        let d = result.first("duplicate-id")
        #expect(d?.severity == .error && d?.line == 4 && d?.column == 5)
    }

    @Test func longTitlesAreCutAtAWordBoundary() {
        let id = Slug.stepID("Update the CurrentVersionNumber in version.go in the release branch to the new version")
        #expect(id.count <= 48)
        #expect(!id.hasSuffix("-"))
        #expect(id.hasPrefix("update-the-currentversionnumber-in-versiongo"))
    }

    @Test func githubAnchorsMatchGitHub() {
        #expect(Slug.githubAnchor("Roll back: the *fast* way!") == "roll-back-the-fast-way")
        #expect(Slug.githubAnchor("🚀 Post-release") == "-post-release")
        #expect(Slug.githubAnchor("Über Café 2") == "über-café-2")
        let result = compile("# Notes\n# Notes\n# Notes\n")
        #expect(result.runbook.sections.map(\.id) == ["notes", "notes-1", "notes-2"])
    }
}

@Suite struct FrontMatterTests {
    @Test func readsEveryKey() {
        let result = compile("""
            ---
            id: deploy
            title: Deploy it
            version: 1.2.0
            owner: sre-team
            class: emergency
            service: checkout
            environment: production
            shell: zsh
            roles: [sre, dba]
            params:
              version:
                pattern: '[0-9]+'
                prompt: Which version?
              env:
                choices: [staging, production]
                default: staging
              token:
                secret: true
              count: "3"
            ---
            - [ ] Use {{version}} {{env}} {{token}} {{count}}
            """)
        #expect(result.diagnostics.isEmpty)
        let runbook = result.runbook
        #expect(runbook.id == "deploy" && runbook.title == "Deploy it" && runbook.version == "1.2.0")
        #expect(runbook.releaseClass == .emergency && runbook.shell == "zsh" && runbook.roles == ["sre", "dba"])
        #expect(runbook.params.map(\.name) == ["version", "env", "token", "count"])
        #expect(runbook.params[1].type == .choice && runbook.params[1].defaultValue == "staging")
        #expect(runbook.params[2].secret && runbook.params[2].required)
        #expect(runbook.params[3].defaultValue == "3")
        #expect(runbook.steps[0].line == 22)
    }

    @Test func yamlErrorsPointIntoTheFile() {
        let result = compile("---\ntitle: ok\nparams: [unclosed\n---\n- [ ] x\n")
        let d = result.first("front-matter")
        #expect(d?.severity == .error)
        #expect(d?.line == 4 || d?.line == 3)
        #expect(d?.message.hasPrefix("front matter is not valid YAML") == true)
    }

    @Test func badClassAndTypes() {
        let result = compile("---\nclass: yolo\nparams:\n  n:\n    type: int\n    default: abc\n---\n- [ ] {{n}}\n")
        #expect(result.first("bad-class")?.line == 2)
        #expect(result.first("bad-class")?.column == 8)
        #expect(result.diagnostics.contains { $0.code == .frontMatter && $0.message.contains("not a whole number") })
    }

    @Test func misspeltKeysAreSuggestedAndForeignKeysIgnored() {
        let result = compile("---\nname: Issue template\nabout: x\nlabels: ''\nowener: me\n---\n- [ ] a\n")
        #expect(result.codes == ["unknown-key"])
        #expect(result.diagnostics[0].message.contains("did you mean 'owner'?"))
        #expect(result.diagnostics[0].line == 5)
    }

    @Test func unclosedFenceIsNotFrontMatter() {
        let result = compile("---\n- [ ] a step\n")
        #expect(result.runbook.steps.count == 1)
        #expect(result.diagnostics.isEmpty)
    }
}

@Suite struct AnnotationTests {
    @Test func everyStepKey() {
        let result = compile("""
            ---
            service: checkout
            environment: production
            roles: [sre, dba, release-manager]
            params:
              env: {choices: [staging, production]}
            ---
            # Deploy
            - [ ] Gate
              - Estimate: 1h 30m
              - When: env is production and class in normal, major
              - Sign-off: 2 of sre or dba
              - Sign-off: release-manager
              - Separation: starter, executor
              - Timeout: 4h
              - On reject: [Rollback](#rollback)
              - Role: sre
              - Production: yes
            - [ ] Check
              - Retries: 3 every 10s
              - Poll: every 5s for 2m
              - Expect exit: 0, 3
              - Expect output: /ready|ok/
              - On failure: continue
              - Next: end

              ```bash run
              curl -fsS localhost
              ```
            # Rollback
            - [ ] Undo
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.formatted))")
        let gate = result.runbook.steps[0]
        #expect(gate.estimateSeconds == 5400)
        #expect(gate.when?.clauses.count == 2)
        #expect(gate.signOffs == [SignOffRule(count: 2, roles: ["sre", "dba"]), SignOffRule(count: 1, roles: ["release-manager"])])
        #expect(gate.separation == [.starter, .executor])
        #expect(gate.timeoutSeconds == 14400 && gate.onReject == .section("rollback") && gate.role == "sre" && gate.production)
        let check = result.runbook.steps[1]
        #expect(check.retries == Retries(count: 3, delaySeconds: 10))
        #expect(check.poll == Poll(intervalSeconds: 5, limitSeconds: 120))
        #expect(check.expectExit == [0, 3] && check.expectOutput == .regex("ready|ok"))
        #expect(check.commands == [Command(language: "bash", shell: "bash", code: "curl -fsS localhost\n", run: true, line: 27)])
        #expect(result.runbook.sections.first { $0.id == "rollback" }?.branch == true)
    }

    @Test func keysAreCaseAndSeparatorInsensitive() {
        let result = compile("# R\n- [ ] a\n  - on_failure: [R](#r)\n  - EXPECT-EXIT: 1\n")
        #expect(result.runbook.steps[0].onFailure == .section("r"))
        #expect(result.runbook.steps[0].expectExit == [1])
    }

    @Test func misspeltAnnotationIsAWarningWithSuggestion() {
        let result = compile("- [ ] a\n  - Estimat: 5m\n  - Note: plain text stays text\n")
        #expect(result.codes == ["unknown-annotation"])
        #expect(result.diagnostics[0].message.contains("did you mean 'Estimate'?"))
        #expect(result.diagnostics[0].line == 2 && result.diagnostics[0].column == 5)
        #expect(result.runbook.steps[0].body.contains("Note: plain text stays text"))
    }

    @Test func unknownKeyAmongKnownOnesIsFlagged() {
        let result = compile("- [ ] a\n  - Estimate: 5m\n  - Owner: bob\n")
        #expect(result.codes == ["unknown-annotation"])
    }

    @Test func badValues() {
        let result = compile("- [ ] a\n  - Estimate: soon\n  - Retries: lots\n  - Poll: sometimes\n  - Expect exit: -1\n  - When: whenever\n  - Expect output: /(/\n")
        #expect(result.codes == ["bad-duration", "bad-annotation", "bad-annotation", "bad-annotation", "bad-condition", "bad-annotation"])
        #expect(result.diagnostics.map(\.line) == [2, 3, 4, 5, 6, 7])
    }

    @Test func sectionAnnotationsApplyToTheirSteps() {
        let result = compile("""
            # Switch

            * On failure: [Rollback](#rollback)
            * When: class is major

            - [ ] one
            - [ ] two

            # Rollback
            - [ ] undo
            """)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.formatted))")
        #expect(result.runbook.steps.map(\.id) == ["one", "two", "undo"])
        #expect(result.runbook.steps[0].when?.text == "class is major")
        let failures = result.runbook.edges.filter { $0.kind == .failure }
        #expect(failures.map(\.to) == ["undo", "undo", nil])
    }
}

@Suite struct FlowTests {
    @Test func branchSectionsLeaveTheMainFlow() {
        let result = compile("# Go\n- [ ] a\n  - On failure: [Roll back](#roll-back)\n- [ ] b\n# Roll back\n- [ ] r1\n- [ ] r2\n# After\n- [ ] c\n")
        let next = Dictionary(uniqueKeysWithValues: result.runbook.edges.filter { $0.kind == .next }.map { ($0.from, $0.to) })
        #expect(next["a"] == "b" && next["b"] == "c" && next["r1"] == "r2")
        #expect(next["r2"] == .some(nil) && next["c"] == .some(nil))
        #expect(result.runbook.start == "a")
        #expect(result.diagnostics.isEmpty)
    }

    @Test func danglingTargetAndLink() {
        let result = compile("# Go\n- [ ] a\n  - On failure: [Rollbak](#rollbak)\n\nSee [here](#nowhere).\n# Rollback\n- [ ] r\n")
        let target = result.first("dangling-target")
        #expect(target?.severity == .error && target?.line == 3)
        #expect(target?.message.contains("did you mean '#rollback'") == true)
        #expect(result.first("dangling-link")?.severity == .warning)
        #expect(result.first("dangling-link")?.line == 5)
    }

    @Test func unreachableAndEndlessLoops() {
        let result = compile("# A\n- [ ] a\n  - Next: [C](#c)\n- [ ] skipped\n# C\n- [ ] c\n  - Next: [A](#a)\n")
        #expect(result.first("unreachable-step")?.line == 4)
        let loop = result.first("cycle-no-exit")
        #expect(loop?.severity == .error && loop?.line == 2)
    }

    @Test func loopWithExitIsFine() {
        let result = compile("# A\n- [ ] a\n# R\n- [ ] back\n  - Next: [A](#a)\n- [ ] x\n  - On failure: [R](#r)\n")
        #expect(!result.codes.contains("cycle-no-exit"))
    }

    @Test func gatesGetRejectEdges() {
        let result = compile("---\nroles: [cab]\n---\n- [ ] approve\n  - Sign-off: cab\n")
        #expect(result.runbook.edges.contains(Edge(from: "approve", to: nil, kind: .reject)))
    }
}

@Suite struct ParameterAndRoleTests {
    @Test func undefinedAndUnusedParameters() {
        let result = compile("---\nparams:\n  version: '1'\n  unused: x\n---\n- [ ] deploy {{verison}}\n\n  ```bash run\n  echo {{ version }} {{run.id}}\n  ```\n")
        let undefined = result.first("undefined-param")
        #expect(undefined?.line == 6 && undefined?.column == 14)
        #expect(undefined?.message.contains("did you mean 'version'?") == true)
        #expect(result.first("unused-param")?.line == 4)
    }

    @Test func placeholdersNeedDeclaredParams() {
        let result = compile("- [ ] use ${{ env.X }} and {{.Tag}} and {{end}}\n\n  ```bash run\n  echo {{name}}\n  ```\n")
        #expect(result.codes == ["undeclared-placeholder"])
        #expect(result.diagnostics[0].line == 4)
    }

    @Test func conditionsAreChecked() {
        let result = compile("---\nparams:\n  env: {choices: [a, b]}\n---\n- [ ] x\n  - When: env is c\n- [ ] y\n  - When: region is eu\n- [ ] z\n  - When: class is hotfix\n")
        #expect(result.codes == ["bad-condition", "undefined-param", "bad-condition"])
    }

    @Test func undeclaredRoles() {
        let result = compile("---\nroles: [sre]\n---\n- [ ] gate\n  - Sign-off: 2 of sre or srr\n- [ ] x\n  - Role: dba\n")
        #expect(result.codes == ["undeclared-role", "undeclared-role"])
        #expect(result.diagnostics[0].message.contains("did you mean 'sre'"))
    }
}

@Suite struct IncludeTests {
    @Test func includedStepsAreSplicedIn() throws {
        let dir = try Fixtures.temporaryDirectory()
        try "- [ ] backup db\n- [ ] verify backup\n".write(to: dir.appendingPathComponent("backup.md"), atomically: true, encoding: .utf8)
        try "- [ ] prepare\n  - Include: [Backup](backup.md)\n- [ ] migrate\n".write(to: dir.appendingPathComponent("main.md"), atomically: true, encoding: .utf8)
        let result = try Compiler().compile(path: dir.appendingPathComponent("main.md").path)
        #expect(result.diagnostics.isEmpty)
        #expect(result.runbook.steps.map(\.id) == ["prepare", "prepare/backup-db", "prepare/verify-backup", "migrate"])
        let next = Dictionary(uniqueKeysWithValues: result.runbook.edges.filter { $0.kind == .next }.map { ($0.from, $0.to) })
        #expect(next["prepare"] == "prepare/backup-db" && next["prepare/verify-backup"] == "migrate")
    }

    @Test func missingAndCyclicIncludes() throws {
        let dir = try Fixtures.temporaryDirectory()
        try "- [ ] a\n  - Include: [B](b.md)\n- [ ] c\n  - Include: [Gone](gone.md)\n".write(to: dir.appendingPathComponent("a.md"), atomically: true, encoding: .utf8)
        try "- [ ] b\n  - Include: [A](a.md)\n".write(to: dir.appendingPathComponent("b.md"), atomically: true, encoding: .utf8)
        let result = try Compiler().compile(path: dir.appendingPathComponent("a.md").path)
        #expect(result.codes.contains("include-missing"))
        #expect(result.codes.contains("include-failed"))
        #expect(result.diagnostics.contains { $0.code == .includeCycle && $0.path.hasSuffix("b.md") })
    }
}
