import Synchronization

/// Keys this process verified in the last second, by the key's text: a client sending its key again skips the store
/// and the hash, as a token skips its signature check (``AccountStatusCache`` still answers for the owner). Fresh
/// for a second, so a key revoked by another process stops within one; this process's revocations empty it at once,
/// and so do another instance's on PostgreSQL as soon as the store announces them (``StoreChange/apiKeys``).
/// One for the process: keys' ids are random, so stores opened side by side (tests) cannot mix them up.
final class APIKeyCache: Sendable {
    static let shared = APIKeyCache()
    /// How long an answer from the store is used.
    static let freshMicros: Int64 = 1_000_000
    /// `last_used_at` is written at most once in this long per key.
    static let lastUsedResolutionMicros: Int64 = 60_000_000

    private struct Entry {
        var record: APIKeyRepository.Record
        var checked: Int64
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let capacity = 10_000

    /// The record verified for `key`, if checked less than a second before `now`.
    func lookup(_ key: String, now: Timestamp) -> APIKeyRepository.Record? {
        entries.withLock { entries in
            guard let entry = entries[key], now.microseconds - entry.checked < Self.freshMicros else { return nil }
            return entry.record
        }
    }

    /// Remembers `record` as verified for `key` at `now`.
    func store(_ key: String, _ record: APIKeyRepository.Record, now: Timestamp) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(record: record, checked: now.microseconds)
        }
    }

    /// Forgets everything: a key was revoked.
    func clear() { entries.withLock { $0.removeAll() } }
}
