import PostgresNIO
import XalorraCore

extension PostgresAuditRepository {
    /// Audit rows one delete transaction removes, as SQLite's prune.
    static let pruneBatch = 1_000

    func prune(before cutoff: Timestamp) async throws(XalorraError) -> Int {
        var total = 0
        while true {
            // `RETURNING 1`: the row sequence carries no command tag, the returned rows count what was deleted.
            let deleted = try await database.rows(
                """
                DELETE FROM audit_log WHERE id IN (
                    SELECT id FROM audit_log WHERE at < \(cutoff.microseconds) ORDER BY at LIMIT \(Self.pruneBatch))
                RETURNING 1
                """
            ).count
            total += deleted
            if deleted < Self.pruneBatch || Task.isCancelled { return total }
            await Task.yield()
        }
    }
}
