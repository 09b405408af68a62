import Foundation

/// The JSON form of the compiled runbook (schema `runsheet.runbook/1`).
///
/// Encoding is hand-written for speed and memory, and produces exactly the bytes of Foundation's
/// `JSONEncoder` with `[.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]` over the types'
/// `Codable` conformances (tests compare the two); decoding stays on `JSONDecoder`.
public enum RunbookJSON {
    public static func encode(_ runbook: Runbook) throws -> String {
        var bytes: [UInt8] = []
        write(runbook, chunkSize: .max) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the same bytes as `encode` to `sink` in pieces of about `chunkSize` bytes, so the
    /// whole document never needs to be in memory at once.
    public static func write(
        _ runbook: Runbook, chunkSize: Int = 1 << 18, to sink: (UnsafeBufferPointer<UInt8>) throws -> Void
    ) rethrows {
        var out = JSONOutput()
        out.bytes.reserveCapacity(chunkSize == .max ? 4096 : chunkSize + 4096)
        func flush(_ out: inout JSONOutput, _ force: Bool) throws {
            guard force || out.bytes.count >= chunkSize, !out.bytes.isEmpty else { return }
            try out.bytes.withUnsafeBufferPointer { try sink($0) }
            out.bytes.removeAll(keepingCapacity: true)
        }
        // Keys in UTF-8 order, as `.sortedKeys` writes them.
        out.beginObject()
        out.key("class"); out.string(runbook.releaseClass.rawValue)
        out.optional("description", runbook.description)
        out.key("edges"); out.beginArray()
        for edge in runbook.edges {
            out.element(); out.edge(edge)
            try flush(&out, false)
        }
        out.endArray()
        out.optional("environment", runbook.environment)
        out.key("id"); out.string(runbook.id)
        out.optional("owner", runbook.owner)
        out.key("params"); out.beginArray()
        for parameter in runbook.params { out.element(); out.parameter(parameter) }
        out.endArray()
        out.key("path"); out.string(runbook.path)
        out.key("production"); out.bool(runbook.production)
        out.key("roles"); out.strings(runbook.roles)
        out.key("schema"); out.string(runbook.schema)
        out.key("sections"); out.beginArray()
        for section in runbook.sections {
            out.element(); out.section(section)
            try flush(&out, false)
        }
        out.endArray()
        out.optional("service", runbook.service)
        out.key("shell"); out.string(runbook.shell)
        out.optional("start", runbook.start)
        out.key("steps"); out.beginArray()
        for step in runbook.steps {
            out.element(); out.step(step)
            try flush(&out, false)
        }
        out.endArray()
        out.key("title"); out.string(runbook.title)
        out.optional("version", runbook.version)
        out.endObject()
        out.bytes.append(0x0A)
        try flush(&out, true)
    }

    public static func decode(_ text: String) throws -> Runbook {
        try JSONDecoder().decode(Runbook.self, from: Data(text.utf8))
    }
}

/// Pretty-printed JSON in Foundation's layout: two-space indent, `"key" : value`, and empty
/// containers written as an opening bracket, a blank line and the closing bracket.
private struct JSONOutput {
    var bytes: [UInt8] = []
    private var depth = 0
    /// True when the next key or element follows a sibling and needs a comma.
    private var needsComma = false

    mutating func beginObject() { open(0x7B) }
    mutating func endObject() { close(0x7D) }
    mutating func beginArray() { open(0x5B) }
    mutating func endArray() { close(0x5D) }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        bytes.append(0x0A)
        depth += 1
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(0x0A)
        depth -= 1
        indent()
        bytes.append(bracket)
        needsComma = true
    }

    private mutating func indent() {
        for _ in 0..<depth {
            bytes.append(0x20)
            bytes.append(0x20)
        }
    }

    /// Starts an array element.
    mutating func element() {
        if needsComma {
            bytes.append(0x2C)
            bytes.append(0x0A)
        }
        needsComma = true
        indent()
    }

