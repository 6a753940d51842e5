import Synchronization

extension LocalAPI {
    func userStore() throws(XalorraError) -> any UserRepository { try store().users }
    private var hasher: PasswordHasher { PasswordHasher(cost: settings.bcryptCost) }

    private func requireAdmin() throws(XalorraError) {
        guard caller.role == .admin else {
            throw XalorraError(.insufficientPermissions, "This operation needs the admin role")
        }
    }

    public func register(_ user: NewUser) async throws(XalorraError) -> User {
        try await audited("users.register", object: user.username) { () throws(XalorraError) in
            guard settings.registration == .open else {
                throw XalorraError(.insufficientPermissions, "registration is closed; ask an admin")
            }
            let registration = try NewUser(
                username: user.username, email: user.email, fullName: user.fullName, password: user.password)
            let hash = await hasher.hash(registration.password)
            let created = try await userStore().create(
                registration, tenant: Self.ownTenant(for: registration.username), passwordHash: hash, now: .now())
            accountStatus.forget(created.username)
            return created
        }
    }

    /// A tenant of its own for a self-registered account: `u-<username>-<64 random bits in hex>`. Never the default
    /// tenant (the operator's data), never another account's, and not the tenant of a deleted account of the same
    /// name (the data it left behind stays with it): a repeat would take the same name and the same 64 random bits.
    static func ownTenant(for username: String) -> String {
        "u-\(username.lowercased())-\(TokenService.randomID().prefix(16))"
    }

    public func login(_ login: String, password: String) async throws(XalorraError) -> LoginResult {
        let name = String(Substring(login).trimmingWhitespace())
        // No store holds a name with a NUL (PostgreSQL would refuse to compare one): such a name is simply unknown.
        let found = name.isEmpty || name.utf8.contains(0) ? nil : try await userStore().credentials(login: name)
        // An unknown user still costs one comparison, and gets the same answer.
        let matches = await hasher.verify(password, hash: found?.hash)
        guard let found, matches, found.user.isActive else {
            throw XalorraError(.authenticationFailed, "Incorrect username or password")
        }
        return LoginResult(tokens: try await issuePair(for: found.user, refreshID: nil), user: found.user)
    }

    public func refresh(_ refreshToken: String) async throws(XalorraError) -> TokenPair {
        let invalid = XalorraError(.tokenExpired, "Refresh token expired or invalid")
        let claims: TokenClaims
        do {
            claims = try await tokenService().verify(Settings.stripBearer(refreshToken), expecting: .refresh)
        } catch {
            throw invalid
        }
        guard let jti = claims.jti else { throw invalid }
        let newID = TokenService.randomID()
        let now = Timestamp.now()
        switch try await userStore().rotate(
            jti: jti, username: claims.userID, newJTI: newID, expires: now.seconds + TokenPair.refreshLifetime.seconds,
            now: now)
        {
        case .rotated(let user):
            accountStatus.forget(user.username)
            return try await issuePair(for: user, refreshID: newID, now: now)
        case .reused:
            throw XalorraError(
                .tokenExpired, "Refresh token was already used: every session it started is signed out; log in again")
        case .invalid:
            throw invalid
        }
    }

    public func logout(_ refreshToken: String) async throws(XalorraError) {
        let claims: TokenClaims
        do {
            // An expired refresh token may still be revoked.
            claims = try await tokenService().verify(
                Settings.stripBearer(refreshToken), expecting: .refresh, allowExpired: true)
        } catch {
            throw XalorraError(.tokenExpired, "Refresh token expired or invalid")
        }
        guard claims.userID.lowercased() == caller.user.lowercased() else {
            throw XalorraError(.insufficientPermissions, "Refresh token belongs to another user")
        }
        if let jti = claims.jti { try await userStore().revoke(jti: jti, now: .now()) }
    }

    public func profile() async throws(XalorraError) -> User {
        guard let user = try await userStore().user(callerKey()) else { throw XalorraError(.notFound, "User not found") }
        return user
    }

    public func updateProfile(_ changes: UserChanges) async throws(XalorraError) -> User {
        guard changes.isProfileChange else {
            throw XalorraError(.insufficientPermissions, "Only email and nama_lengkap can be changed on your own profile")
        }
        return try await userStore().update(callerKey(), changes, passwordHash: nil, now: .now())
    }

