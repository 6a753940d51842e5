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
        migrator.registerMigration("v4-models") { db in
            try db.execute(sql: """
                CREATE TABLE models (
                    id INTEGER PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
                    next_version INTEGER NOT NULL DEFAULT 1 CHECK (next_version > 0),
                    created_at INTEGER NOT NULL,               -- microseconds since the Unix epoch, UTC
                    UNIQUE (tenant, name)
                );
                CREATE TABLE model_versions (
                    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL CHECK (version > 0),
                    kind TEXT NOT NULL CHECK (kind IN ('linear', 'logistic', 'gbdt', 'xgboost')),
                    hyperparameters TEXT NOT NULL,             -- JSON object
                    metrics TEXT,                              -- JSON object; NULL without a validation split
                    features TEXT NOT NULL,                    -- JSON array of the feature names, in order
                    trees INTEGER NOT NULL CHECK (trees >= 0),
                    model BLOB NOT NULL,                       -- the model document (JSON), see ModelDocument
                    created_at INTEGER NOT NULL,
                    created_by TEXT NOT NULL,
                    PRIMARY KEY (model_id, version)
                );
                CREATE TABLE training_jobs (
                    id INTEGER PRIMARY KEY,
                    tenant TEXT NOT NULL,
                    model TEXT NOT NULL CHECK (length(model) BETWEEN 1 AND 128),
                    kind TEXT NOT NULL CHECK (kind IN ('linear', 'logistic', 'gbdt')),
                    target TEXT NOT NULL,
                    rows INTEGER NOT NULL CHECK (rows >= 0),
                    hyperparameters TEXT NOT NULL,             -- JSON object
                    data BLOB,                                 -- the rows as CSV, until the job finishes
                    status TEXT NOT NULL
                        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
                    progress_done INTEGER NOT NULL DEFAULT 0,
                    progress_total INTEGER NOT NULL DEFAULT 0,
                    validation_loss REAL,
                    error TEXT,
                    version INTEGER,                           -- the version it produced
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    started_at INTEGER,
                    finished_at INTEGER
                );
                CREATE INDEX training_jobs_tenant ON training_jobs(tenant, id);
                CREATE INDEX training_jobs_status ON training_jobs(status, id);
                """)
            // Versions are immutable: a new version is a new row, and `next_version` only grows, so a pinned
            // `name@3` never silently changes meaning while the model exists.
        }
        migrator.registerMigration("v5-deleted-users") { db in
            try db.execute(sql: """
                CREATE TABLE deleted_users (
                    username TEXT PRIMARY KEY COLLATE NOCASE,
                    deleted_at INTEGER NOT NULL                -- microseconds; tokens issued before it are refused
                );
                """)
        }
        migrator.registerMigration("v6-account-identity") { db in
            // What a user owns follows the account, not its reusable name (DESIGN §5). SQLite gives a new row the
            // largest id plus one, so deleting the newest account and registering again reused its id; AUTOINCREMENT
            // never hands out an id twice. The table is rebuilt (SQLite cannot change a primary key in place) with
            // foreign keys off, as GRDB runs migrations, and checked before the commit.
            try db.execute(sql: """
                CREATE TABLE users_v6 (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,     -- never reused: an account's identity
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
                INSERT INTO users_v6 (id, username, email, nama_lengkap, password_hash, role, tenant, is_active,
                    created_at, updated_at)
                SELECT id, username, email, nama_lengkap, password_hash, role, tenant, is_active, created_at, updated_at
                FROM users;
                DROP TABLE users;
                ALTER TABLE users_v6 RENAME TO users;

                ALTER TABLE conversations ADD COLUMN account_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
                -- NULL: a name without an account (a token minted with `xalorra token`).
                UPDATE conversations SET account_id = (
                    SELECT users.id FROM users
                    WHERE users.username = conversations.owner COLLATE NOCASE
                        AND users.created_at <= conversations.created_at);
                -- Written under a name before someone deleted an account of that name: the deleted account's, or
                -- a minted token's that nothing can tell apart from it. Neither may pass to the name's next owner.
                DELETE FROM messages WHERE conversation_id IN (
                    SELECT conversations.id FROM conversations JOIN deleted_users
                        ON deleted_users.username = conversations.owner COLLATE NOCASE
                    WHERE conversations.account_id IS NULL AND conversations.created_at <= deleted_users.deleted_at);
                DELETE FROM conversations WHERE account_id IS NULL AND EXISTS (
                    SELECT 1 FROM deleted_users
                    WHERE deleted_users.username = conversations.owner COLLATE NOCASE
                        AND conversations.created_at <= deleted_users.deleted_at);

                DROP INDEX conversations_owner_created;
                DROP INDEX conversations_owner_updated;
                CREATE INDEX conversations_owner_created
                    ON conversations(owner COLLATE NOCASE, account_id, created_at, id);
                CREATE INDEX conversations_owner_updated
                    ON conversations(owner COLLATE NOCASE, account_id, updated_at, id);
                CREATE INDEX conversations_account ON conversations(account_id);
                """)
            // Owners compare without case, as usernames do. Every chat query names both the owner and the account
            // (`account_id IS ?`); the last index serves the cascade when an account is deleted.
        }
        migrator.registerMigration("v7-api-keys") { db in
            // API keys (issue 18): the SHA-256 of each key in hex, never the key. `account_id` is the owning
            // account (NULL: a name without one); `owner`, `role` and `tenant` are the owner's when the key was
            // made, which the account must still have for the key to work. A deleted account's keys stay, refused,
            // for the record.
            try db.execute(sql: """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY NOT NULL,
                    hash TEXT NOT NULL,
                    name TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    account_id INTEGER,
                    role TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    scopes TEXT NOT NULL,
                    models TEXT,
                    rate_limit INTEGER,
                    rate_window INTEGER,
                    created_by TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    last_used_at INTEGER,
                    revoked_at INTEGER
                );
                CREATE INDEX api_keys_account ON api_keys(account_id, created_at);
                CREATE INDEX api_keys_owner ON api_keys(owner COLLATE NOCASE, created_at);
                """)
        }
        migrator.registerMigration("v8-prediction-blocks") { db in
            // Issue 19: a batch is one record, its rows in `block` (a PredictionBlock) under the id of its last row,
            // the rows owning the ids `id - row_count + 1 … id`. Rows logged before keep their `input` and
            // `prediction` text (row_count 1, no block) and read back as they always did.
            try db.execute(sql: """
                ALTER TABLE predictions ADD COLUMN row_count INTEGER NOT NULL DEFAULT 1 CHECK (row_count >= 1);
                ALTER TABLE predictions ADD COLUMN block BLOB;
                """)
        }
        migrator.registerMigration("v9-lightgbm-kind") { db in
            // Issue 16: models imported from LightGBM's text format are of kind `lightgbm`. SQLite cannot change a
            // CHECK constraint in place, so the table is rebuilt with the same columns and rows.
            try db.execute(sql: """
                CREATE TABLE model_versions_v9 (
                    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL CHECK (version > 0),
                    kind TEXT NOT NULL CHECK (kind IN ('linear', 'logistic', 'gbdt', 'xgboost', 'lightgbm')),
                    hyperparameters TEXT NOT NULL,             -- JSON object
                    metrics TEXT,                              -- JSON object; NULL without a validation split
                    features TEXT NOT NULL,                    -- JSON array of the feature names, in order
                    trees INTEGER NOT NULL CHECK (trees >= 0),
                    model BLOB NOT NULL,                       -- the model document (JSON), see ModelDocument
                    created_at INTEGER NOT NULL,
                    created_by TEXT NOT NULL,
                    PRIMARY KEY (model_id, version)
                );
                INSERT INTO model_versions_v9 (model_id, version, kind, hyperparameters, metrics, features, trees,
                    model, created_at, created_by)
                SELECT model_id, version, kind, hyperparameters, metrics, features, trees, model, created_at, created_by
                FROM model_versions;
                DROP TABLE model_versions;
                ALTER TABLE model_versions_v9 RENAME TO model_versions;
                """)
        }
        migrator.registerMigration("v10-audit-log") { db in
            // Issue 18: one row per change made through the API or the CLI; appended, never updated. `key_id` is
            // the API key the actor used (NULL: a token, or local mode); `origin` the client's address or `local`.
            try db.execute(sql: """
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    actor TEXT NOT NULL,
                    key_id TEXT,
                    origin TEXT NOT NULL,
                    action TEXT NOT NULL,
                    object TEXT NOT NULL,
                    outcome TEXT NOT NULL
                );
                CREATE INDEX audit_log_actor ON audit_log(actor COLLATE NOCASE, id);
                CREATE INDEX audit_log_action ON audit_log(action, id);
                CREATE INDEX audit_log_at ON audit_log(at);
                """)
        }
        migrator.registerMigration("v11-model-profiles") { db in
            // Issue 16's drift: each trained version's training distribution (FeatureProfile, as JSON), written once
            // after the version; versions stored before this, and imported ones, have none.
            try db.execute(sql: """
                CREATE TABLE model_profiles (
                    model_id INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    profile TEXT NOT NULL,                     -- JSON, see FeatureProfile+JSON
                    PRIMARY KEY (model_id, version),
                    FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version) ON DELETE CASCADE
                );
                """)
        }
        return migrator
    }

    /// The schema version a store at the newest migration has (`PRAGMA user_version`).
    static var schemaVersion: Int { 11 }

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
        // Several processes may open a new store at once (`serve` and CLI commands, or a few commands). GRDB's
        // migrator reads which migrations are applied before it takes the write lock, so the loser of that race
        // runs one the winner just committed and fails on a table that now exists; its transaction, the identifier
        // row included, rolls back. Try again while another process is making progress: a failure with nothing
        // new applied is a real one. (SQLITE_BUSY, the other race on a new store, is retried by `open`.)
        var applied = try appliedCount(writer)
        while true {
            do {
                try migrator.migrate(writer)
                break
            } catch {
                let now = try appliedCount(writer)
                guard now > applied else { throw error }
                applied = now
            }
        }
        try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(schemaVersion)") }
    }

    /// How many migrations the store has applied; 0 before the migrator's table exists.
    private static func appliedCount(_ writer: any DatabaseWriter) throws -> Int {
        try writer.read { db in
            // The table may appear between a failed SELECT and GRDB's own existence check: look first.
            try db.tableExists("grdb_migrations")
                ? Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") ?? 0 : 0
        }
    }
}
