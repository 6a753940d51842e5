import Logging
import PostgresNIO
import XalorraCore

/// API keys on PostgreSQL, as ``SQLiteAPIKeyRepository`` keeps them (owners compared without case).
struct PostgresAPIKeyRepository: APIKeyRepository {
    let database: PostgresDatabase

    private static let columns =
        "id, name, owner, account_id, role, tenant, scopes, models, rate_limit, rate_window, created_by, created_at, "
        + "expires_at, last_used_at, revoked_at, hash"

    func insert(_ key: APIKey, hash: [UInt8], account: Int64?) async throws(XalorraError) {
        var sql = SQLBuilder()
        let values = [
            sql.bind(key.id), sql.bind(key.name), sql.bind(key.user), sql.bind(account), sql.bind(key.role.rawValue),
            sql.bind(key.tenant), sql.bind(key.scopes.map(\.rawValue).joined(separator: ",")),
            sql.bind(key.models?.joined(separator: ",")), sql.bind(key.rate.map { Int64($0.limit) }),
            sql.bind(key.rate.map { Int64($0.windowSeconds) }), sql.bind(key.createdBy),
            sql.bind(key.createdAt.microseconds), sql.bind(key.expiresAt?.microseconds),
            sql.bind(key.lastUsedAt?.microseconds), sql.bind(key.revokedAt?.microseconds),
            sql.bind(String(decoding: hash, as: UTF8.self)),
        ]
        sql.text = "INSERT INTO api_keys (\(Self.columns)) VALUES (\(values.joined(separator: ", ")))"
        try await database.execute(sql.query)
    }

    func record(id: String) async throws(XalorraError) -> APIKeyRecord? {
        let rows = try await database.rows("SELECT \(unescaped: Self.columns) FROM api_keys WHERE id = \(id)")
        return try rows.first.map { row throws(XalorraError) in try PostgresUserRepository.decoding { try Self.record(row) } }
    }

    func list(_ owner: APIKeyOwner, limit: Int, offset: Int) async throws(XalorraError) -> Page<APIKey> {
        var filter = SQLBuilder()
        switch owner {
        case .account(let id): filter.text = " WHERE account_id = \(filter.bind(id))"
        case .name(let name):
            filter.text =
                " WHERE lower(owner COLLATE \"C\") = lower(\(filter.bind(name)) COLLATE \"C\") AND account_id IS NULL"
        case .username(let name):
            filter.text = " WHERE lower(owner COLLATE \"C\") = lower(\(filter.bind(name)) COLLATE \"C\")"
        case .all: break
        }
        var count = filter
        count.text = "SELECT count(*) FROM api_keys" + filter.text
        var page = filter
        // `id COLLATE \"C\"`: byte order, as SQLite compares text.
        page.text = "SELECT \(Self.columns) FROM api_keys\(filter.text) ORDER BY created_at DESC, id COLLATE \"C\" "
            + "LIMIT \(page.bind(limit)) OFFSET \(page.bind(offset))"
        let (total, rows) = try await database.totalAndPage(count, page)
        return try PostgresUserRepository.decoding {
            Page(items: try rows.map { try Self.record($0).key }, total: total, limit: limit, offset: offset)
        }
    }

    func revoke(id: String, now: Timestamp) async throws(XalorraError) -> APIKey? {
        try await database.transaction { connection in
            try await connection.send(
                "UPDATE api_keys SET revoked_at = \(now.microseconds) WHERE id = \(id) AND revoked_at IS NULL", database.logger)
            return try await connection.rows(
                "SELECT \(unescaped: Self.columns) FROM api_keys WHERE id = \(id)", logger: database.logger
            ).first.map { try Self.record($0).key }
        }
    }

    func touch(id: String, now: Timestamp) async throws(XalorraError) {
        let before = now.microseconds - APIKeyRecord.touchResolutionMicros
        try await database.execute(
            """
            UPDATE api_keys SET last_used_at = \(now.microseconds)
            WHERE id = \(id) AND (last_used_at IS NULL OR last_used_at <= \(before))
            """)
    }

    private static func record(_ row: PostgresRow) throws -> APIKeyRecord {
        let cells = row.makeRandomAccess()
        func time(_ column: String) throws -> Timestamp? {
            try cells[column].decode(Int64?.self).map(Timestamp.init(microseconds:))
        }
        let scopes = try cells["scopes"].decode(String.self).split(separator: ",")
            .compactMap { APIKeyScope(rawValue: String($0)) }
        let models = try cells["models"].decode(String?.self).map { $0.split(separator: ",").map(String.init) }
        var rate: APIKeyRate?
        if let limit = try cells["rate_limit"].decode(Int64?.self), let window = try cells["rate_window"].decode(Int64?.self) {
            rate = APIKeyRate(limit: Int(limit), windowSeconds: Int(window))
        }
        let key = APIKey(
            id: try cells["id"].decode(String.self), name: try cells["name"].decode(String.self),
            user: try cells["owner"].decode(String.self),
            role: Role(rawValue: try cells["role"].decode(String.self)) ?? .user,
            tenant: try cells["tenant"].decode(String.self), scopes: scopes, models: models, rate: rate,
            createdBy: try cells["created_by"].decode(String.self),
            createdAt: Timestamp(microseconds: try cells["created_at"].decode(Int64.self)),
            expiresAt: try time("expires_at"), lastUsedAt: try time("last_used_at"), revokedAt: try time("revoked_at"))
        let hash = Array((try cells["hash"].decode(String?.self) ?? "").utf8)
        return APIKeyRecord(key: key, hash: hash, account: try cells["account_id"].decode(Int64?.self))
    }
}
