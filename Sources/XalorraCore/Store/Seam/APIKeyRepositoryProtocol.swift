/// API keys: their descriptions and the SHA-256 of each key; the key itself is never stored.
/// SQLite: ``SQLiteAPIKeyRepository``.
package protocol APIKeyRepository: Sendable {
    /// Stores a new key.
    func insert(_ key: APIKey, hash: [UInt8], account: Int64?) async throws(XalorraError)
    /// The key whose id is `id`, if any.
    func record(id: String) async throws(XalorraError) -> APIKeyRecord?
    /// A page of `owner`'s keys, newest first.
    func list(_ owner: APIKeyOwner, limit: Int, offset: Int) async throws(XalorraError) -> Page<APIKey>
    /// Marks the key revoked at `now` (keeping a first revocation time); the key, or `nil`.
    func revoke(id: String, now: Timestamp) async throws(XalorraError) -> APIKey?
    /// Records a use at `now`, unless one was recorded in the minute before.
    func touch(id: String, now: Timestamp) async throws(XalorraError)
}

extension APIKeyRepository {
    package typealias Record = APIKeyRecord
    package typealias Owner = APIKeyOwner
}

/// A stored key: what callers see, its digest, and the account it belongs to (`nil`: a name without one).
package struct APIKeyRecord: Sendable {
    package let key: APIKey
    /// The digest in lower-case hex, as UTF-8.
    package let hash: [UInt8]
    package let account: Int64?

    package init(key: APIKey, hash: [UInt8], account: Int64?) {
        self.key = key
        self.hash = hash
        self.account = account
    }
}

/// Whose keys a list holds.
package enum APIKeyOwner: Sendable {
    /// An account's, by identity.
    case account(Int64)
    /// A name's that has no account (keys made for it alone).
    case name(String)
    /// A username's, whichever account or none (admins' lists).
    case username(String)
    /// Everyone's.
    case all
}

extension APIKeyRecord {
    /// How long a recorded use stands before ``APIKeyRepository/touch(id:now:)`` records another.
    package static var touchResolutionMicros: Int64 { APIKeyCache.lastUsedResolutionMicros }
}
