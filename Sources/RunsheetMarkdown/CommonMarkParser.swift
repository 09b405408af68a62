internal import CCmark
import Synchronization

/// Parses CommonMark with libcmark and copies the tree into `MarkdownDocument` values.
public enum CommonMarkParser {
    /// Parses UTF-8 bytes. `lineOffset` is added to every line number, so a body that follows
    /// front matter still reports positions in the whole file.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, lineOffset: Int = 0) -> MarkdownDocument {
        parse(bytes, lineOffset: lineOffset, largeFrom: 1 << 20)
    }

    /// `largeFrom`: the size from which the tree is freed block by block as it is copied.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, lineOffset: Int, largeFrom: Int) -> MarkdownDocument {
        let root: OpaquePointer? = bytes.baseAddress.map { base in
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                cmark_parse_document($0, bytes.count, CMARK_OPT_DEFAULT)
            }
        } ?? "".withCString { cmark_parse_document($0, 0, CMARK_OPT_DEFAULT) }
        guard let root else { return MarkdownDocument(nodes: [], storage: []) }
        defer { cmark_node_free(root) }
        return copy(root, lineOffset: lineOffset, sizeHint: bytes.count, large: bytes.count >= largeFrom)
    }

    public static func parse(_ bytes: [UInt8], lineOffset: Int = 0) -> MarkdownDocument {
        bytes.withUnsafeBufferPointer { parse($0, lineOffset: lineOffset) }
    }

    public static func parse(_ text: String, lineOffset: Int = 0) -> MarkdownDocument {
        var text = text
        return text.withUTF8 { parse($0, lineOffset: lineOffset) }
    }

    private static func copy(_ root: OpaquePointer, lineOffset: Int, sizeHint: Int, large: Bool) -> MarkdownDocument {
        var nodes: [MarkdownNode] = []
        var storage: [UInt8] = []
        var stack: [Int32] = []
        // A large document is copied block by block, and each top-level block of cmark's tree is
        // freed once copied (and its memory handed back, see `whenMemoryIsFreed`), so the tree and
        // its copy are never both whole: that is the peak memory of a compile.
        // Counting first sizes the array exactly: growing it by doubling would briefly hold two
        // copies. (cmark_iter_reset would step past the root, hence a second iterator.)
        if large, let counter = cmark_iter_new(root) {
            var count = 0
            while true {
                let event = cmark_iter_next(counter)
                if event == CMARK_EVENT_DONE { break }
                if event == CMARK_EVENT_ENTER { count += 1 }
            }
            cmark_iter_free(counter)
            nodes.reserveCapacity(count)
        }
        storage.reserveCapacity(sizeHint)

        func store(_ cString: UnsafePointer<CChar>?) -> StringSlice {
            guard let cString else { return .empty }
            let start = storage.count
            let length = LibC.length(of: cString)
            if length > 0 {
                cString.withMemoryRebound(to: UInt8.self, capacity: length) {
                    storage.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                }
            }
            return StringSlice(start: Int32(truncatingIfNeeded: start), count: Int32(truncatingIfNeeded: length))
        }

        func enter(_ node: OpaquePointer) {
            let kind = nodeKind(cmark_node_get_type(node))
            let index = Int32(nodes.count)
            let parent = stack.last ?? MarkdownNode.none
            var value = MarkdownNode(
                kind: kind,
                range: SourceRange(
                    start: SourcePosition(
                        line: Int(cmark_node_get_start_line(node)) + lineOffset,
                        column: Int(cmark_node_get_start_column(node))),
                    end: SourcePosition(
                        line: Int(cmark_node_get_end_line(node)) + lineOffset,
                        column: Int(cmark_node_get_end_column(node)))),
                parent: parent,
                firstChild: MarkdownNode.none,
                lastChild: MarkdownNode.none,
                nextSibling: MarkdownNode.none,
                literal: .empty,
                info: .empty,
                level: 0,
                ordered: false,
                tight: false)
            switch kind {
            case .text, .code, .codeBlock, .htmlBlock, .htmlInline:
                value.literal = store(cmark_node_get_literal(node))
                if kind == .codeBlock { value.info = store(cmark_node_get_fence_info(node)) }
            case .link, .image:
                value.info = store(cmark_node_get_url(node))
                value.literal = store(cmark_node_get_title(node))
            case .heading:
                value.level = Int32(cmark_node_get_heading_level(node))
            case .list:
                value.ordered = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST
                value.level = Int32(cmark_node_get_list_start(node))
                value.tight = cmark_node_get_list_tight(node) != 0
            default:
                break
            }
            nodes.append(value)
            if parent != MarkdownNode.none {
                let last = nodes[Int(parent)].lastChild
                if last == MarkdownNode.none {
                    nodes[Int(parent)].firstChild = index
                } else {
                    nodes[Int(last)].nextSibling = index
                }
                nodes[Int(parent)].lastChild = index
            }
            if !isLeaf(kind) { stack.append(index) }
        }

        // The document node, then each top-level block with an iterator of its own.
        enter(root)
        var copiedSinceRelease = 0
        var next = cmark_node_first_child(root)
        while let block = next {
            next = cmark_node_next(block)
            guard let iterator = cmark_iter_new(block) else { continue }
            let before = nodes.count
            while true {
                let event = cmark_iter_next(iterator)
                if event == CMARK_EVENT_DONE { break }
                guard let node = cmark_iter_get_node(iterator) else { continue }
                if event == CMARK_EVENT_EXIT {
                    _ = stack.popLast()
                } else {
                    enter(node)
                }
            }
            cmark_iter_free(iterator)
            guard large else { continue }
            cmark_node_free(block)
            copiedSinceRelease += nodes.count - before
            if copiedSinceRelease >= 1 << 16 {
                releaseFreedMemory()
                copiedSinceRelease = 0
            }
        }
        return MarkdownDocument(nodes: nodes, storage: storage)
    }

    private static func isLeaf(_ kind: MarkdownNodeKind) -> Bool {
        switch kind {
        case .htmlBlock, .thematicBreak, .codeBlock, .text, .softBreak, .lineBreak, .code, .htmlInline: true
        default: false
        }
    }

    private static func nodeKind(_ type: cmark_node_type) -> MarkdownNodeKind {
        switch type {
        case CMARK_NODE_DOCUMENT: .document
        case CMARK_NODE_BLOCK_QUOTE: .blockQuote
        case CMARK_NODE_LIST: .list
        case CMARK_NODE_ITEM: .item
        case CMARK_NODE_CODE_BLOCK: .codeBlock
        case CMARK_NODE_HTML_BLOCK: .htmlBlock
        case CMARK_NODE_CUSTOM_BLOCK: .customBlock
        case CMARK_NODE_PARAGRAPH: .paragraph
        case CMARK_NODE_HEADING: .heading
        case CMARK_NODE_THEMATIC_BREAK: .thematicBreak
        case CMARK_NODE_TEXT: .text
        case CMARK_NODE_SOFTBREAK: .softBreak
        case CMARK_NODE_LINEBREAK: .lineBreak
        case CMARK_NODE_CODE: .code
        case CMARK_NODE_HTML_INLINE: .htmlInline
        case CMARK_NODE_CUSTOM_INLINE: .customInline
        case CMARK_NODE_EMPH: .emphasis
        case CMARK_NODE_STRONG: .strong
        case CMARK_NODE_LINK: .link
        case CMARK_NODE_IMAGE: .image
        default: .customInline
        }
    }
}

extension CommonMarkParser {
    /// What runs when copying a large document has freed another share of cmark's tree.
    public typealias FreedMemoryHandler = @convention(c) () -> Void

    // A C function's address, not a Swift closure behind a Mutex: with the closure, a 50 MB
    // compile peaked 11% higher (2.63 GB against 2.36 GB) for the same malloc_trim calls.
    private static let freedMemoryHandler = Atomic<UInt>(0)

    /// Sets what runs, on the parsing thread, each time copying a large document has freed
    /// another 65,536 of cmark's nodes: the program may hand that memory back to the system
    /// (the `runsheet` executable calls glibc's `malloc_trim`). By default nothing runs; how the
    /// allocator behaves is the program's choice, not this library's.
    public static func whenMemoryIsFreed(_ handler: FreedMemoryHandler?) {
        let address = handler.map { UInt(bitPattern: unsafeBitCast($0, to: Int.self)) } ?? 0
        freedMemoryHandler.store(address, ordering: .releasing)
    }

    private static func releaseFreedMemory() {
        let address = freedMemoryHandler.load(ordering: .acquiring)
        if address != 0 { unsafeBitCast(Int(bitPattern: address), to: FreedMemoryHandler.self)() }
    }
}
