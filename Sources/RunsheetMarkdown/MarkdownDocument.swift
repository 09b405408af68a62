/// A position in a source file: 1-based line, 1-based column counted in UTF-8 bytes.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// An inclusive range of source positions, as cmark reports them.
public struct SourceRange: Sendable, Hashable, CustomStringConvertible {
    public var start: SourcePosition
    public var end: SourcePosition

    public init(start: SourcePosition, end: SourcePosition) {
        self.start = start
        self.end = end
    }

    public var description: String { "\(start)-\(end)" }
}

/// The kinds of CommonMark node, block and inline.
public enum MarkdownNodeKind: UInt8, Sendable, CaseIterable {
    case document, blockQuote, list, item, codeBlock, htmlBlock, customBlock, paragraph, heading, thematicBreak
    case text, softBreak, lineBreak, code, htmlInline, customInline, emphasis, strong, link, image

    public var isBlock: Bool { rawValue <= MarkdownNodeKind.thematicBreak.rawValue }
}

/// A slice of the document's string storage.
public struct StringSlice: Sendable, Hashable {
    public var start: Int32
    public var count: Int32
    public static let empty = StringSlice(start: 0, count: 0)
}

/// One node of a parsed document. Nodes live in a flat array and refer to each other by index,
/// so arbitrarily deep documents never recurse on the stack.
public struct MarkdownNode: Sendable {
    public static let none: Int32 = -1

    public var kind: MarkdownNodeKind
    /// For lists: true when ordered.
    public var ordered: Bool
    /// For lists: true when tight.
    public var tight: Bool
    /// The source range, stored as four 32-bit numbers (cmark's own width): large documents have
    /// hundreds of thousands of nodes.
    public var range: SourceRange {
        @inlinable get {
            SourceRange(start: SourcePosition(line: Int(startLine), column: Int(startColumn)),
                        end: SourcePosition(line: Int(endLine), column: Int(endColumn)))
        }
        set {
            startLine = Int32(truncatingIfNeeded: newValue.start.line)
            startColumn = Int32(truncatingIfNeeded: newValue.start.column)
            endLine = Int32(truncatingIfNeeded: newValue.end.line)
            endColumn = Int32(truncatingIfNeeded: newValue.end.column)
        }
    }
    @usableFromInline var startLine: Int32
    @usableFromInline var startColumn: Int32
    @usableFromInline var endLine: Int32
    @usableFromInline var endColumn: Int32
    public var parent: Int32
    public var firstChild: Int32
    public var lastChild: Int32
    public var nextSibling: Int32
    /// Text of text, code, code blocks and HTML; the fence info of a code block goes in `info`.
    public var literal: StringSlice
    /// Fence info string of a code block; URL of a link or image.
    public var info: StringSlice
    /// Heading level, or list start number.
    public var level: Int32

    init(kind: MarkdownNodeKind, range: SourceRange, parent: Int32, firstChild: Int32, lastChild: Int32, nextSibling: Int32,
         literal: StringSlice, info: StringSlice, level: Int32, ordered: Bool, tight: Bool) {
        self.kind = kind
        startLine = Int32(truncatingIfNeeded: range.start.line)
        startColumn = Int32(truncatingIfNeeded: range.start.column)
        endLine = Int32(truncatingIfNeeded: range.end.line)
        endColumn = Int32(truncatingIfNeeded: range.end.column)
        self.parent = parent
        self.firstChild = firstChild
        self.lastChild = lastChild
        self.nextSibling = nextSibling
        self.literal = literal
        self.info = info
        self.level = level
        self.ordered = ordered
        self.tight = tight
    }
}

/// A parsed CommonMark document: immutable Swift values, no C pointers.
public struct MarkdownDocument: Sendable {
    public let nodes: [MarkdownNode]
    @usableFromInline let storage: [UInt8]

    init(nodes: [MarkdownNode], storage: [UInt8]) {
        self.nodes = nodes
        self.storage = storage
    }

    /// The root document node's index.
    public var root: Int32 { 0 }

