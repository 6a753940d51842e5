import GRDB

extension AppDatabase {
    /// Named, append-only migrations: later issues add theirs at the end, never edit an earlier one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-predictions") { db in
            try db.execute(sql: """
                CREATE TABLE predictions (
                    id INTEGER PRIMARY KEY,
                    timestamp INTEGER NOT NULL,                -- microseconds since the Unix epoch, UTC
                    tenant TEXT NOT NULL CHECK (length(tenant) > 0),
                    user_id TEXT NOT NULL,
                    model TEXT NOT NULL CHECK (length(model) > 0),
                    version TEXT NOT NULL,
                    input TEXT NOT NULL,                       -- JSON array of the features
                    prediction TEXT NOT NULL,                  -- JSON value
                    latency_us INTEGER NOT NULL CHECK (latency_us >= 0)
                );
                CREATE INDEX predictions_tenant_model ON predictions(tenant, model, id);
                """)
            // One index serves the API's lists (always tenant-scoped, often by model, newest first by id). Every
            // further index roughly doubles the cost of logging a batch row (measured: bench/RESULTS.md); admin
            // lists across tenants and time filters scan by id, which is also time order.
        }
        migrator.registerMigration("v2-users") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(username) BETWEEN 3 AND 50),
                    email TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
                    nama_lengkap TEXT NOT NULL CHECK (length(nama_lengkap) BETWEEN 1 AND 100),
                    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$2%'),
                    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
                    tenant TEXT NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
                    created_at INTEGER NOT NULL,               -- microseconds since the Unix epoch, UTC
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE refresh_tokens (
                    jti TEXT PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    issued_at INTEGER NOT NULL,                -- microseconds
                    expires_at INTEGER NOT NULL,               -- seconds, as the token's exp
                    revoked_at INTEGER,                        -- microseconds; NULL while usable
                    replaced_by TEXT                           -- the jti that rotated it out (reuse detection)
                );
                CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);
                """)
        }
        migrator.registerMigration("v3-chat") { db in
            try db.execute(sql: """
                CREATE TABLE conversations (
                    id INTEGER PRIMARY KEY,
                    owner TEXT NOT NULL,                       -- the username (a token's user_id)
                    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
                    created_at INTEGER NOT NULL,               -- microseconds since the Unix epoch, UTC
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX conversations_owner_created ON conversations(owner, created_at, id);
                CREATE INDEX conversations_owner_updated ON conversations(owner, updated_at, id);
                CREATE TABLE messages (
                    id INTEGER PRIMARY KEY,
                    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    sender TEXT NOT NULL CHECK (sender IN ('user', 'ai')),
                    content TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX messages_conversation ON messages(conversation_id, id);
                """)
            // Title search is a LIKE within one owner's rows, which the owner indexes narrow down.
        }
        return migrator
    }

    /// The schema version a store at the newest migration has (`PRAGMA user_version`).
    static var schemaVersion: Int { 3 }

    /// Runs the migrator when the store is behind; a current store costs one pragma read.
    static func migrateIfNeeded(_ writer: any DatabaseWriter) throws {
        let current = try writer.read { db in try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 }
        if current == schemaVersion { return }
        if current > schemaVersion {
            throw XalorraError(
                .internal,
                "the store was written by a newer xalorra (schema \(current), this build knows \(schemaVersion))",
                hint: "upgrade xalorra")
        }
        try migrator.migrate(writer)
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(schemaVersion)") }
    }
}
