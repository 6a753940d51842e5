/// Who an operation acts for: the bearer of a token or an API key, or in local mode the `--as` user with admin rights.
public struct Caller: Sendable, Equatable {
    /// The username.
    public let user: String
    /// The role.
    public let role: Role
    /// The tenant whose data the caller sees.
    public let tenant: String
    /// The account's id in the store when the caller is a registered account; `nil` for a name that has no account
    /// (a token minted with `xalorra token`) and for local mode until resolved. What a user owns follows this
    /// identity, not the reusable name.
    public let account: Int64?
    /// When the caller's token expires (epoch seconds); `nil` in local mode or for a legacy token without `exp`.
    public let expires: Int64?
    /// What the API key the caller authenticated with allows (its scopes, models, rate); `nil` for a token or local
    /// mode. A key's caller is its owner's, never more.
    public let key: APIKeyGrant?
    /// Where the caller is: the client's address on the server; `nil` in local mode (the audit log says `local`).
    public var origin: String?

    /// Creates a caller.
    public init(
        user: String, role: Role, tenant: String, account: Int64? = nil, expires: Int64? = nil, key: APIKeyGrant? = nil
    ) {
        self.user = user
        self.role = role
        self.tenant = tenant
        self.account = account
        self.expires = expires
        self.key = key
    }

    /// The tenant filter for a list: admins may name any tenant or none (every tenant); users see only their own
    /// and asking for another is refused.
    public func tenantScope(requested: String?) throws(XalorraError) -> String? {
        if role == .admin { return requested }
        if let requested, requested != tenant {
            throw XalorraError(.insufficientPermissions, "tenant '\(requested)' is not yours")
        }
        return tenant
    }
}