    public func changePassword(current: String, new: String) async throws(XalorraError) {
        try await audited("users.password", object: caller.user) { () throws(XalorraError) in
            guard let found = try await userStore().credentials(callerKey()) else {
                throw XalorraError(.notFound, "User not found")
            }
            guard await hasher.verify(current, hash: found.hash) else {
                throw XalorraError(.authenticationFailed, "Current password is incorrect")
            }
            try XalorraError.check([("new_password", UserRules.password(new))])
            let hash = await hasher.hash(new)
            _ = try await userStore().update(.id(found.user.id), try UserChanges(), passwordHash: hash, now: .now())
        }
    }

    /// The caller's own account: the one authentication resolved (none for a name without an account, whatever
    /// account took the name since), or in local mode (full rights on the store) the account named `settings.user`.
    private func callerKey() throws(XalorraError) -> UserRepository.Key {
        guard callerResolved else { return .username(caller.user) }
        guard let account = caller.account else { throw XalorraError(.notFound, "User not found") }
        return .id(account)
    }

    /// The account whose conversations local mode writes: the one named `settings.user` (`--as`, `XALORRA_USER`, the
    /// OS user) when it is in the operator's tenant. An account of that name elsewhere is someone else's: with open registration
    /// anyone may register `root` or the operator's login name, and the operator's offline chats must not become
    /// theirs. Local mode then acts as the name alone.
    func localAccount() async throws(XalorraError) -> User? {
        guard let account = try await userStore().user(named: caller.user), account.tenant == settings.defaultTenant
        else { return nil }
        return account
    }

    public func createUser(_ user: NewUser) async throws(XalorraError) -> User {
        try await audited("users.create", object: user.username) { () throws(XalorraError) in
            try requireAdmin()
            let hash = await hasher.hash(user.password)
            let created = try await userStore().create(
                user, tenant: user.tenant ?? settings.defaultTenant, passwordHash: hash, now: .now())
            accountStatus.forget(created.username)
            return created
        }
    }

    public func users(_ query: UserQuery) async throws(XalorraError) -> Page<User> {
        try requireAdmin()
        return try await userStore().list(query)
    }

    public func user(_ username: String) async throws(XalorraError) -> User {
        try requireAdmin()
        guard let user = try await userStore().user(named: username) else { throw XalorraError(.notFound, "User not found") }
        return user
    }

    public func updateUser(_ username: String, _ changes: UserChanges) async throws(XalorraError) -> User {
        try await audited(Self.auditAction(changes), object: username) { () throws(XalorraError) in
            try requireAdmin()
            var hash: String?
            if let password = changes.password { hash = await hasher.hash(password) }
            let user = try await userStore().update(.username(username), changes, passwordHash: hash, now: .now())
            accountStatus.forget(username)
            return user
        }
    }

    public func deleteUser(_ username: String) async throws(XalorraError) {
        try await audited("users.delete", object: username) { () throws(XalorraError) in
            try requireAdmin()
            try await userStore().delete(username)
            accountStatus.forget(username)
        }
    }

    /// The audit action of an account change: disabling, enabling and setting a password have their own.
    static func auditAction(_ changes: UserChanges) -> String {
        if changes.isActive == false { return "users.disable" }
        if changes.isActive == true { return "users.enable" }
        return changes.password != nil ? "users.password" : "users.update"
    }

    /// The caller a verified access token stands for, or a 401 saying why the store refuses it.
    ///
    /// A token naming an account is that account's (``Caller/account``) when xalorra signed it for that account (its
    /// `jti` names the account's id, see ``User/tokenID(for:)``), or, for other tokens, when it was issued (`iat`) in a
    /// second after the account was created: older ones were minted for the name before the account existed, or for
    /// an earlier account of the same name. Tokens without `iat` are refused for accounts unless legacy tokens are
    /// accepted. It is refused too when the account is disabled, or its role or tenant changed since. A token for a
    /// name without an account stands for that name alone (`account` nil: what `xalorra token` mints), unless it was
    /// an account's that was deleted. The server asks on every request and its streams at least once a second;
    /// answers are cached for a second, and changes made through this process take effect at once.
    public func caller(for claims: TokenClaims) async throws(XalorraError) -> Caller {
        switch try await standing(of: claims) {
        case .refused(let reason):
            throw XalorraError(.authenticationFailed, reason)
        case .accepted(let account):
            return Caller(
                user: claims.userID, role: claims.role, tenant: claims.tenant, account: account, expires: claims.exp)
        }
    }

    /// Why the store refuses a verified access token, or `nil` when it stands: ``caller(for:)`` without the caller.
    public func tokenRefusal(_ claims: TokenClaims) async throws(XalorraError) -> String? {
        if case .refused(let reason) = try await standing(of: claims) { return reason }
        return nil
    }

