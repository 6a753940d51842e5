import GRDB

extension SQLiteAuditRepository {
    /// Audit rows one delete transaction removes: the writer serves the commits waiting behind it between two.
    static let pruneBatch = 1_000

    func prune(before cutoff: Timestamp) async throws(XalorraError) -> Int {
        var total = 0
        while true {
            let deleted = try await database.writing { db in
                try db.execute(
                    sql: "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?)",
                    arguments: [cutoff.microseconds, Self.pruneBatch])
                return db.changesCount
            }
            total += deleted
            if deleted < Self.pruneBatch || Task.isCancelled { return total }
            await Task.yield()
        }
    }
}
