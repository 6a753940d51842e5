import Logging
import Synchronization
import XalorraCore

/// Fixed-window rate limits per (budget, caller), as the Aksara seed describes.
///
/// On one process (SQLite) the windows are counted in this process's memory. With counters shared in the store
/// (``RateLimitCounterRepository``, PostgreSQL: several instances behind one address), a budget holds whatever
/// instance answers:
/// * a small budget (at most ``exactLimit`` requests: login, register, chat) is counted exactly, one atomic upsert per
///   request (``countShared(_:key:now:)``), so the sixth login on any instance is refused and exactly one instance
///   sees the first refusal (the audited one);
/// * a large one (default, metrics, dashboard) is counted here at once and its deltas are added to the store every
///   ``flushInterval`` (one upsert for all of them), the instance then knowing the total: it may let through what
///   the other instances counted in the last interval, never a round trip per request.
/// When the store cannot be reached, the instance falls back to its own counts (each instance then allows the
/// budget on its own) and adds them to the store once it is back.
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

    /// Budgets of at most this many requests are counted exactly in shared counters.
    static let exactLimit = 50
    /// How often a large budget's deltas go to the shared counters.
    static let flushInterval: Duration = .milliseconds(50)

    private struct Window {
        var start: Int64
        var end: Int64
        /// Requests counted by this process in the window.
        var count: Int
        /// Shared counters: the window's total in the store as last read, the deltas being added, and those not
        /// yet sent.
        var known = 0
        var sending = 0
        var pending = 0

        /// The count decisions use: this process's own, or (shared) the store's total plus what it has not heard.
        var total: Int { max(count, known + sending + pending) }
    }

    private struct State {
        var windows: [String: Window] = [:]
        /// When expired windows were last swept.
        var sweptAt: Int64 = 0
        /// Whether a flush of pending deltas is scheduled.
        var flushing = false
        /// When the shared counters' expired windows were last swept.
        var sharedSweptAt: Int64 = 0
    }

    private let state = Mutex(State())
    private let shared: (any RateLimitCounterRepository)?
    private let logger: Logger
    /// Whether the last shared-counter call failed (the warning is logged once per outage).
    private let failing = Mutex(false)

    /// - Parameter shared: counters shared by every instance on the store, or nil to count in this process only.
    init(shared: (any RateLimitCounterRepository)? = nil, logger: Logger = Logger(label: "xalorra")) {
        self.shared = shared
        self.logger = logger
    }

    /// Counts a request by `key` against `budget` at `now` (epoch seconds), in this process (a large budget's
    /// delta goes to the shared counters with the next flush).
    func count(_ budget: RateLimitClass, key: String, now: Int64) -> Decision {
        let (_, start, reset) = Self.window(budget, now: now)
        let slot = budget.name + "|" + key
        let (entry, flush) = counted(slot, start: start, reset: reset, now: now, flushed: shared != nil)
        if flush { scheduleFlush() }
        return Self.decision(budget, count: entry.total, reset: reset, now: now)
    }

    /// Counts one request in `slot`'s window that began at `start` (a new window when the slot's is older), and
    /// sweeps ended windows: the slot's window after it, and whether a flush must be scheduled (`flushed`: the
    /// request is also owed to the shared counters, and no flush is under way).
    private func counted(
        _ slot: String, start: Int64, reset: Int64, now: Int64, flushed: Bool
    ) -> (entry: Window, flush: Bool) {
        state.withLock { state in
            var entry = state.windows[slot] ?? Window(start: start, end: reset, count: 0)
            if entry.start != start { entry = Window(start: start, end: reset, count: 0) }
            entry.count += 1
            var flush = false
            if flushed {
                entry.pending += 1
                if !state.flushing {
                    state.flushing = true
                    flush = true
                }
            }
            state.windows[slot] = entry
            Self.sweep(&state, now: now)
            return (entry, flush)
        }
    }

    /// Counts a request as ``count(_:key:now:)`` does, but a small budget exactly in the shared counters (one
    /// round trip; this process's own count when the store cannot be reached).
    func countShared(_ budget: RateLimitClass, key: String, now: Int64) async -> Decision {
        guard let shared, budget.limit <= Self.exactLimit else { return count(budget, key: key, now: now) }
        let (_, start, reset) = Self.window(budget, now: now)
        let slot = budget.name + "|" + key
        let local = counted(slot, start: start, reset: reset, now: now, flushed: false).entry.count
        do throws(XalorraError) {
            let total = try await shared.add([
                RateLimitDelta(slot: slot, windowStart: start, windowEnd: reset, count: 1)
            ]).first ?? Int64(local)
            recovered()
            let count = Int(clamping: total)
            state.withLock { state in
                if var entry = state.windows[slot], entry.start == start {
                    entry.known = max(entry.known, count)
                    state.windows[slot] = entry
                }
            }
            return Self.decision(budget, count: count, reset: reset, now: now)
        } catch {
            failed(error)
            // This instance's own counting, on from the last total the store gave.
            let count = state.withLock { state -> Int in
                guard var entry = state.windows[slot], entry.start == start else { return local }
                entry.known += 1
                state.windows[slot] = entry
                return max(entry.count, entry.known)
            }
            return Self.decision(budget, count: count, reset: reset, now: now)
        }
    }

    /// Where `key` stands in `budget` at `now`, without counting a request.
    func standing(_ budget: RateLimitClass, key: String, now: Int64) -> Decision {
        let (_, start, reset) = Self.window(budget, now: now)
        let count = state.withLock { state -> Int in
            guard let entry = state.windows[budget.name + "|" + key], entry.start == start else { return 0 }
            return entry.total
        }
        return Self.decision(budget, count: count, reset: reset, now: now)
    }

    // MARK: Shared counters

    private func scheduleFlush() {
        Task {
            try? await Task.sleep(for: Self.flushInterval)
            await flush()
        }
    }

    /// Sends every pending delta in one upsert and learns the totals; schedules the next flush while deltas keep
    /// coming.
    private func flush() async {
        guard let shared else { return }
        let now = Timestamp.now().seconds
        let deltas = state.withLock { state -> [RateLimitDelta] in
            var deltas: [RateLimitDelta] = []
            for (slot, var window) in state.windows where window.pending > 0 {
                deltas.append(
                    RateLimitDelta(
                        slot: slot, windowStart: window.start, windowEnd: window.end, count: Int64(window.pending)))
                window.sending += window.pending
                window.pending = 0
                state.windows[slot] = window
            }
            if deltas.isEmpty { state.flushing = false }
            return deltas
        }
        guard !deltas.isEmpty else { return }
        do throws(XalorraError) {
            let totals = try await shared.add(deltas)
            recovered()
            state.withLock { state in
                for (delta, total) in zip(deltas, totals) {
                    guard var window = state.windows[delta.slot], window.start == delta.windowStart else { continue }
                    window.sending -= Int(delta.count)
                    window.known = max(window.known, Int(clamping: total))
                    state.windows[delta.slot] = window
                }
            }
            let sweep = state.withLock { state in
                guard now - state.sharedSweptAt >= 60 else { return false }
                state.sharedSweptAt = now
                return true
            }
            if sweep { _ = try? await shared.sweep(now: now) }
        } catch {
            failed(error)
            // Sent again with the next flush: the store may or may not have added them (a lost answer); counting
            // them twice errs on the side of the limit.
            state.withLock { state in
                for delta in deltas {
                    guard var window = state.windows[delta.slot], window.start == delta.windowStart else { continue }
                    window.sending -= Int(delta.count)
                    window.pending += Int(delta.count)
                    state.windows[delta.slot] = window
                }
            }
        }
        scheduleFlush()
    }

    private func failed(_ error: XalorraError) {
        let first = failing.withLock { failing in
            defer { failing = true }
            return !failing
        }
        if first {
            logger.warning("rate limits: the shared counters cannot be reached, counting in this process: \(error.message)")
        }
    }

    private func recovered() {
        let was = failing.withLock { failing in
            defer { failing = false }
            return failing
        }
        if was { logger.info("rate limits: the shared counters are back") }
    }

    // MARK: Windows

    private static func window(_ budget: RateLimitClass, now: Int64) -> (length: Int64, start: Int64, reset: Int64) {
        let window = Int64(max(1, budget.windowSeconds))
        let start = now - now % window
        return (window, start, start + window)
    }

    /// Forgets expired windows now and then, so the table does not grow with every client ever seen; at most once a
    /// second, so that many live clients do not make every request sweep the whole table. A window whose deltas are
    /// not yet in the store stays until they are.
    private static func sweep(_ state: inout State, now: Int64) {
        guard state.windows.count > 10_000, now > state.sweptAt else { return }
        state.sweptAt = now
        state.windows = state.windows.filter { $0.value.end > now || $0.value.pending + $0.value.sending > 0 }
    }

    private static func decision(_ budget: RateLimitClass, count: Int, reset: Int64, now: Int64) -> Decision {
        Decision(
            limit: budget.limit, remaining: max(0, budget.limit - count), reset: reset,
            windowSeconds: budget.windowSeconds, allowed: count <= budget.limit,
            retryAfter: Int(max(1, reset - now)), className: budget.name, firstRefusal: count == budget.limit + 1)
    }
}
