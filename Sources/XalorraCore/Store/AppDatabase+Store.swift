import GRDB

/// The SQLite store as a ``Store``: its repositories share the one writer (or pool).
extension AppDatabase: Store {
    package var backend: StoreBackend { .sqlite }
    package var location: String { path }

    package var users: any UserRepository { SQLiteUserRepository(database: self) }
    package var chats: any ChatRepository { SQLiteChatRepository(database: self) }
    package var models: any ModelRepository { SQLiteModelRepository(database: self) }
    package var trainingJobs: any TrainingJobRepository { SQLiteTrainingJobRepository(database: self) }
    package var apiKeys: any APIKeyRepository { SQLiteAPIKeyRepository(database: self) }
    package var audit: any AuditRepository { SQLiteAuditRepository(database: self) }
    package var predictions: any PredictionRepository { SQLitePredictionRepository(database: self) }
    package var profiles: any ProfileRepository { SQLiteProfileRepository(database: self) }

    package func migrationStatus() async throws(XalorraError) -> MigrationStatus {
        let known = Self.migrator.migrations
        let applied = try await reading { db in try Self.migrator.appliedMigrations(db) }
        return MigrationStatus(applied: known.filter(applied.contains), known: known)
    }

    /// Opening the store already applied what was missing (see ``migrateIfNeeded(_:)``): this applies whatever a
    /// newer process may have left, and returns the names applied now.
    package func migrate() async throws(XalorraError) -> [String] {
        let before = try await migrationStatus()
        do {
            try Self.migrateIfNeeded(writer)
        } catch {
            throw StoreError.wrap(error)
        }
        return try await migrationStatus().applied.filter { !before.applied.contains($0) }
    }

    package func counts() async throws(XalorraError) -> [(table: String, rows: Int64)] {
        try await reading { db in
            var out: [(table: String, rows: Int64)] = []
            for table in AppDatabase.countedTables {
                let sql =
                    table == "predictions"
                    ? "SELECT coalesce(sum(row_count), 0) FROM predictions" : "SELECT count(*) FROM \(table)"
                out.append((table, try Int64.fetchOne(db, sql: sql) ?? 0))
            }
            return out
        }
    }

    /// A store kept open until exit (``open(path:pooled:keepOpenUntilExit:logger:)``) stays open; GRDB closes
    /// the others when their last reference goes.
    package func close() async {}

    /// The tables `xalorra store info` counts, in its order; `predictions` counts rows, not stored batches.
    package static let countedTables = [
        "users", "refresh_tokens", "api_keys", "conversations", "messages", "models", "model_versions",
        "training_jobs", "predictions", "audit_log",
    ]
}
