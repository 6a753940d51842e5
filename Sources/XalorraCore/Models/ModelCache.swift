import Synchronization
import XalorraML

/// Decoded models by tenant and reference, so a prediction does not read and parse its model each time.
///
/// Versions are immutable, so a cached model never goes stale; what can change is which version is the newest
/// (or whether a pinned one still exists). This process's own changes invalidate at once; another instance's on
/// PostgreSQL as soon as the store announces them (``StoreChange/models``: ``clear()``); any other process's (a CLI
/// training next to a SQLite server) within ``freshMicros``.
///
/// The cache holds at most ``maxSize`` tree nodes (and linear weights) in all: past it, the entries checked longest
/// ago are dropped, so many large models in turn cannot hold the memory of all of them. The entry just stored always
/// stays, however large.
final class ModelCache: Sendable {
    /// How long a lookup is trusted before the store is asked again.
    static let freshMicros: Int64 = 1_000_000
    /// The most nodes the cached models may have together: twice the default largest model.
    static let maxSize = 2 * ModelLimits.defaults.nodes
    /// The most entries (a lookup of a name without a model is an entry too).
    static let maxEntries = 10_000

    /// What a reference resolved to.
    struct Entry: Sendable {
        /// The version, or `nil` when the name has no stored version (the baseline answers).
        let version: ModelVersion?
        let model: TrainedModel?
        let checked: Int64

        /// The memory it holds, in nodes or weights.
        var size: Int { model?.size ?? 0 }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var size = 0
    }

    private let state = Mutex(State())

    static func key(tenant: String, reference: ModelReference) -> String {
        "\(tenant)\u{0}\(reference.description)"
    }

    /// The entry for `key` if it was checked recently enough.
    func fresh(_ key: String, now: Timestamp) -> Entry? {
        state.withLock { state in
            guard let entry = state.entries[key], now.microseconds - entry.checked < Self.freshMicros else { return nil }
            return entry
        }
    }

    /// The entry for `key` whatever its age: a stale one whose version is still the newest is reused.
    func any(_ key: String) -> Entry? { state.withLock { $0.entries[key] } }

    /// Stores `entry`, dropping the entries checked longest ago while the cache is over its bounds.
    func store(_ key: String, _ entry: Entry) {
        let dropped: Int = state.withLock { state in
            if let old = state.entries.updateValue(entry, forKey: key) { state.size -= old.size }
            state.size += entry.size
            guard state.size > Self.maxSize || state.entries.count > Self.maxEntries else { return 0 }
            var dropped = 0
            for (other, value) in state.entries.sorted(by: { $0.value.checked < $1.value.checked }) where other != key {
                guard state.size > Self.maxSize || state.entries.count > Self.maxEntries else { break }
                state.entries.removeValue(forKey: other)
                state.size -= value.size
                dropped += value.size
            }
            return dropped
        }
        HeapTrim.release(after: dropped)
    }

    /// Drops every entry: another process changed models.
    /// - Returns: the size (nodes or weights) of the models dropped.
    @discardableResult
    func clear() -> Int {
        let dropped = state.withLock { state in
            defer { state = State() }
            return state.size
        }
        HeapTrim.release(after: dropped)
        return dropped
    }

    /// Drops every entry of a model in `tenant`, after this process added or deleted one of its versions.
    /// - Returns: the size (nodes or weights) of the models dropped.
    @discardableResult
    func forget(tenant: String, name: String) -> Int {
        let prefix = "\(tenant)\u{0}\(name)"
        return state.withLock { state in
            var dropped = 0
            for key in state.entries.keys where key == prefix || key.hasPrefix(prefix + "@") {
                if let entry = state.entries.removeValue(forKey: key) {
                    state.size -= entry.size
                    dropped += entry.size
                }
            }
            return dropped
        }
    }
}
