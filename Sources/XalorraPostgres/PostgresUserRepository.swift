import Logging
import PostgresNIO
import XalorraCore

/// Users and their refresh tokens on PostgreSQL: ``SQLiteUserRepository``'s behaviour, with the names SQLite
/// compares without case (`COLLATE NOCASE`) compared as `lower(… COLLATE "C")` (ASCII letters only, as SQLite).
struct PostgresUserRepository: UserRepository {
    let database: PostgresDatabase
    private var logger: Logger { database.logger }

    private static let columns =
        "users.id, users.username, users.email, users.nama_lengkap, users.role, users.tenant, users.is_active, "
        + "users.created_at, users.updated_at"

    private static let notFound = XalorraError(.notFound, "User not found")

    // MARK: Users

    func create(_ new: NewUser, tenant: String, passwordHash: String, now: Timestamp) async throws(XalorraError) -> User {
        try await database.transaction { connection in
            try await Self.checkFree(connection, username: new.username, email: new.email, except: nil, logger: logger)
            // The check above sees only committed rows: a registration of the same name committing meanwhile (on
            // this instance or another) is refused by the unique index, and answered as the check would.
            let rows = try await Self.claimingNames {
                try await connection.rows(
                    """
                    INSERT INTO users (username, email, nama_lengkap, password_hash, role, tenant, is_active,
                        created_at, updated_at) VALUES (\(new.username), \(new.email), \(new.fullName),
                        \(passwordHash), \(new.role.rawValue), \(tenant), true, \(now.microseconds), \(now.microseconds))
                    RETURNING \(unescaped: Self.columns)
                    """, logger: logger)
            }
            guard let row = rows.first else { throw Self.notFound }
            return try Self.user(row)
        }
    }

    func user(named username: String) async throws(XalorraError) -> User? {
        try await user(.username(username))
    }

    func user(_ key: UserKey) async throws(XalorraError) -> User? {
        var sql = SQLBuilder("SELECT \(Self.columns) FROM users WHERE ")
        Self.condition(key, into: &sql)
        let rows = try await database.rows(sql.query)
        return try rows.first.map { row throws(XalorraError) in try Self.decoding { try Self.user(row) } }
    }

    func credentials(login: String) async throws(XalorraError) -> (user: User, hash: String)? {
        var sql = SQLBuilder("SELECT \(Self.columns), users.password_hash FROM users WHERE ")
        let column = login.contains("@") ? "email" : "username"
        sql.text += "lower(\(column) COLLATE \"C\") = lower(\(sql.bind(login)) COLLATE \"C\")"
        return try await credentials(sql)
    }

    func credentials(_ key: UserKey) async throws(XalorraError) -> (user: User, hash: String)? {
        var sql = SQLBuilder("SELECT \(Self.columns), users.password_hash FROM users WHERE ")
        Self.condition(key, into: &sql)
        return try await credentials(sql)
    }

    private func credentials(_ sql: SQLBuilder) async throws(XalorraError) -> (user: User, hash: String)? {
        let rows = try await database.rows(sql.query)
        return try rows.first.map { row throws(XalorraError) in
            try Self.decoding { (try Self.user(row), try row.makeRandomAccess()["password_hash"].decode(String.self)) }
        }
    }

    func standing(_ username: String) async throws(XalorraError) -> AccountStanding {
        let rows = try await database.rows(
            """
            SELECT id, created_at, is_active, role, tenant FROM users
            WHERE lower(username COLLATE "C") = lower(\(username) COLLATE "C")
            """)
        if let row = rows.first {
            return try Self.decoding {
                let (id, created, active, role, tenant) = try row.decode((Int64, Int64, Bool, String, String).self)
                return .present(
                    id: id, created: Timestamp(microseconds: created), active: active,
                    role: Role(rawValue: role) ?? .user, tenant: tenant)
            }
        }
        let deleted = try await database.rows(
            """
            SELECT deleted_at FROM deleted_users WHERE lower(username COLLATE "C") = lower(\(username) COLLATE "C")
            """)
        if let row = deleted.first {
            return .deleted(at: Timestamp(microseconds: try Self.decoding { try row.decode(Int64.self) }))
        }
        return .unknown
    }

