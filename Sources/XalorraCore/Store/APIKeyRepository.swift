import GRDB

/// API keys in the store: their descriptions and the SHA-256 of each key; the key itself is never stored.
struct SQLiteAPIKeyRepository: APIKeyRepository {
    let database: AppDatabase
    // Spelled out: GRDB has a `Record` of its own.
    typealias Record = APIKeyRecord
    typealias Owner = APIKeyOwner

    private static let columns =
        "id, name, owner, account_id, role, tenant, scopes, models, rate_limit, rate_window, created_by, created_at, "
        + "expires_at, last_used_at, revoked_at, hash"

    /// Stores a new key.
    func insert(_ key: APIKey, hash: [UInt8], account: Int64?) async throws(XalorraError) {
        try await database.writing { db in
            try db.execute(
                sql: "INSERT INTO api_keys (\(Self.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    key.id, key.name, key.user, account, key.role.rawValue, key.tenant,
                    key.scopes.map(\.rawValue).joined(separator: ","), key.models?.joined(separator: ","),
                    key.rate?.limit, key.rate?.windowSeconds, key.createdBy, key.createdAt.microseconds,
                    key.expiresAt?.microseconds, key.lastUsedAt?.microseconds, key.revokedAt?.microseconds,
                    String(decoding: hash, as: UTF8.self),
                ])
        }
    }

    /// The key whose id is `id`, if any.
    func record(id: String) async throws(XalorraError) -> Record? {
        try await database.reading { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM api_keys WHERE id = ?", arguments: [id])
                .map(Self.record)
        }
    }

    /// A page of `owner`'s keys, newest first.
    func list(_ owner: Owner, limit: Int, offset: Int) async throws(XalorraError) -> Page<APIKey> {
        try await database.reading { db in
            let (filter, arguments): (String, StatementArguments) =
                switch owner {
                case .account(let id): (" WHERE account_id = ?", [id])
                case .name(let name): (" WHERE owner = ? COLLATE NOCASE AND account_id IS NULL", [name])
                case .username(let name): (" WHERE owner = ? COLLATE NOCASE", [name])
                case .all: ("", [])
                }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM api_keys" + filter, arguments: arguments) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM api_keys\(filter) ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                arguments: arguments + [limit, offset])
            return Page(items: rows.map { Self.record($0).key }, total: total, limit: limit, offset: offset)
        }
    }

    /// Marks the key revoked at `now` (a revoked key keeps its first revocation time); the key, or `nil`.
    func revoke(id: String, now: Timestamp) async throws(XalorraError) -> APIKey? {
        try await database.writing { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [now.microseconds, id])
            return try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM api_keys WHERE id = ?", arguments: [id])
                .map { Self.record($0).key }
        }
    }

    /// Records a use at `now`, unless one was recorded in the minute before: at most one write a minute per key.
    func touch(id: String, now: Timestamp) async throws(XalorraError) {
        try await database.writing { db in
            try db.execute(
                sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)",
                arguments: [now.microseconds, id, now.microseconds - APIKeyCache.lastUsedResolutionMicros])
        }
    }

    private static func record(_ row: Row) -> Record {
        func time(_ column: String) -> Timestamp? { (row[column] as Int64?).map(Timestamp.init(microseconds:)) }
        let scopes = (row["scopes"] as String).split(separator: ",").compactMap { APIKeyScope(rawValue: String($0)) }
        let models = (row["models"] as String?).map { $0.split(separator: ",").map(String.init) }
        var rate: APIKeyRate?
        if let limit = row["rate_limit"] as Int?, let window = row["rate_window"] as Int? {
            rate = APIKeyRate(limit: limit, windowSeconds: window)
        }
        let key = APIKey(
            id: row["id"], name: row["name"], user: row["owner"], role: Role(rawValue: row["role"]) ?? .user,
            tenant: row["tenant"], scopes: scopes, models: models, rate: rate, createdBy: row["created_by"],
            createdAt: Timestamp(microseconds: row["created_at"]), expiresAt: time("expires_at"),
            lastUsedAt: time("last_used_at"), revokedAt: time("revoked_at"))
        let hash = Array((row["hash"] as String? ?? "").utf8)
        return Record(key: key, hash: hash, account: row["account_id"])
    }
}
