/// Users and their refresh tokens. Password hashes go in and are compared in ``LocalAPI``; they never leave the
/// core module's callers. SQLite: ``SQLiteUserRepository``.
package protocol UserRepository: Sendable {
    /// Inserts a user; 409 naming the username or the email when either is taken (case-insensitively).
    func create(_ new: NewUser, tenant: String, passwordHash: String, now: Timestamp) async throws(XalorraError) -> User
    /// The user named `username` (any case), if there is one.
    func user(named username: String) async throws(XalorraError) -> User?
    /// The account `key` names, if there is one.
    func user(_ key: UserKey) async throws(XalorraError) -> User?
    /// The user and password hash for a login name: an email when it contains `@`, else a username.
    func credentials(login: String) async throws(XalorraError) -> (user: User, hash: String)?
    /// The user and password hash of the account `key` names.
    func credentials(_ key: UserKey) async throws(XalorraError) -> (user: User, hash: String)?
    /// The account named `username`, or when an account of that name was last deleted, or `.unknown`.
    func standing(_ username: String) async throws(XalorraError) -> AccountStanding
    /// A page of users by id, optionally those whose username, email or name contains `query.search`.
    func list(_ query: UserQuery) async throws(XalorraError) -> Page<User>
    /// Applies `changes` (the new password already hashed); disabling or a new password revokes refresh tokens.
    func update(_ key: UserKey, _ changes: UserChanges, passwordHash: String?, now: Timestamp) async throws(XalorraError) -> User
    /// Deletes a user (and by cascade its tokens and conversations) and records the tombstone; 404 when unknown.
    func delete(_ username: String) async throws(XalorraError)
    /// Records a refresh token issued to `userID`.
    func storeRefresh(jti: String, userID: Int64, issued: Timestamp, expires: Int64) async throws(XalorraError)
    /// Exchanges the refresh token `jti` (claimed by `username`) for `newJTI`, in one transaction.
    func rotate(jti: String, username: String, newJTI: String, expires: Int64, now: Timestamp) async throws(XalorraError) -> RefreshRotation
    /// Revokes the refresh token `jti`; false when it was unknown or already revoked.
    @discardableResult
    func revoke(jti: String, now: Timestamp) async throws(XalorraError) -> Bool
    /// How many refresh tokens of `username` are still usable.
    func liveRefreshTokens(_ username: String, now: Timestamp) async throws(XalorraError) -> Int
}

extension UserRepository {
    package typealias Key = UserKey
    package typealias Rotation = RefreshRotation
}

/// Which account a method is for: by name (an admin's commands) or by identity (the caller's own account, which
/// must not become another account that took the name meanwhile).
package enum UserKey: Sendable {
    case username(String)
    case id(Int64)
}

/// What a refresh attempt found.
package enum RefreshRotation: Sendable {
    /// The token was live: it is now revoked and replaced; the user it belongs to.
    case rotated(User)
    /// The token had already been rotated out: someone replayed it. Every token descended from it is revoked.
    case reused
    /// Unknown, revoked, expired, another user's, or the account is disabled.
    case invalid
}
