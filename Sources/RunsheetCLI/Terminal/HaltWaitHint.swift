import RunsheetCore

extension WalkThrough {
    /// What 'wait' waits for at a halted step: a lift, a halts log that verifies again, or (when
    /// the halts cannot be read at all: a store down, a config file that cannot be used) the
    /// exception the refusal names, since a file fixed on disk is read only at the next resume.
    static func haltWaitHint(_ block: HaltBlock) -> String {
        switch block {
        case .halted:
            return "'wait' waits until it is lifted"
        case .unverifiable:
            return "'wait' waits until the halts log verifies again"
        case .storeUnreadable:
            return "'wait' waits until the halts can be read or an exception is granted for this step; a fixed config file counts from the next resume"
        }
    }
}
