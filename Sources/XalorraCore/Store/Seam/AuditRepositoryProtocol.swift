/// The audit log: appended to, listed, never changed. SQLite: ``SQLiteAuditRepository``.
package protocol AuditRepository: Sendable {
    /// Appends one row.
    func append(
        at: Timestamp, actor: String, keyID: String?, origin: String, action: String, object: String, outcome: String
    ) async throws(XalorraError)
    /// A page of rows matching `query`, newest first.
    func list(_ query: AuditQuery) async throws(XalorraError) -> Page<AuditEntry>
    /// Deletes the rows older than `cutoff`, 1,000 a transaction (retention); returns how many.
    func prune(before cutoff: Timestamp) async throws(XalorraError) -> Int
}
