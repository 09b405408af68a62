import Foundation
import RunsheetCore
import Synchronization

/// A store run's journal folded while it is fetched (`status RUN`): each piece `RunStore.journal`
/// hands over is read and checked on one queue and folded on another while the store thread
/// fetches the next, so the fold no longer waits for the whole journal, nor the folding for the
/// checking (docs/BENCHMARKS.md, 2026-12-05, branch statusfast). Every check of a folder
/// journal's fold is made (`JournalPieceReader`); a journal that does not verify, or pieces that
/// were not the whole journal, give no fold, and the command reads the journal as before.
final class StoreJournalFold: Sendable {
    private let reading = DispatchQueue(label: "runsheet-store-read")
    private let folding = DispatchQueue(label: "runsheet-store-fold")
    private let reader: Mutex<JournalPieceReader?>
    private let fold = Mutex(JournalPieceFold())

    /// `name` stands where a journal file's path would (`<store> run <id>`).
    init(name: String) {
        reader = Mutex<JournalPieceReader?>(JournalPieceReader(name: name))
    }

    /// For `RunStore.journal(piece:)`: reads the next piece, then folds it; nil drops the fold
    /// (what came was not the journal).
    func take(_ piece: [UInt8]?) {
        reading.async { [self] in
            reader.withLock { reader in
                guard let piece else { return reader = nil }
                // Handed on 2,000 lines at a time: the fold of a piece's last lines is all that
                // is left when the last piece is read.
                reader?.read(piece, by: 2_000) { read in
                    folding.async { [self] in
                        fold.withLock { $0.apply(read) }
                        // Freed on the reading queue, whose thread made them: a free from the
                        // folding thread waited on the allocator's lock the reader was holding.
                        reading.async { withExtendedLifetime(read) {} }
                    }
                }
            }
        }
    }

    /// The fold of every piece handed over, waited for; nil when there is none to trust.
    func result() -> JournalFold? {
        reading.sync {}
        let verified = reader.withLock { $0?.verified ?? false }
        return folding.sync { fold.withLock { $0.result(verified: verified) } }
    }
}
