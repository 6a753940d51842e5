import GRDB

/// Users and their refresh tokens in the store. Password hashes go in and are compared here and in
/// ``LocalAPI``; no method returns one to a caller outside the module.
struct SQLiteUserRepository: UserRepository {
    let database: AppDatabase

    private static let columns =
        "users.id, users.username, users.email, users.nama_lengkap, users.role, users.tenant, users.is_active, "
        + "users.created_at, users.updated_at"

    // MARK: Users

    /// Inserts a user; 409 naming the username or the email when either is taken (case-insensitively).
    func create(_ new: NewUser, tenant: String, passwordHash: String, now: Timestamp) async throws(XalorraError) -> User {
        try await database.writing { db in
            try Self.checkFree(db, username: new.username, email: new.email, except: nil)
            try db.execute(
                sql: """
                    INSERT INTO users (username, email, nama_lengkap, password_hash, role, tenant, is_active, created_at,
                        updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
                    """,
                arguments: [
                    new.username, new.email, new.fullName, passwordHash, new.role.rawValue, tenant, now.microseconds,
                    now.microseconds,
                ])
            return try Self.user(db, id: db.lastInsertedRowID)
        }
    }

    /// The user named `username` (any case), if there is one.
    func user(named username: String) async throws(XalorraError) -> User? {
        try await user(.username(username))
    }