    @inlinable public subscript(index: Int32) -> MarkdownNode { nodes[Int(index)] }

    public func string(_ slice: StringSlice) -> String {
        if slice.count == 0 { return "" }
        let start = Int(slice.start)
        return storage.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[start..<start + Int(slice.count)]), as: UTF8.self)
        }
    }

    @inlinable public func bytes(_ slice: StringSlice) -> ArraySlice<UInt8> {
        let start = Int(slice.start)
        return storage[start..<start + Int(slice.count)]
    }

    public func literal(_ index: Int32) -> String { string(self[index].literal) }
    public func info(_ index: Int32) -> String { string(self[index].info) }

    /// The children of a node, in order.
    public func children(_ index: Int32) -> Children { Children(document: self, first: self[index].firstChild) }

    public struct Children: Sequence, Sendable {
        let document: MarkdownDocument
        let first: Int32

        public func makeIterator() -> Iterator { Iterator(document: document, cursor: first) }

        public struct Iterator: IteratorProtocol {
            let document: MarkdownDocument
            var cursor: Int32
            public mutating func next() -> Int32? {
                guard cursor != MarkdownNode.none else { return nil }
                defer { cursor = document[cursor].nextSibling }
                return cursor
            }
        }
    }

    /// Every node below `index` (not `index` itself), in document order, without recursion.
    public func descendants(_ index: Int32) -> [Int32] {
        var result: [Int32] = []
        var stack: [Int32] = []
        var scratch: [Int32] = []
        func pushChildren(_ node: Int32) {
            scratch.removeAll(keepingCapacity: true)
            var c = self[node].firstChild
            while c != MarkdownNode.none {
                scratch.append(c)
                c = self[c].nextSibling
            }
            stack.append(contentsOf: scratch.reversed())
        }
        pushChildren(index)
        while let top = stack.popLast() {
            result.append(top)
            pushChildren(top)
        }
        return result
    }

    /// An indented dump of the tree with source ranges, for tests and debugging.
    public func dump() -> String {
        guard !nodes.isEmpty else { return "" }
        var lines: [String] = []
        var depth: [Int32: Int] = [root: 0]
        for index in [root] + descendants(root) {
            let node = self[index]
            let d = node.parent == MarkdownNode.none ? 0 : (depth[node.parent] ?? 0) + 1
            depth[index] = d
            var line = String(repeating: "  ", count: d) + "\(node.kind) \(node.range)"
            switch node.kind {
            case .heading: line += " level=\(node.level)"
            case .list: line += node.ordered ? " ordered start=\(node.level)" : " bullet"
            case .link, .image: line += " url=\(string(node.info).debugDescription)"
            case .codeBlock: line += " info=\(string(node.info).debugDescription)"
            default: break
            }
            if node.literal.count > 0 && node.kind != .link && node.kind != .image {
                line += " \(string(node.literal).debugDescription)"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The plain text of a node's inline content: text, code spans and link text, with breaks as spaces.
    public func plainText(_ index: Int32) -> String {
        guard index != MarkdownNode.none else { return "" }
        var out: [UInt8] = []
        appendPlainText(index, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public func appendPlainText(_ index: Int32, to out: inout [UInt8]) {
        // Pre-order walk along child, sibling and parent links: no recursion and no stack, since
        // inline nesting can be arbitrarily deep.
        var current = index
        while true {
            let node = self[current]
            if current != index || node.kind == .text || node.kind == .code {
                switch node.kind {
                case .text, .code: out.append(contentsOf: bytes(node.literal))
                case .softBreak, .lineBreak: out.append(0x20)
                default: break
                }
            }
            let opaque = node.kind == .codeBlock || node.kind == .htmlBlock || node.kind == .htmlInline
            if !opaque && node.firstChild != MarkdownNode.none {
                current = node.firstChild
                continue
            }
            var up = current
            while up != index && self[up].nextSibling == MarkdownNode.none { up = self[up].parent }
            if up == index { return }
            current = self[up].nextSibling
        }
    }
}
