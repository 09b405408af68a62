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
        var out = JSONOutput(capacity: chunkSize == .max ? 1 << 16 : chunkSize + 4096)
        func flush(_ out: inout JSONOutput, _ force: Bool) throws {
            guard force || out.written.count >= chunkSize, !out.written.isEmpty else { return }
            try sink(out.written)
            out.clear()
        }
        // The long arrays are flushed element by element.
        func streamed<Element>(
            _ key: StaticString, _ items: [Element], _ out: inout JSONOutput, _ element: (inout JSONOutput, Element) -> Void
        ) throws {
            out.key(key); out.beginArray()
            for item in items {
                out.element(); element(&out, item)
                try flush(&out, false)
            }
            out.endArray()
        }
        // Keys in UTF-8 order, as `.sortedKeys` writes them.
        out.beginObject()
        out.key("class"); out.string(runbook.releaseClass.rawValue)
        out.optional("description", runbook.description)
        try streamed("edges", runbook.edges, &out) { $0.edge($1) }
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
        try streamed("sections", runbook.sections, &out) { $0.section($1) }
        out.optional("service", runbook.service)
        out.key("shell"); out.string(runbook.shell)
        out.optional("start", runbook.start)
        try streamed("steps", runbook.steps, &out) { $0.step($1) }
        out.key("title"); out.string(runbook.title)
        out.optional("version", runbook.version)
        out.endObject()
        out.newline()
        try flush(&out, true)
    }

    public static func decode(_ text: String) throws -> Runbook {
        try JSONDecoder().decode(Runbook.self, from: Data(text.utf8))
    }
}

/// Pretty-printed JSON in Foundation's layout: two-space indent, `"key" : value`, and empty
/// containers written as an opening bracket, a blank line and the closing bracket.
private struct JSONOutput: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var depth = 0
    /// True when the next key or element follows a sibling and needs a comma.
    private var needsComma = false

    /// A growable byte buffer of its own: appending to an `Array` checks uniqueness every time.
    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The bytes written since the last `clear()`.
    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    mutating func clear() { count = 0 }

    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        capacity = max(count + extra, 2 * capacity)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        grown.initialize(from: base, count: count)
        base.deallocate()
        base = grown
    }

    private mutating func put(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    private mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).initialize(from: source, count: bytes.count)
        count += bytes.count
    }

    private mutating func put(_ text: StaticString) {
        if text.hasPointerRepresentation {
            put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        } else {
            text.withUTF8Buffer { put($0) }
        }
    }

    mutating func newline() { put(0x0A) }

    mutating func beginObject() { open(0x7B) }
    mutating func endObject() { close(0x7D) }
    mutating func beginArray() { open(0x5B) }
    mutating func endArray() { close(0x5D) }

    private mutating func open(_ bracket: UInt8) {
        put(bracket)
        put(0x0A)
        depth += 1
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        put(0x0A)
        depth -= 1
        indent()
        put(bracket)
        needsComma = true
    }

    private mutating func indent() {
        reserve(2 * depth)
        (base + count).initialize(repeating: 0x20, count: 2 * depth)
        count += 2 * depth
    }

    /// Starts an array element.
    mutating func element() {
        if needsComma { put(",\n") }
        needsComma = true
        indent()
    }

    /// Starts an object member; `name` needs no escaping.
    mutating func key(_ name: StaticString) {
        element()
        put(0x22)
        put(name)
        put("\" : ")
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

    mutating func null() { put("null") }

    mutating func bool(_ value: Bool) { put(value ? "true" : "false") }

    mutating func int(_ value: Int) {
        guard value >= 0 else {
            var text = String(value)
            text.withUTF8 { put($0) }
            return
        }
        reserve(20)  // the digits of any Int
        var rest = UInt(value)
        var digits = 1
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        rest = UInt(value)
        for i in stride(from: digits - 1, through: 0, by: -1) {
            base[count + i] = UInt8(truncatingIfNeeded: rest % 10) &+ 0x30
            rest /= 10
        }
        count += digits
    }

    mutating func string(_ value: String) {
        put(0x22)
        var value = value
        value.withUTF8 { utf8 in
            guard let start = utf8.baseAddress else { return }
            var mark = 0
            var i = 0
            while i < utf8.count {
                // Eight bytes at a time while none is a control character, a quote or a backslash.
                if i + 8 <= utf8.count, JSONWord.needsNoEscape(UnsafeRawPointer(start + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let c = start[i]
                i += 1
                guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
                put(UnsafeBufferPointer(start: start + mark, count: i - 1 - mark))
                mark = i
                switch c {
                case 0x22: put("\\\"")
                case 0x5C: put("\\\\")
                case 0x08: put("\\b")
                case 0x0C: put("\\f")
                case 0x0A: put("\\n")
                case 0x0D: put("\\r")
                case 0x09: put("\\t")
                default:
                    put("\\u00")
                    put(Self.hex(c >> 4))
                    put(Self.hex(c & 0xF))
                }
            }
            put(UnsafeBufferPointer(start: start + mark, count: utf8.count - mark))
        }
        put(0x22)
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
        if let anchor = step.annotationAnchor {
            key("annotationAnchor"); beginObject()
            key("column"); int(anchor.column)
            key("line"); int(anchor.line)
            key("prefixLine"); int(anchor.prefixLine)
            key("verbatim"); bool(anchor.verbatim)
            endObject()
        }
        key("body"); string(step.body)
        optional("boxOffset", step.boxOffset)
        key("checked"); bool(step.checked)
        key("column"); int(step.column)
        optional("commandTimeoutSeconds", step.commandTimeoutSeconds)
        key("commands"); beginArray()
        for command in step.commands {
            element(); beginObject()
            key("code"); string(command.code)
            if command.interactive { key("interactive"); bool(true) }
            optional("language", command.language)
            key("line"); int(command.line)
            key("run"); bool(command.run)
            key("shell"); string(command.shell)
            endObject()
        }
        endArray()
        key("depth"); int(step.depth)
        optional("endLine", step.endLine)
        optional("estimateLine", step.estimateLine)
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
        key("lessons"); strings(step.lessons)
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
        optional("trailColumn", step.trailColumn)
        optional("trailLine", step.trailLine)
        if let when = step.when { key("when"); condition(when) }
        endObject()
    }
}
