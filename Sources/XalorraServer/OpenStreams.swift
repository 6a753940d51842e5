import Synchronization
import XalorraCore

/// Live streams (Server-Sent Events and WebSockets) open per user: past `limit`, a new one is refused. Idle timers
/// never close a stream, so without a cap one token, used from many addresses, could hold every connection the
/// server has (`XALORRA_MAX_CONNECTIONS_PER_CLIENT` bounds them per address, this per user).
final class OpenStreams: Sendable {
    /// One open stream's place, given back by ``release()`` or, whatever path drops the stream (a write that failed,
    /// an upgrade that never happened), when the last reference to it goes.
    final class Lease: Sendable {
        private let streams: OpenStreams
        private let user: String
        private let released = Atomic(false)

        fileprivate init(streams: OpenStreams, user: String) {
            self.streams = streams
            self.user = user
        }

        /// Gives the place back (once).
        func release() {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            streams.open.withLock { open in
                let count = open[user, default: 1] - 1
                open[user] = count > 0 ? count : nil
            }
        }

        deinit { release() }
    }

    /// The most streams one user holds when `XALORRA_MAX_CONNECTIONS_PER_CLIENT` is not lower: each may buffer up
    /// to ``HTTPOutput/maxPendingStreamBytes`` for a client that reads slowly, so this bounds a user's memory.
    static let perUser = 32

    let limit: Int
    private let open = Mutex<[String: Int]>([:])

    /// Whose streams these are: the account when there is one (a name can be spelled in any case), else the name.
    static func key(_ caller: Caller) -> String { caller.account.map { "#\($0)" } ?? caller.user.lowercased() }

    init(limit: Int) { self.limit = limit }

    /// A place for one more stream of `user`, or nil when it has `limit` open.
    func acquire(_ user: String) -> Lease? {
        let admitted = open.withLock { open -> Bool in
            let count = open[user, default: 0]
            guard count < limit else { return false }
            open[user] = count + 1
            return true
        }
        return admitted ? Lease(streams: self, user: user) : nil
    }

    /// The refusal past the limit.
    var refusal: XalorraError {
        XalorraError(
            .rateLimited,
            "Too many open streams: at most \(limit) per user at once (XALORRA_MAX_CONNECTIONS_PER_CLIENT); close one",
            retryAfter: 1)
    }
}
