import GRDB

/// The audit log in the store: appended to, listed, never changed.
struct SQLiteAuditRepository: AuditRepository {
    let database: AppDatabase

    /// Appends one row.
    func append(
        at: Timestamp, actor: String, keyID: String?, origin: String, action: String, object: String, outcome: String
    ) async throws(XalorraError) {
        try await database.writing { db in
            try db.execute(
                sql: """
                    INSERT INTO audit_log (at, actor, key_id, origin, action, object, outcome)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [at.microseconds, actor, keyID, origin, action, object, outcome])
        }
    }

    /// A page of rows matching `query`, newest first.
    func list(_ query: AuditQuery) async throws(XalorraError) -> Page<AuditEntry> {
        try await database.reading { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let user = query.user {
                conditions.append("actor = ? COLLATE NOCASE")
                arguments += [user]
            }
            if let action = query.action {
                conditions.append("(action = ? OR action LIKE ? ESCAPE '\\')")
                arguments += [action, StoreRules.likePattern(startingWith: action + ".")]
            }
            if let since = query.since {
                conditions.append("at >= ?")
                arguments += [since.microseconds]
            }
            let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log" + filter, arguments: arguments) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, at, actor, key_id, origin, action, object, outcome FROM audit_log\(filter) "
                    + "ORDER BY id DESC LIMIT ? OFFSET ?",
                arguments: arguments + [query.limit, query.offset])
            let items = rows.map { row in
                AuditEntry(
                    id: row["id"], at: Timestamp(microseconds: row["at"]), actor: row["actor"], keyID: row["key_id"],
                    origin: row["origin"], action: row["action"], object: row["object"], outcome: row["outcome"])
            }
            return Page(items: items, total: total, limit: query.limit, offset: query.offset)
        }
    }
}
