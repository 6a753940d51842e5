import Synchronization

extension LocalAPI {
    private func userStore() throws(XalorraError) -> UserRepository { UserRepository(database: try store()) }
    private var hasher: PasswordHasher { PasswordHasher(cost: settings.bcryptCost) }

    private func requireAdmin() throws(XalorraError) {
        guard caller.role == .admin else {
            throw XalorraError(.insufficientPermissions, "This operation needs the admin role")
        }
    }

    public func register(_ user: NewUser) async throws(XalorraError) -> User {
        let registration = try NewUser(
            username: user.username, email: user.email, fullName: user.fullName, password: user.password)
        let hash = await hasher.hash(registration.password)
        return try await userStore().create(
            registration, tenant: settings.defaultTenant, passwordHash: hash, now: .now())
    }

    public func login(_ login: String, password: String) async throws(XalorraError) -> LoginResult {
        let name = String(Substring(login).trimmingWhitespace())
        let found = name.isEmpty ? nil : try await userStore().credentials(login: name)
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
        guard let user = try await userStore().user(named: caller.user) else { throw XalorraError(.notFound, "User not found") }
        return user
    }

    public func updateProfile(_ changes: UserChanges) async throws(XalorraError) -> User {
        guard changes.isProfileChange else {
            throw XalorraError(.insufficientPermissions, "Only email and nama_lengkap can be changed on your own profile")
        }
        return try await userStore().update(caller.user, changes, passwordHash: nil, now: .now())
    }

    public func changePassword(current: String, new: String) async throws(XalorraError) {
        guard let found = try await userStore().credentials(username: caller.user) else {
            throw XalorraError(.notFound, "User not found")
        }
        guard await hasher.verify(current, hash: found.hash) else {
            throw XalorraError(.authenticationFailed, "Current password is incorrect")
        }
        try XalorraError.check([("new_password", UserRules.password(new))])
        let hash = await hasher.hash(new)
        _ = try await userStore().update(found.user.username, try UserChanges(), passwordHash: hash, now: .now())
    }

    public func createUser(_ user: NewUser) async throws(XalorraError) -> User {
        try requireAdmin()
        let hash = await hasher.hash(user.password)
        return try await userStore().create(
            user, tenant: user.tenant ?? settings.defaultTenant, passwordHash: hash, now: .now())
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
        try requireAdmin()
        var hash: String?
        if let password = changes.password { hash = await hasher.hash(password) }
        let user = try await userStore().update(username, changes, passwordHash: hash, now: .now())
        accountStatus.forget(username)
        return user
    }

    public func deleteUser(_ username: String) async throws(XalorraError) {
        try requireAdmin()
        try await userStore().delete(username)
        accountStatus.forget(username)
    }

    /// Why the store refuses a verified access token, or `nil` when it stands: a disabled account, a role or tenant
    /// that changed since the token was issued, or an account deleted after it. Names never in the store (tokens
    /// minted with `xalorra token`) stand. The server asks on every request; answers are cached for a second, and
    /// changes made through this process take effect at once.
    public func tokenRefusal(_ claims: TokenClaims) async throws(XalorraError) -> String? {
        let now = Timestamp.now()
        let standing: AccountStanding
        if let cached = accountStatus.lookup(claims.userID, now: now) {
            standing = cached
        } else {
            standing = try await userStore().standing(claims.userID)
            accountStatus.store(claims.userID, standing, now: now)
        }
        switch standing {
        case .unknown:
            return nil
        case .present(let active, let role, let tenant):
            if !active { return "This account is disabled" }
            if role != claims.role || tenant != claims.tenant {
                return "This token's role or tenant is out of date: the account changed since it was issued; log in again"
            }
            return nil
        case .deleted(let at):
            return (claims.iat ?? 0) * 1_000_000 <= at.microseconds ? "This account was deleted" : nil
        }
    }

    /// Signs an access token and a refresh token for `user`, recording the refresh token.
    private func issuePair(for user: User, refreshID: String?, now: Timestamp = .now()) async throws(XalorraError) -> TokenPair {
        let service = try await tokenService()
        let (access, _) = try await service.mint(
            user: user.username, role: user.role, tenant: user.tenant, ttl: TokenPair.accessLifetime, now: now)
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

/// Recent answers to "what does the store say about this account?", for a second each.
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
}

/// What the store says about a token's user.
enum AccountStanding: Sendable {
    /// Never in the store.
    case unknown
    /// An account, with what its tokens must carry.
    case present(active: Bool, role: Role, tenant: String)
    /// Deleted at this time.
    case deleted(at: Timestamp)
}
