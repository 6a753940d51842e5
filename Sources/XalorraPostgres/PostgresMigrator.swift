import Logging
import PostgresNIO
import XalorraCore

/// Applies ``PostgresSchema/migrations`` in order, each in its own transaction under a transaction-scoped advisory
/// lock, recording each in `schema_migrations`: several processes starting at once apply every migration once (the
/// others wait for the lock, then find it applied).
enum PostgresMigrator {
    /// The advisory lock's key: any constant the application's other locks do not use ("xalorra" in ASCII).
    static let lockKey: Int64 = 0x78_616C_6F72_7261

    /// Applies what is missing; returns the names applied now, oldest first.
    static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var appliedNow: [String] = []
        let known = Set(PostgresSchema.migrations.map(\.name))
        for migration in PostgresSchema.migrations {
            let applied = try await connection.withTransaction(logger: logger) { connection in
                // Waiting for another starter's migration has no bound, nor has a migration's statement (an index
                // on a large table); but a migration's own lock waits are bounded (review V, F4): an ALTER queued
                // behind a long transaction would block every later statement on its table on every instance.
                try await connection.send("SET LOCAL statement_timeout = 0", logger)
                try await connection.send("SET LOCAL lock_timeout = 0", logger)
                try await connection.send("SELECT pg_advisory_xact_lock(\(lockKey))", logger)
                try await connection.send("SET LOCAL lock_timeout = '5s'", logger)
                try await connection.send(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        name TEXT PRIMARY KEY,
                        applied_at BIGINT NOT NULL
                    )
                    """, logger)
                let done = try await names(connection, logger: logger)
                if let unknown = done.first(where: { !known.contains($0) }) {
                    throw XalorraError(
                        .internal,
                        "the PostgreSQL store was migrated by a newer xalorra (migration '\(unknown)' is unknown to "
                            + "this build)", hint: "upgrade xalorra")
                }
                guard !done.contains(migration.name) else { return false }
                for statement in migration.statements {
                    try await connection.send(PostgresQuery(unsafeSQL: statement), logger)
                }
                let now = Timestamp.now().microseconds
                try await connection.send(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (\(migration.name), \(now))", logger)
                return true
            }
            if applied { appliedNow.append(migration.name) }
        }
        return appliedNow
    }

    /// The names applied, in the order they were; empty before the first migration.
    static func applied(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        let exists = try await connection.send(
            "SELECT to_regclass('schema_migrations') IS NOT NULL", logger)
        var present = false
        for try await row in exists { present = try row.decode(Bool.self) }
        guard present else { return [] }
        return try await names(connection, logger: logger)
    }

    private static func names(_ connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var out: [String] = []
        let rows = try await connection.send(
            "SELECT name FROM schema_migrations ORDER BY applied_at, name", logger)
        for try await row in rows { out.append(try row.decode(String.self)) }
        return out
    }
}