    func list(_ query: UserQuery) async throws(XalorraError) -> Page<User> {
        var filter = SQLBuilder()
        if let search = query.search {
            let pattern = filter.bind(StoreRules.likePattern(containing: search))
            // SQLite's LIKE ignores the case of ASCII letters: ILIKE here.
            filter.text =
                " WHERE username COLLATE \"C\" ILIKE \(pattern) ESCAPE '\\'"
                + " OR email COLLATE \"C\" ILIKE \(pattern) ESCAPE '\\'"
                + " OR nama_lengkap COLLATE \"C\" ILIKE \(pattern) ESCAPE '\\'"
        }
        var count = filter
        count.text = "SELECT count(*) FROM users" + filter.text
        var page = filter
        page.text = "SELECT \(Self.columns) FROM users\(filter.text) ORDER BY users.id LIMIT "
            + "\(page.bind(query.limit)) OFFSET \(page.bind(query.offset))"
        let (total, rows) = try await database.totalAndPage(count, page)
        return try Self.decoding {
            Page(items: try rows.map(Self.user), total: total, limit: query.limit, offset: query.offset)
        }
    }

    func update(
        _ key: UserKey, _ changes: UserChanges, passwordHash: String?, now: Timestamp
    ) async throws(XalorraError) -> User {
        try await database.transaction { connection in
            var find = SQLBuilder("SELECT \(Self.columns) FROM users WHERE ")
            Self.condition(key, into: &find)
            find.text += " FOR UPDATE"
            guard let row = try await connection.rows(find.query, logger: logger).first else { throw Self.notFound }
            let current = try Self.user(row)
            if let email = changes.email, email.lowercased() != current.email.lowercased() {
                try await Self.checkFree(connection, username: nil, email: email, except: current.id, logger: logger)
            }
            var update = SQLBuilder()
            var sets: [String] = []
            if let email = changes.email { sets.append("email = \(update.bind(email))") }
            if let fullName = changes.fullName { sets.append("nama_lengkap = \(update.bind(fullName))") }
            if let role = changes.role { sets.append("role = \(update.bind(role.rawValue))") }
            if let tenant = changes.tenant { sets.append("tenant = \(update.bind(tenant))") }
            if let active = changes.isActive { sets.append("is_active = \(update.bind(active))") }
            if let passwordHash { sets.append("password_hash = \(update.bind(passwordHash))") }
            if !sets.isEmpty {
                sets.append("updated_at = \(update.bind(now.microseconds))")
                update.text = "UPDATE users SET \(sets.joined(separator: ", ")) WHERE id = \(update.bind(current.id))"
                try await Self.claimingNames { try await connection.send(update.query, logger) }
            }
            if passwordHash != nil || changes.isActive == false {
                try await connection.send(
                    """
                    UPDATE refresh_tokens SET revoked_at = \(now.microseconds)
                    WHERE user_id = \(current.id) AND revoked_at IS NULL
                    """, logger)
            }
            let rows = try await connection.rows(
                "SELECT \(unescaped: Self.columns) FROM users WHERE id = \(current.id)", logger: logger)
            guard let updated = rows.first else { throw Self.notFound }
            return try Self.user(updated)
        }
    }

    func delete(_ username: String) async throws(XalorraError) {
        try await database.transaction { connection in
            let deleted = try await connection.rows(
                """
                DELETE FROM users WHERE lower(username COLLATE "C") = lower(\(username) COLLATE "C") RETURNING id
                """, logger: logger)
            if deleted.isEmpty { throw Self.notFound }
            // The tombstone refuses the tokens issued before now, which otherwise look like `xalorra token`'s.
            try await connection.send(
                """
                INSERT INTO deleted_users (username, deleted_at) VALUES (\(username), \(Timestamp.now().microseconds))
                ON CONFLICT ((lower(username COLLATE "C"))) DO UPDATE SET deleted_at = excluded.deleted_at
                """, logger)
        }
    }

    // MARK: Refresh tokens

    func storeRefresh(jti: String, userID: Int64, issued: Timestamp, expires: Int64) async throws(XalorraError) {
        try await database.execute(
            """
            INSERT INTO refresh_tokens (jti, user_id, issued_at, expires_at)
            VALUES (\(jti), \(userID), \(issued.microseconds), \(expires))
            """)
    }

