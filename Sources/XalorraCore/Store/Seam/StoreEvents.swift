/// What changed in the store, as the server's live feeds and caches need to hear it (issue 14: several `serve`
/// instances on one database). SQLite: ``PollingStoreEvents`` (the newest prediction id, polled); PostgreSQL:
/// LISTEN/NOTIFY on one connection per process, with a slow poll as the safety net.
package enum StoreChange: Sendable, Equatable {
    /// Predictions are committed up to this id (by any process): rows after the last one read are in the store.
    case predictions(through: Int64)
    /// Accounts changed (created, disabled, demoted, deleted): what is cached about them is stale.
    case users
    /// API keys changed (revoked, deleted): what is cached about them is stale.
    case apiKeys
    /// Models or their versions changed (trained, imported, deleted): cached lookups must be checked again.
    case models
    /// Events may have been missed (the listening connection was lost and is back): re-read from the last id seen
    /// and drop every cache.
    case resync
}

/// The store's change events (``Store/events``). Each ``changes()`` is a stream of its own, from the moment it is
/// made until the consumer stops iterating or the store closes.
package protocol StoreEvents: Sendable {
    func changes() -> AsyncStream<StoreChange>
}

/// The events of a store that can only be polled: every `interval`, the newest prediction id, announced when it
/// moved (SQLite: another process on the same file), and once when the stream starts. Nothing else is announced:
/// caches rely on their time limit.
package struct PollingStoreEvents: StoreEvents {
    let predictions: any PredictionRepository
    let interval: Duration

    package init(predictions: any PredictionRepository, interval: Duration = .milliseconds(100)) {
        self.predictions = predictions
        self.interval = interval
    }

    package func changes() -> AsyncStream<StoreChange> {
        let predictions = self.predictions
        let interval = self.interval
        return AsyncStream { continuation in
            let task = Task {
                var through = (try? await predictions.newestID()) ?? 0
                // Where the poll starts: a consumer that read the newest id before this stream began looks again.
                continuation.yield(.predictions(through: through))
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let newest = try? await predictions.newestID(), newest != through else { continue }
                    through = newest
                    continuation.yield(.predictions(through: newest))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

extension Store {
    /// The default for a store that only polls (SQLite); PostgreSQL's store hands out its listener's.
    package var events: any StoreEvents { PollingStoreEvents(predictions: predictions) }
    /// The default: rate-limit counters are this process's own (SQLite, one process).
    package var rateLimitCounters: (any RateLimitCounterRepository)? { nil }
}
