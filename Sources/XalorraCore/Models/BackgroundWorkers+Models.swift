extension BackgroundWorkers {
    /// The thread that parses large model files and stored documents: one thread at normal priority, off the
    /// cooperative pool, so a parse of seconds never holds up request handling there (a two-core host has two pool
    /// threads), and several imports at once take turns on one core instead of taking them all.
    static let modelParsing = BackgroundWorkers(count: 1, niceness: 0)
}
