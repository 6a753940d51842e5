import Synchronization
import XalorraCore

/// Fixed-window rate limits per (budget, caller), as the Aksara seed describes, kept in this process's memory.
final class RateLimiter: Sendable {
    /// The outcome of counting one request.
    struct Decision {
        let limit: Int
        let remaining: Int
        /// Epoch second when the window resets.
        let reset: Int64
        let windowSeconds: Int
        let allowed: Bool
        /// Seconds to wait when refused.
        let retryAfter: Int
        let className: String
        /// The first request refused in this window for this key (audited for logins: one row per client and
        /// window, however hard it hammers).
        let firstRefusal: Bool
    }

    private struct Window {
        var start: Int64
        var end: Int64
        var count: Int
    }

    private struct State {
        var windows: [String: Window] = [:]
        /// When expired windows were last swept.
        var sweptAt: Int64 = 0
    }

    private let state = Mutex(State())

    /// Counts a request by `key` against `budget` at `now` (epoch seconds).
    func count(_ budget: RateLimitClass, key: String, now: Int64) -> Decision {
        let window = Int64(max(1, budget.windowSeconds))
        let start = now - now % window
        let reset = start + window
        let count = state.withLock { state -> Int in
            let slot = budget.name + "|" + key
            var entry = state.windows[slot] ?? Window(start: start, end: reset, count: 0)
            if entry.start != start { entry = Window(start: start, end: reset, count: 0) }
            entry.count += 1
            state.windows[slot] = entry
            // Forget expired windows now and then, so the table does not grow with every client ever seen; at most
            // once a second, so that many live clients do not make every request sweep the whole table.
            if state.windows.count > 10_000, now > state.sweptAt {
                state.sweptAt = now
                state.windows = state.windows.filter { $0.value.end > now }
            }
            return entry.count
        }
        return Self.decision(budget, count: count, reset: reset, now: now)
    }

    /// Where `key` stands in `budget` at `now`, without counting a request.
    func standing(_ budget: RateLimitClass, key: String, now: Int64) -> Decision {
        let window = Int64(max(1, budget.windowSeconds))
        let start = now - now % window
        let count = state.withLock { state -> Int in
            guard let entry = state.windows[budget.name + "|" + key], entry.start == start else { return 0 }
            return entry.count
        }
        return Self.decision(budget, count: count, reset: start + window, now: now)
    }

    private static func decision(_ budget: RateLimitClass, count: Int, reset: Int64, now: Int64) -> Decision {
        Decision(
            limit: budget.limit, remaining: max(0, budget.limit - count), reset: reset,
            windowSeconds: budget.windowSeconds, allowed: count <= budget.limit,
            retryAfter: Int(max(1, reset - now)), className: budget.name, firstRefusal: count == budget.limit + 1)
    }
}
