import Synchronization
import XalorraML

/// Decoded models by tenant and reference, so a prediction does not read and parse its model each time.
///
/// Versions are immutable, so a cached model never goes stale; what can change is which version is the newest
/// (or whether a pinned one still exists). This process's own changes invalidate at once; another process's
/// (a CLI training next to the server) are seen within ``freshMicros``.
final class ModelCache: Sendable {
    /// How long a lookup is trusted before the store is asked again.
    static let freshMicros: Int64 = 1_000_000

    /// What a reference resolved to.
    struct Entry: Sendable {
        /// The version, or `nil` when the name has no stored version (the baseline answers).
        let version: ModelVersion?
        let model: TrainedModel?
        let checked: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])

    static func key(tenant: String, reference: ModelReference) -> String {
        "\(tenant)\u{0}\(reference.description)"
    }

    /// The entry for `key` if it was checked recently enough.
    func fresh(_ key: String, now: Timestamp) -> Entry? {
        entries.withLock { entries in
            guard let entry = entries[key], now.microseconds - entry.checked < Self.freshMicros else { return nil }
            return entry
        }
    }

    /// The entry for `key` whatever its age: a stale one whose version is still the newest is reused.
    func any(_ key: String) -> Entry? { entries.withLock { $0[key] } }

    func store(_ key: String, _ entry: Entry) {
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[key] = entry
        }
    }

    /// Drops every entry of a model in `tenant`, after this process added or deleted one of its versions.
    func forget(tenant: String, name: String) {
        let prefix = "\(tenant)\u{0}\(name)"
        entries.withLock { entries in
            for key in entries.keys where key == prefix || key.hasPrefix(prefix + "@") { entries.removeValue(forKey: key) }
        }
    }
}
