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
    }

    private struct Window {
        var start: Int64
        var count: Int
    }

    private let windows = Mutex<[String: Window]>([:])

    /// Counts a request by `key` against `budget` at `now` (epoch seconds).
    func count(_ budget: RateLimitClass, key: String, now: Int64) -> Decision {
        let window = Int64(budget.windowSeconds)
        let start = now - now % window
        let count = windows.withLock { windows -> Int in
            let slot = budget.name + "|" + key
            var entry = windows[slot] ?? Window(start: start, count: 0)
            if entry.start != start { entry = Window(start: start, count: 0) }
            entry.count += 1
            windows[slot] = entry
            // Forget expired windows now and then, so the table does not grow with every client ever seen.
            if windows.count > 10_000 { windows = windows.filter { $0.value.start + 3600 > now } }
            return entry.count
        }
        let reset = start + window
        return Decision(
            limit: budget.limit, remaining: max(0, budget.limit - count), reset: reset,
            windowSeconds: budget.windowSeconds, allowed: count <= budget.limit,
            retryAfter: Int(max(1, reset - now)), className: budget.name)
    }
}
