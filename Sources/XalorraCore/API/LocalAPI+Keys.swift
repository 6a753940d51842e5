extension LocalAPI {
    private func keyStore() throws(XalorraError) -> any APIKeyRepository { try store().apiKeys }

    /// The one message every unusable key gets, whatever the reason (unknown, malformed, wrong secret): it says
    /// nothing about which keys exist and never repeats what was sent.
    static let invalidKey = XalorraError(.authenticationFailed, "Invalid API key")

    public func createKey(_ request: APIKeyRequest) async throws(XalorraError) -> CreatedAPIKey {
        do {
            let created = try await makeKey(request)
            await recordAudit("keys.create", object: "\(created.key.id) (\(created.key.user))", outcome: "success")
            return created
        } catch {
            await recordAudit(
                "keys.create", object: request.user ?? caller.user, outcome: "failure: \(error.code.name)")
            throw error
        }
    }

    private func makeKey(_ request: APIKeyRequest) async throws(XalorraError) -> CreatedAPIKey {
        let owner = try await keyOwner(request.user)
        let now = Timestamp.now()
        var expires = request.expiresIn.map { now.adding(seconds: $0.seconds) }
        if let grant = caller.key {
            // A key making a key: never one that may do more than itself.
            for scope in request.scopes where !scope.isGranted(by: grant.scopes) {
                throw XalorraError(
                    .insufficientPermissions, "This API key cannot create a key with the '\(scope.rawValue)' scope")
            }
            if let allowed = grant.models {
                guard let models = request.models, models.allSatisfy(allowed.contains) else {
                    throw XalorraError(
                        .insufficientPermissions,
                        "This API key may only create keys limited to its own models (\(allowed.joined(separator: ", ")))")
                }
            }
            if let limit = caller.expires {
                let keyEnd = Timestamp(seconds: limit)
                if expires.map({ $0 > keyEnd }) ?? true { expires = keyEnd }
            }
        }
        let (secret, id) = APIKeySecret.generate()
        let key = APIKey(
            id: id, name: request.name, user: owner.user, role: owner.role, tenant: owner.tenant,
            scopes: request.scopes, models: request.models, rate: request.rate, createdBy: caller.user,
            createdAt: now, expiresAt: expires, lastUsedAt: nil, revokedAt: nil)
        try await keyStore().insert(key, hash: APIKeySecret.hash(secret), account: owner.account)
        return CreatedAPIKey(key: key, secret: secret)
    }

    public func keys(_ query: APIKeyQuery) async throws(XalorraError) -> Page<APIKey> {
        let owner: APIKeyRepository.Owner
        switch query.owner {
        case .own: owner = try await ownKeys()
        case .all:
            try requireAdminForKeys()
            owner = .all
        case .user(let name):
            try requireAdminForKeys()
            owner = .username(name)
        }
        return try await keyStore().list(owner, limit: query.limit, offset: query.offset)
    }

    public func key(_ id: String) async throws(XalorraError) -> APIKey {
        try await visibleKey(id).key
    }

    public func revokeKey(_ id: String) async throws(XalorraError) -> APIKey {
        try await audited("keys.revoke", object: id) { () throws(XalorraError) in
            _ = try await visibleKey(id)
            guard let revoked = try await keyStore().revoke(id: id, now: .now()) else { throw Self.keyNotFound }
            APIKeyCache.shared.clear()
            return revoked
        }
    }

    /// The caller an API key stands for: its owner as the store has it now (disabled, deleted, demoted or moved to
    /// another tenant: refused, as their tokens are), with the key's grant; 401 for anything else (unknown, wrong
    /// secret, revoked, expired). Cached for a second (``APIKeyCache``); `last_used_at` is written at most once a
    /// minute.
    public func caller(forKey presented: String) async throws(XalorraError) -> Caller {
        let now = Timestamp.now()
        let record: APIKeyRepository.Record
        if let cached = APIKeyCache.shared.lookup(presented, now: now) {
            record = cached
        } else {
            guard let id = APIKeySecret.id(of: presented),
                let found = try await keyStore().record(id: id),
                APIKeySecret.equal(APIKeySecret.hash(presented), found.hash)
            else { throw Self.invalidKey }
            record = found
            APIKeyCache.shared.store(presented, found, now: now)
            if record.key.revokedAt == nil,
                record.key.lastUsedAt.map({ now.microseconds - $0.microseconds >= APIKeyCache.lastUsedResolutionMicros })
                    ?? true
            {
                let store = try keyStore()
                Task { try? await store.touch(id: found.key.id, now: now) }
            }
        }
        let key = record.key
        if key.revokedAt != nil { throw XalorraError(.authenticationFailed, "This API key was revoked") }
        if let expires = key.expiresAt, expires <= now {
            throw XalorraError(.authenticationFailed, "This API key expired at \(expires.iso8601Seconds)")
        }
        // The owner's standing, exactly as a token of theirs is checked: an account's key names the account (a later
        // account of the same name is not its owner); a name's key is as old as its creation.
        var claims = TokenClaims(
            user: key.user, role: key.role, tenant: key.tenant, kind: .access, issuedAt: key.createdAt.seconds,
            expires: 0, id: "")
        claims.exp = key.expiresAt?.seconds
        claims.jti = record.account.map { "key.a\($0)" }
        let owner: Caller
        do {
            owner = try await caller(for: claims)
        } catch where error.code == .authenticationFailed {
            throw XalorraError(.authenticationFailed, "This API key's owner can no longer use it: \(error.message)")
        }
        return Caller(
            user: owner.user, role: owner.role, tenant: owner.tenant, account: owner.account, expires: claims.exp,
            key: APIKeyGrant(id: key.id, scopes: key.scopes, models: key.models, rate: key.rate))
    }

    /// Why the key behind `caller` no longer stands (revoked, expired, owner refused), or `nil` while it does, or
    /// when `caller` did not use a key: for live feeds, which check their subscriber's access every half second.
    public func keyRefusal(_ caller: Caller) async -> XalorraError? {
        guard let grant = caller.key else { return nil }
        do {
            guard let record = try await keyStore().record(id: grant.id) else { return Self.invalidKey }
            if record.key.revokedAt != nil { return XalorraError(.authenticationFailed, "This API key was revoked") }
            if let expires = record.key.expiresAt, expires <= .now() {
                return XalorraError(.authenticationFailed, "This API key expired")
            }
            return nil
        } catch {
            return error
        }
    }

    private static let keyNotFound = XalorraError(.notFound, "API key not found")

    private static func disabledOwner(_ account: User) -> XalorraError {
        XalorraError.invalid("user", "the account '\(account.username)' is disabled")
    }

    /// The owner of a new key: the caller (its account when it has one), or for admins the account named `user`.
    private func keyOwner(
        _ user: String?
    ) async throws(XalorraError) -> (user: String, role: Role, tenant: String, account: Int64?) {
        if let user, user.lowercased() != caller.user.lowercased() {
            try requireAdminForKeys()
            guard let account = try await userStore().user(named: user) else {
                throw XalorraError(.notFound, "User not found")
            }
            guard account.isActive else { throw Self.disabledOwner(account) }
            return (account.username, account.role, account.tenant, account.id)
        }
        if callerResolved { return (caller.user, caller.role, caller.tenant, caller.account) }
        // Local mode: the acting user's account in the operator's tenant, else the name alone with local rights.
        if let account = try await localAccount() {
            guard account.isActive else { throw Self.disabledOwner(account) }
            return (account.username, account.role, account.tenant, account.id)
        }
        return (caller.user, caller.role, caller.tenant, nil)
    }

    /// Which keys are the caller's own.
    private func ownKeys() async throws(XalorraError) -> APIKeyRepository.Owner {
        if callerResolved { return caller.account.map { .account($0) } ?? .name(caller.user) }
        return try await localAccount().map { .account($0.id) } ?? .name(caller.user)
    }

    /// The key `id` when the caller may see it (its own, or any for admins); 404 otherwise, as for a key that does
    /// not exist. The id is never repeated: it may be a whole key pasted by mistake.
    private func visibleKey(_ id: String) async throws(XalorraError) -> APIKeyRepository.Record {
        guard id.utf8.count == APIKeySecret.idLength, let record = try await keyStore().record(id: id) else {
            throw Self.keyNotFound
        }
        if caller.role == .admin { return record }
        switch try await ownKeys() {
        case .account(let account) where record.account == account: return record
        case .name(let name) where record.account == nil && record.key.user.lowercased() == name.lowercased():
            return record
        default: throw Self.keyNotFound
        }
    }

    private func requireAdminForKeys() throws(XalorraError) {
        guard caller.role == .admin else {
            throw XalorraError(.insufficientPermissions, "Only admins may manage other users' API keys")
        }
    }
}
