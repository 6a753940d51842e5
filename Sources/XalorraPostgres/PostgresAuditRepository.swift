import PostgresNIO
import XalorraCore

/// The audit log on PostgreSQL, as ``SQLiteAuditRepository`` keeps it.
struct PostgresAuditRepository: AuditRepository {
    let database: PostgresDatabase

    func append(
        at: Timestamp, actor: String, keyID: String?, origin: String, action: String, object: String, outcome: String
    ) async throws(XalorraError) {
        try await database.execute(
            """
            INSERT INTO audit_log (at, actor, key_id, origin, action, object, outcome)
            VALUES (\(at.microseconds), \(actor), \(keyID), \(origin), \(action), \(object), \(outcome))
            """)
    }

    func list(_ query: AuditQuery) async throws(XalorraError) -> Page<AuditEntry> {
        var filter = SQLBuilder()
        var conditions: [String] = []
        if let user = query.user {
            conditions.append("lower(actor COLLATE \"C\") = lower(\(filter.bind(user)) COLLATE \"C\")")
        }
        if let action = query.action {
            // SQLite's LIKE ignores the case of ASCII letters: ILIKE here; `=` is exact on both.
            let exact = filter.bind(action)
            let prefix = filter.bind(StoreRules.likePattern(startingWith: action + "."))
            conditions.append("(action = \(exact) OR action COLLATE \"C\" ILIKE \(prefix) ESCAPE '\\')")
        }
        if let since = query.since { conditions.append("at >= \(filter.bind(since.microseconds))") }
        filter.text = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        var count = filter
        count.text = "SELECT count(*) FROM audit_log" + filter.text
        var page = filter
        page.text = "SELECT id, at, actor, key_id, origin, action, object, outcome FROM audit_log\(filter.text) "
            + "ORDER BY id DESC LIMIT \(page.bind(query.limit)) OFFSET \(page.bind(query.offset))"
        let (total, rows) = try await database.totalAndPage(count, page)
        return try PostgresUserRepository.decoding {
            let items = try rows.map { row in
                let (id, at, actor, keyID, origin, action, object, outcome) = try row.decode(
                    (Int64, Int64, String, String?, String, String, String, String).self)
                return AuditEntry(
                    id: id, at: Timestamp(microseconds: at), actor: actor, keyID: keyID, origin: origin,
                    action: action, object: object, outcome: outcome)
            }
            return Page(items: items, total: total, limit: query.limit, offset: query.offset)
        }
    }
}