    func rotate(
        jti: String, username: String, newJTI: String, expires: Int64, now: Timestamp
    ) async throws(XalorraError) -> RefreshRotation {
        try await database.transaction { connection in
            // FOR UPDATE: two refreshes of one token at once (two instances) rotate it once; the other sees it
            // revoked and replaced, which is a replay.
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: Self.columns), refresh_tokens.revoked_at, refresh_tokens.replaced_by,
                    refresh_tokens.expires_at AS token_expires
                FROM refresh_tokens JOIN users ON users.id = refresh_tokens.user_id WHERE refresh_tokens.jti = \(jti)
                FOR UPDATE OF refresh_tokens
                """, logger: logger)
            guard let row = rows.first else { return .invalid }
            let user = try Self.user(row)
            let cells = row.makeRandomAccess()
            guard user.username.lowercased() == username.lowercased() else { return .invalid }
            if try cells["revoked_at"].decode(Int64?.self) != nil {
                guard try cells["replaced_by"].decode(String?.self) != nil else { return .invalid }
                try await Self.revokeChain(connection, from: jti, now: now, logger: logger)
                return .reused
            }
            guard user.isActive, try cells["token_expires"].decode(Int64.self) > now.seconds else { return .invalid }
            try await connection.send(
                """
                UPDATE refresh_tokens SET revoked_at = \(now.microseconds), replaced_by = \(newJTI) WHERE jti = \(jti)
                """, logger)
            try await connection.send(
                """
                INSERT INTO refresh_tokens (jti, user_id, issued_at, expires_at)
                VALUES (\(newJTI), \(user.id), \(now.microseconds), \(expires))
                """, logger)
            return .rotated(user)
        }
    }

    @discardableResult
    func revoke(jti: String, now: Timestamp) async throws(XalorraError) -> Bool {
        let rows = try await database.rows(
            """
            UPDATE refresh_tokens SET revoked_at = \(now.microseconds) WHERE jti = \(jti) AND revoked_at IS NULL
            RETURNING 1
            """)
        return !rows.isEmpty
    }

    func liveRefreshTokens(_ username: String, now: Timestamp) async throws(XalorraError) -> Int {
        let rows = try await database.rows(
            """
            SELECT count(*) FROM refresh_tokens JOIN users ON users.id = refresh_tokens.user_id
            WHERE lower(users.username COLLATE "C") = lower(\(username) COLLATE "C") AND revoked_at IS NULL
                AND expires_at > \(now.seconds)
            """)
        return Int(try Self.decoding { try rows.first?.decode(Int64.self) ?? 0 })
    }

    // MARK: Helpers

    private static func condition(_ key: UserKey, into sql: inout SQLBuilder) {
        switch key {
        case .username(let name): sql.text += "lower(username COLLATE \"C\") = lower(\(sql.bind(name)) COLLATE \"C\")"
        case .id(let id): sql.text += "id = \(sql.bind(id))"
        }
    }

    private static func checkFree(
        _ connection: PostgresConnection, username: String?, email: String, except id: Int64?, logger: Logger
    ) async throws {
        if let username,
            try await !connection.rows(
                "SELECT 1 FROM users WHERE lower(username COLLATE \"C\") = lower(\(username) COLLATE \"C\")",
                logger: logger
            ).isEmpty
        {
            throw StoreRules.usernameTaken
        }
        if try await !connection.rows(
            """
            SELECT 1 FROM users WHERE lower(email COLLATE "C") = lower(\(email) COLLATE "C") AND id IS DISTINCT FROM \(id)
            """, logger: logger
        ).isEmpty {
            throw StoreRules.emailTaken
        }
    }

    /// Revokes every token rotated out of `jti`, following `replaced_by` to the end of the chain, in one statement
    /// (a month of 15-minute refreshes is thousands of links: one round trip each would hold the token's row lock
    /// for seconds). `UNION` ends a cycle.
    private static func revokeChain(
        _ connection: PostgresConnection, from jti: String, now: Timestamp, logger: Logger
    ) async throws {
        try await connection.send(
            """
            WITH RECURSIVE chain(jti) AS (
                SELECT \(jti)::text
                UNION
                SELECT r.replaced_by FROM refresh_tokens r JOIN chain c ON r.jti = c.jti WHERE r.replaced_by IS NOT NULL
            )
            UPDATE refresh_tokens SET revoked_at = \(now.microseconds)
            WHERE jti IN (SELECT jti FROM chain) AND revoked_at IS NULL
            """, logger)
    }

    /// Runs `write`, answering a unique index's refusal of a username or e-mail as ``checkFree``'s 409 would.
    @discardableResult
    private static func claimingNames<T>(_ write: () async throws -> T) async throws -> T {
        do {
            return try await write()
        } catch {
            guard PostgresState.of(error) == PostgresState.uniqueViolation else { throw error }
            switch PostgresState.constraint(of: error) {
            case "users_username": throw StoreRules.usernameTaken
            case "users_email": throw StoreRules.emailTaken
            default: throw error
            }
        }
    }

    private static func user(_ row: PostgresRow) throws -> User {
        let (id, username, email, fullName, role, tenant, active, created, updated) = try row.decode(
            (Int64, String, String, String, String, String, Bool, Int64, Int64).self)
        return User(
            id: id, username: username, email: email, fullName: fullName, role: Role(rawValue: role) ?? .user,
            tenant: tenant, isActive: active, createdAt: Timestamp(microseconds: created),
            updatedAt: Timestamp(microseconds: updated))
    }

    /// `body`'s decoding failures as a store error.
    static func decoding<T>(_ body: () throws -> T) throws(XalorraError) -> T {
        do {
            return try body()
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "PostgreSQL: a stored row could not be read (\(error))")
        }
    }
}
