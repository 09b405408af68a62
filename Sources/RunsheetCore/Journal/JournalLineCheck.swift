/// What a verifying read does with each line, in journal order (`JournalFile.forEachEvent`, and
/// `JournalPieceFold` for a journal that arrives in pieces): decode it (with its payload, for a fold
/// that keeps no event), require run.started first, check that it follows the line before in the
/// hash chain (`ChainCheck`), and look for unsigned acts and broken seals (`SignedRecordCheck`).
/// After the first finding the rest is only read, as `forEachEvent` always did.
struct JournalLineCheck {
    /// What a line showed.
    enum Finding: Equatable {
        /// It does not follow the line before in the hash chain; why needs the whole journal (`JournalVerifier.firstProblem`).
        case chain
        /// An unsigned act or a broken seal, on a chain that holds so far.
        case signed(JournalProblem)
    }

    private var check: ChainCheck?
    private var signed: SignedRecordCheck?
    private var previous: (time: String, hash: String)?
    private let readsPayloads: Bool
    /// How many lines were read.
    private(set) var count = 0
    /// Names the journal in what is thrown.
    let path: String

    init(path: String, verify: Bool, readsPayloads: Bool) {
        (self.path, self.readsPayloads) = (path, readsPayloads)
        (check, signed) = verify ? (ChainCheck(), SignedRecordCheck()) : (nil, nil)
    }

    /// Reads the line at `range` of `buffer`, the next of the journal; throws when it is not an
    /// event, or is the first and not run.started.
    mutating func next(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws -> (event: RunEvent, payload: EventPayload?, finding: Finding?) {
        let line = count + 1
        let event: RunEvent, hashValue: Range<Int>?, payload: EventPayload?
        if readsPayloads {
            (event, hashValue, payload) = try JournalFile.decodeLineFolded(buffer, range, path: path, after: previous) { line }
        } else {
            ((event, hashValue), payload) = (try JournalFile.decodeLineChecked(buffer, range, path: path, after: previous) { line }, nil)
        }
        previous = (event.time, event.hash)
        count = line
        if line == 1 { try JournalFile.checkStart(event, path: path) }
        if check != nil, try !check!.accepts(event, in: buffer, range, hashValue: hashValue) {
            (check, signed) = (nil, nil)
            return (event, payload, .chain)
        }
        if signed != nil, let found = signed!.problem(with: event, line: line) {
            (check, signed) = (nil, nil)
            return (event, payload, .signed(found))
        }
        return (event, payload, nil)
    }
}