    private enum TokenStanding {
        /// The token stands, for this account (`nil`: for its name alone).
        case accepted(account: Int64?)
        case refused(String)
    }

    private func standing(of claims: TokenClaims) async throws(XalorraError) -> TokenStanding {
        let now = Timestamp.now()
        let standing: AccountStanding
        if let cached = accountStatus.lookup(claims.userID, now: now) {
            standing = cached
        } else {
            standing = try await userStore().standing(claims.userID)
            accountStatus.store(claims.userID, standing, now: now)
        }
        let named = User.account(inTokenID: claims.jti)
        let earlier = "This token was issued before the account '\(claims.userID)' was created (for the name alone, "
            + "or for an earlier account of that name); log in again"
        switch standing {
        case .present(let id, let created, let active, let role, let tenant):
            if let named {
                guard named == id else { return .refused(earlier) }
            } else if let issued = claims.iat {
                guard issued >= User.firstTokenSecond(createdAt: created) else { return .refused(earlier) }
            } else if !settings.acceptLegacyTokens {
                return .refused(
                    "This token has no iat claim, so it cannot be told apart from tokens issued before the account "
                        + "'\(claims.userID)' was created; log in again")
            }
            if !active { return .refused("This account is disabled") }
            if role != claims.role || tenant != claims.tenant {
                return .refused(
                    "This token's role or tenant is out of date: the account changed since it was issued; log in again")
            }
            return .accepted(account: id)
        case .deleted(let at):
            if named != nil { return .refused("This account was deleted") }
            let issued = Timestamp(seconds: claims.iat ?? Int64.min)
            return issued <= at ? .refused("This account was deleted") : .accepted(account: nil)
        case .unknown:
            // A token signed for an account that is gone (the name was never tombstoned: a store copied back).
            return named == nil ? .accepted(account: nil) : .refused("This account was deleted")
        }
    }

    /// Signs an access token (naming the account in its `jti`) and a refresh token for `user`, recording the refresh
    /// token (which is bound to the account's row in the store).
    private func issuePair(for user: User, refreshID: String?, now: Timestamp = .now()) async throws(XalorraError) -> TokenPair {
        let service = try await tokenService()
        let (access, _) = try await service.mint(
            user: user.username, role: user.role, tenant: user.tenant, ttl: TokenPair.accessLifetime, now: now,
            id: User.tokenID(for: user.id))
        let id = refreshID ?? TokenService.randomID()
        let (refresh, claims) = try await service.mint(
            user: user.username, role: user.role, tenant: user.tenant, kind: .refresh, ttl: TokenPair.refreshLifetime,
            now: now, id: id)
        if refreshID == nil {
            try await userStore().storeRefresh(jti: id, userID: user.id, issued: now, expires: claims.exp ?? 0)
        }
        return TokenPair(accessToken: access, refreshToken: refresh, expiresIn: TokenPair.accessLifetime.seconds)
    }
}

/// Recent answers to "what does the store say about this account?", for a second each. This process's own changes
/// forget the account at once; another instance's empty the cache as soon as the store announces them
/// (``StoreChange/users``, PostgreSQL), the second being the fallback.
final class AccountStatusCache: Sendable {
    private static let freshMicros: Int64 = 1_000_000
    private let entries = Mutex<[String: (standing: AccountStanding, checked: Int64)]>([:])

    func lookup(_ username: String, now: Timestamp) -> AccountStanding? {
        entries.withLock { entries in
            guard let entry = entries[username.lowercased()], now.microseconds - entry.checked < Self.freshMicros
            else { return nil }
            return entry.standing
        }
    }

    func store(_ username: String, _ standing: AccountStanding, now: Timestamp) {
        entries.withLock { entries in
            if entries.count > 100_000 { entries.removeAll() }
            entries[username.lowercased()] = (standing, now.microseconds)
        }
    }

    func forget(_ username: String) {
        _ = entries.withLock { $0.removeValue(forKey: username.lowercased()) }
    }

    /// Forgets every account: another process changed some.
    func clear() { entries.withLock { $0.removeAll() } }
}

/// What the store says about a token's user.
package enum AccountStanding: Sendable {
    /// No account of that name was ever in the store (or none was deleted since the store began to record it).
    case unknown
    /// An account: its identity, when it was created (tokens not naming it must be newer), and what its tokens must
    /// carry.
    case present(id: Int64, created: Timestamp, active: Bool, role: Role, tenant: String)
    /// Deleted at this time.
    case deleted(at: Timestamp)
}