    /// Starts an object member; `name` needs no escaping.
    mutating func key(_ name: StaticString) {
        element()
        bytes.append(0x22)
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [0x22, 0x20, 0x3A, 0x20])
    }

    /// A member left out when nil, as synthesized `Codable` does with `encodeIfPresent`.
    mutating func optional(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func optional(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    mutating func optional(_ name: StaticString, _ value: Target?) {
        guard let value else { return }
        key(name)
        string(value.description)
    }

    mutating func null() { bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    mutating func bool(_ value: Bool) {
        if value {
            bytes.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        } else {
            bytes.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        }
    }

    mutating func int(_ value: Int) {
        guard value >= 0 else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes hold any Int's digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var rest = UInt(value)
            var i = buffer.count
            repeat {
                i -= 1
                buffer[i] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[i...]))
        }
    }

    mutating func string(_ value: String) {
        bytes.append(0x22)
        var value = value
        value.withUTF8 { utf8 in
            var mark = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                if i > mark { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark..<i])) }
                mark = i + 1
                switch c {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
                case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                default:
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Self.hex(c >> 4), Self.hex(c & 0xF)])
                }
            }
            if utf8.count > mark { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[mark...])) }
        }
        bytes.append(0x22)
    }

    private static func hex(_ digit: UInt8) -> UInt8 { digit < 10 ? 0x30 + digit : 0x61 + digit - 10 }

    mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { element(); string(value) }
        endArray()
    }

    // MARK: - The model's types, keys in UTF-8 order

    mutating func edge(_ edge: Edge) {
        beginObject()
        key("from"); string(edge.from)
        key("kind"); string(edge.kind.rawValue)
        key("to")
        if let to = edge.to { string(to) } else { null() }  // explicit null marks the end of the run
        endObject()
    }

    mutating func parameter(_ parameter: Parameter) {
        beginObject()
        if let choices = parameter.choices { key("choices"); strings(choices) }
        optional("default", parameter.defaultValue)
        optional("description", parameter.description)
        key("name"); string(parameter.name)
        optional("pattern", parameter.pattern)
        optional("prompt", parameter.prompt)
        key("secret"); bool(parameter.secret)
        key("type"); string(parameter.type.rawValue)
        endObject()
    }

    mutating func section(_ section: Section) {
        beginObject()
        key("branch"); bool(section.branch)
        key("id"); string(section.id)
        key("level"); int(section.level)
        key("line"); int(section.line)
        optional("next", section.next)
        optional("onFailure", section.onFailure)
        optional("parent", section.parent)
        key("title"); string(section.title)
        if let when = section.when { key("when"); condition(when) }
        endObject()
    }

    mutating func condition(_ condition: Condition) {
        beginObject()
        key("clauses"); beginArray()
        for clause in condition.clauses {
            element(); beginObject()
            key("name"); string(clause.name)
            key("negated"); bool(clause.negated)
            key("values"); strings(clause.values)
            endObject()
        }
        endArray()
        key("text"); string(condition.text)
        endObject()
    }

    mutating func step(_ step: Step) {
        beginObject()
        key("body"); string(step.body)
        optional("boxOffset", step.boxOffset)
        key("checked"); bool(step.checked)
        key("column"); int(step.column)
        key("commands"); beginArray()
        for command in step.commands {
            element(); beginObject()
            key("code"); string(command.code)
            optional("language", command.language)
            key("line"); int(command.line)
            key("run"); bool(command.run)
            key("shell"); string(command.shell)
            endObject()
        }
        endArray()
        key("depth"); int(step.depth)
        optional("estimateSeconds", step.estimateSeconds)
        key("expectExit"); beginArray()
        for code in step.expectExit { element(); int(Int(code)) }
        endArray()
        if let expectation = step.expectOutput {
            // Synthesized `Codable` for an enum case with one unlabelled value: {"case" : {"_0" : value}}.
            key("expectOutput"); beginObject()
            switch expectation {
            case .contains(let text): key("contains"); beginObject(); key("_0"); string(text); endObject()
            case .regex(let pattern): key("regex"); beginObject(); key("_0"); string(pattern); endObject()
            }
            endObject()
        }
        key("id"); string(step.id)
        optional("include", step.include)
        key("kind"); string(step.kind.rawValue)
        key("line"); int(step.line)
        optional("next", step.next)
        optional("onFailure", step.onFailure)
        optional("onReject", step.onReject)
        optional("origin", step.origin)
        optional("parent", step.parent)
        if let poll = step.poll {
            key("poll"); beginObject()
            key("intervalSeconds"); int(poll.intervalSeconds)
            key("limitSeconds"); int(poll.limitSeconds)
            endObject()
        }
        key("production"); bool(step.production)
        if let retries = step.retries {
            key("retries"); beginObject()
            key("count"); int(retries.count)
            key("delaySeconds"); int(retries.delaySeconds)
            endObject()
        }
        optional("role", step.role)
        optional("section", step.section)
        key("separation"); beginArray()
        for kind in step.separation { element(); string(kind.rawValue) }
        endArray()
        key("signOffs"); beginArray()
        for rule in step.signOffs {
            element(); beginObject()
            key("count"); int(rule.count)
            key("roles"); strings(rule.roles)
            endObject()
        }
        endArray()
        optional("timeoutSeconds", step.timeoutSeconds)
        key("title"); string(step.title)
        if let when = step.when { key("when"); condition(when) }
        endObject()
    }
}
