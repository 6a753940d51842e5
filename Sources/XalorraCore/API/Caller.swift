/// Who an operation acts for: the bearer of a token, or in local mode the `--as` user with admin rights.
public struct Caller: Sendable, Equatable {
    /// The username.
    public let user: String
    /// The role.
    public let role: Role
    /// The tenant whose data the caller sees.
    public let tenant: String

    /// Creates a caller.
    public init(user: String, role: Role, tenant: String) {
        self.user = user
        self.role = role
        self.tenant = tenant
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
