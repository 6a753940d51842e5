import Logging
import PostgresNIO
import Synchronization
import XalorraCore

/// The store's change events on PostgreSQL (``StoreEvents``): one connection per process LISTENs on
/// ``channel``, where a prediction group's transaction announces the id it committed through (`p <id>`, sent by
/// ``PostgresPredictionRepository/insert(batches:)``, delivered at commit, so in commit order, which is id order) and
/// the triggers of migration `p3-shared-state` announce changes to accounts (`users`), API keys (`keys`) and models
/// (`models`). Every consumer of ``changes()`` hears every event.
///
/// Nothing is skipped when the connection is lost (a restart, `pg_terminate_backend`): it is opened again (50 ms,
/// doubling to 1 s between attempts), and once it listens again every consumer hears ``StoreChange/resync``, on which
/// the feeds re-read from the last id they saw and the caches empty. A slow poll of the id counter (every
/// ``pollInterval``) is the safety net for a notification that never comes.
package final class PostgresEvents: StoreEvents {
    /// The channel every event goes to (a notification carries its payload only).
    package static let channel = "xalorra_changes"
    /// How often the id counter is polled besides the notifications.
    package static let pollInterval: Duration = .seconds(2)

    private struct State {
        var consumers: [Int: AsyncStream<StoreChange>.Continuation] = [:]
        var next = 0
        var listener: Task<Void, Never>?
        var closed = false
    }

    private let database: PostgresDatabase
    private let state = Mutex(State())

    init(database: PostgresDatabase) { self.database = database }

    /// A stream of every event from now on; the first consumer starts the listening connection.
    package func changes() -> AsyncStream<StoreChange> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StoreChange.self, bufferingPolicy: .bufferingNewest(10_000))
        let added: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            let id = state.next
            state.next += 1
            state.consumers[id] = continuation
            if state.listener == nil { state.listener = Task.detached { [self] in await run() } }
            return id
        }
        guard let added else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in _ = self?.state.withLock { $0.consumers.removeValue(forKey: added) } }
        return stream
    }

    /// Stops listening and ends every stream (the store is closing).
    func close() async {
        let (listener, consumers) = state.withLock { state in
            state.closed = true
            defer {
                state.listener = nil
                state.consumers = [:]
            }
            return (state.listener, Array(state.consumers.values))
        }
        listener?.cancel()
        await listener?.value
        for consumer in consumers { consumer.finish() }
    }

    /// What a notification's payload says, or nil for one this build does not know.
    static func parse(_ payload: String) -> StoreChange? {
        switch payload {
        case "users": return .users
        case "keys": return .apiKeys
        case "models": return .models
        default:
            guard payload.hasPrefix("p "), let id = Int64(payload.dropFirst(2)) else { return nil }
            return .predictions(through: id)
        }
    }

    private func broadcast(_ change: StoreChange) {
        let consumers = state.withLock { Array($0.consumers.values) }
        for consumer in consumers { consumer.yield(change) }
    }

    private func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listen() }
            group.addTask { await self.poll() }
            await group.waitForAll()
        }
    }

    /// Keeps one connection listening, opening it again whenever it is lost.
    private func listen() async {
        var delay: Duration = .milliseconds(50)
        var warned = false
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try PostgresStore.connectionConfiguration(database.location), id: 1,
                    logger: database.logger)
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        // Listening from here on: whatever committed while no connection listened is read again.
                        delay = .milliseconds(50)
                        if warned { database.logger.info("listening to the store's changes again") }
                        warned = false
                        broadcast(.resync)
                        for try await notification in notifications {
                            if let change = Self.parse(notification.payload) { broadcast(change) }
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { break }
                if !warned {
                    database.logger.warning(
                        "listening to the store's changes failed (retrying): \(database.describe(error).message)")
                    warned = true
                }
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(1))
        }
    }

    /// The safety net: the id counter, every ``pollInterval``, announced when it moved.
    private func poll() async {
        let predictions = PostgresPredictionRepository(database: database)
        var through = (try? await predictions.changeCounter()) ?? 0
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.pollInterval)
            guard let counter = try? await predictions.changeCounter(), counter != through else { continue }
            through = counter
            broadcast(.predictions(through: counter))
        }
    }
}
