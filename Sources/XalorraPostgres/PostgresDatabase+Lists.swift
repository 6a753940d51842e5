import PostgresNIO
import XalorraCore

extension PostgresDatabase {
    /// A paginated list's total (`count`, one `count(*)` row) and its page (`page`), read in one snapshot as SQLite's
    /// read transaction does, so that a page never disagrees with its total.
    func totalAndPage(_ count: SQLBuilder, _ page: SQLBuilder) async throws(XalorraError) -> (Int, [PostgresRow]) {
        let logger = self.logger
        return try await inTransaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            let total = try await connection.rows(count.query, logger).first?.decode(Int64.self) ?? 0
            return (Int(total), try await connection.rows(page.query, logger))
        }
    }
}

extension PostgresState {
    /// The constraint (or unique index) a server-reported failure names, if any.
    static func constraint(of error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.constraintName]
    }
}
