/// Rate-limit counters shared by every process on one store (issue 14: a client's budget holds whatever instance
/// answers it). A counter is one fixed window of one budget for one client (`slot`, e.g. `login|ip:10.0.0.1`),
/// starting at `windowStart` (epoch seconds) and forgotten after `windowEnd`. SQLite has none: one process counts in
/// its own memory (``Store/rateLimitCounters`` is nil). PostgreSQL: an atomic upsert per window.
package protocol RateLimitCounterRepository: Sendable {
    /// Adds each delta to its counter (created at 0 when absent) in one round trip, and returns every counter's
    /// total afterwards, in the order given.
    func add(_ deltas: [RateLimitDelta]) async throws(XalorraError) -> [Int64]
    /// Forgets the counters whose window ended before `now` (epoch seconds); returns how many.
    func sweep(now: Int64) async throws(XalorraError) -> Int
}

/// Requests to add to one counter.
package struct RateLimitDelta: Sendable, Hashable {
    package var slot: String
    package var windowStart: Int64
    package var windowEnd: Int64
    package var count: Int64

    package init(slot: String, windowStart: Int64, windowEnd: Int64, count: Int64) {
        self.slot = slot
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.count = count
    }
}