    /// The account `key` names, if there is one.
    func user(_ key: Key) async throws(XalorraError) -> User? {
        try await database.reading { db in
            let (condition, argument) = key.condition
            return try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM users WHERE \(condition)", arguments: [argument]
            ).map(Self.user)
        }
    }

    /// The user and password hash for a login name: an email when it contains `@`, else a username.
    func credentials(login: String) async throws(XalorraError) -> (user: User, hash: String)? {
        try await credentials(column: login.contains("@") ? "email" : "username", value: login)
    }

    /// The user and password hash of the account `key` names.
    func credentials(_ key: Key) async throws(XalorraError) -> (user: User, hash: String)? {
        switch key {
        case .username(let name): try await credentials(column: "username", value: name)
        case .id(let id): try await credentials(column: "id", value: id)
        }
    }

    private func credentials(
        column: String, value: some DatabaseValueConvertible & Sendable
    ) async throws(XalorraError) -> (user: User, hash: String)? {
        try await database.reading { db in
            try Row.fetchOne(
                db, sql: "SELECT \(Self.columns), users.password_hash FROM users WHERE \(column) = ?", arguments: [value]
            ).map { row in (Self.user(row), row["password_hash"]) }
        }
    }

    /// What the store says about `username` for checking its tokens: the account (its identity, creation time,
    /// state, role and tenant), or when an account of that name was last deleted; `.unknown` when the name has
    /// never had an account (tokens minted for such names stand for the name alone).
    func standing(_ username: String) async throws(XalorraError) -> AccountStanding {
        try await database.reading { db in
            if let row = try Row.fetchOne(
                db, sql: "SELECT id, created_at, is_active, role, tenant FROM users WHERE username = ?",
                arguments: [username])
            {
                return .present(
                    id: row["id"], created: Timestamp(microseconds: row["created_at"]), active: row["is_active"],
                    role: Role(rawValue: row["role"]) ?? .user, tenant: row["tenant"])
            }
            if let deleted = try Int64.fetchOne(
                db, sql: "SELECT deleted_at FROM deleted_users WHERE username = ?", arguments: [username])
            {
                return .deleted(at: Timestamp(microseconds: deleted))
            }
            return .unknown
        }
    }

    /// A page of users by id, optionally those whose username, email or name contains `query.search`.
    func list(_ query: UserQuery) async throws(XalorraError) -> Page<User> {
        try await database.reading { db in
            var filter = ""
            var arguments: StatementArguments = []
            if let search = query.search {
                let pattern = StoreRules.likePattern(containing: search)
                filter = " WHERE username LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' OR nama_lengkap LIKE ? ESCAPE '\\'"
                arguments = [pattern, pattern, pattern]
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM users" + filter, arguments: arguments) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM users\(filter) ORDER BY users.id LIMIT ? OFFSET ?",
                arguments: arguments + [query.limit, query.offset])
            return Page(items: rows.map(Self.user), total: total, limit: query.limit, offset: query.offset)
        }
    }

    /// Applies `changes` (with the new password already hashed) to the account `key` names. Disabling an account or
    /// setting its password revokes its refresh tokens in the same transaction.
    func update(
        _ key: Key, _ changes: UserChanges, passwordHash: String?, now: Timestamp
    ) async throws(XalorraError) -> User {
        try await database.writing { db in
            let (condition, argument) = key.condition
            guard let current = try Row.fetchOne(
                db, sql: "SELECT \(Self.columns) FROM users WHERE \(condition)", arguments: [argument]
            ).map(Self.user) else { throw Self.notFound }
            if let email = changes.email, email.lowercased() != current.email.lowercased() {
                try Self.checkFree(db, username: nil, email: email, except: current.id)
            }
            var sets: [String] = []
            var arguments: StatementArguments = []
            func set(_ column: String, _ value: (any DatabaseValueConvertible)?) {
                guard let value else { return }
                sets.append("\(column) = ?")
                arguments += [value]
            }
            set("email", changes.email)
            set("nama_lengkap", changes.fullName)
            set("role", changes.role?.rawValue)
            set("tenant", changes.tenant)
            set("is_active", changes.isActive)
            set("password_hash", passwordHash)
            if !sets.isEmpty {
                set("updated_at", now.microseconds)
                try db.execute(sql: "UPDATE users SET \(sets.joined(separator: ", ")) WHERE id = ?", arguments: arguments + [current.id])
            }
            if passwordHash != nil || changes.isActive == false {
                try Self.revokeAll(db, userID: current.id, now: now)
            }
            return try Self.user(db, id: current.id)
        }
    }

    /// Deletes a user and, by cascade, what the account owns: its refresh tokens and its conversations with their
    /// messages. Its id is never given to another account (AUTOINCREMENT).
    func delete(_ username: String) async throws(XalorraError) {
        try await database.writing { db in
            try db.execute(sql: "DELETE FROM users WHERE username = ?", arguments: [username])
            if db.changesCount == 0 { throw Self.notFound }
            // The tombstone refuses the tokens issued before now, which otherwise look like `xalorra token`'s.
            try db.execute(
                sql: """
                    INSERT INTO deleted_users (username, deleted_at) VALUES (?, ?)
                    ON CONFLICT (username) DO UPDATE SET deleted_at = excluded.deleted_at
                    """,
                arguments: [username, Timestamp.now().microseconds])
        }
    }

    // MARK: Refresh tokens

    /// Records a refresh token issued to `userID`.
    func storeRefresh(jti: String, userID: Int64, issued: Timestamp, expires: Int64) async throws(XalorraError) {
        try await database.writing { db in
            try db.execute(
                sql: "INSERT INTO refresh_tokens (jti, user_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [jti, userID, issued.microseconds, expires])
        }
    }

    /// Exchanges the refresh token `jti` (claimed by `username`) for `newJTI`, in one transaction.
    func rotate(
        jti: String, username: String, newJTI: String, expires: Int64, now: Timestamp
    ) async throws(XalorraError) -> Rotation {
        try await database.writing { db in
            guard let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.columns), refresh_tokens.revoked_at, refresh_tokens.replaced_by,
                        refresh_tokens.expires_at AS token_expires
                    FROM refresh_tokens JOIN users ON users.id = refresh_tokens.user_id WHERE refresh_tokens.jti = ?
                    """,
                arguments: [jti])
            else { return .invalid }
            let user = Self.user(row)
            guard user.username.lowercased() == username.lowercased() else { return .invalid }
            if row["revoked_at"] as Int64? != nil {
                guard row["replaced_by"] as String? != nil else { return .invalid }
                try Self.revokeChain(db, from: jti, now: now)
                return .reused
            }
            guard user.isActive, (row["token_expires"] as Int64) > now.seconds else { return .invalid }
            try db.execute(
                sql: "UPDATE refresh_tokens SET revoked_at = ?, replaced_by = ? WHERE jti = ?",
                arguments: [now.microseconds, newJTI, jti])
            try db.execute(
                sql: "INSERT INTO refresh_tokens (jti, user_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [newJTI, user.id, now.microseconds, expires])
            return .rotated(user)
        }
    }

    /// Revokes the refresh token `jti`; false when it was unknown or already revoked.
    @discardableResult
    func revoke(jti: String, now: Timestamp) async throws(XalorraError) -> Bool {
        try await database.writing { db in
            try db.execute(
                sql: "UPDATE refresh_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL",
                arguments: [now.microseconds, jti])
            return db.changesCount > 0
        }
    }

    /// How many refresh tokens of `username` are still usable (for tests and `users show`).
    func liveRefreshTokens(_ username: String, now: Timestamp) async throws(XalorraError) -> Int {
        try await database.reading { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM refresh_tokens JOIN users ON users.id = refresh_tokens.user_id
                    WHERE users.username = ? AND revoked_at IS NULL AND expires_at > ?
                    """,
                arguments: [username, now.seconds]) ?? 0
        }
    }

    // MARK: Helpers

    private static let notFound = XalorraError(.notFound, "User not found")
    /// 409 for a username another account has (whatever its case).
    static let usernameTaken = XalorraError(.alreadyExists, "Username already registered")
    /// 409 for an e-mail address another account has (whatever its case).
    static let emailTaken = XalorraError(.alreadyExists, "Email already registered")

    private static func checkFree(_ db: Database, username: String?, email: String, except id: Int64?) throws {
        if let username,
            try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE username = ?", arguments: [username]) != nil
        {
            throw usernameTaken
        }
        if try Bool.fetchOne(
            db, sql: "SELECT 1 FROM users WHERE email = ? AND id IS NOT ?", arguments: [email, id]) != nil
        {
            throw emailTaken
        }
    }

    private static func revokeAll(_ db: Database, userID: Int64, now: Timestamp) throws {
        try db.execute(
            sql: "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            arguments: [now.microseconds, userID])
    }

    /// Revokes every token rotated out of `jti`, following `replaced_by` to the end of the chain.
    private static func revokeChain(_ db: Database, from jti: String, now: Timestamp) throws {
        var next: String? = jti
        var seen: Set<String> = []
        while let current = next, seen.insert(current).inserted {
            try db.execute(
                sql: "UPDATE refresh_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL",
                arguments: [now.microseconds, current])
            next = try String.fetchOne(db, sql: "SELECT replaced_by FROM refresh_tokens WHERE jti = ?", arguments: [current])
        }
    }

    private static func user(_ db: Database, id: Int64) throws -> User {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(columns) FROM users WHERE id = ?", arguments: [id]) else {
            throw notFound
        }
        return user(row)
    }

    private static func user(_ row: Row) -> User {
        User(
            id: row["id"], username: row["username"], email: row["email"], fullName: row["nama_lengkap"],
            role: Role(rawValue: row["role"]) ?? .user, tenant: row["tenant"], isActive: row["is_active"],
            createdAt: Timestamp(microseconds: row["created_at"]), updatedAt: Timestamp(microseconds: row["updated_at"]))
    }
}

extension UserKey {
    fileprivate var condition: (sql: String, argument: any DatabaseValueConvertible & Sendable) {
        switch self {
        case .username(let name): ("username = ?", name)
        case .id(let id): ("id = ?", id)
        }
    }
}
