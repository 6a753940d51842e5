extension Endpoint {
    /// The routes of API keys and the audit log (issue 18): the rest of ``RouteTable``, kept apart.
    var keyAndAuditDefinition: Route {
        typealias S = Schema
        switch self {
        case .keys:
            return Route(
                self, "GET", "/keys", .user, "The caller's API keys, newest first (never their secrets)",
                query: RouteTable.paging(maxLimit: APIKeyQuery.maxLimit), response: .json(S.page(S.apiKey)))
        case .createKey:
            return Route(
                self, "POST", "/keys", .user,
                "Create an API key (201; the key is in this answer only); admins may name another user",
                body: .init(S.apiKeyRequest), response: .json(S.envelope(S.createdAPIKey), status: 201),
                carriesCredentials: true)
        case .key:
            return Route(
                self, "GET", "/keys/{id}", .user, "One of the caller's API keys (any, for admins)",
                response: .json(S.envelope(S.apiKey)))
        case .revokeKey:
            return Route(
                self, "DELETE", "/keys/{id}", .user, "Revoke an API key at once", response: .json(S.envelope(S.apiKey)))
        case .adminKeys:
            return Route(
                self, "GET", "/admin/keys", .admin, "Every user's API keys, or one user's (user, limit, offset)",
                query: [.init("user")] + RouteTable.paging(maxLimit: APIKeyQuery.maxLimit),
                response: .json(S.page(S.apiKey)))
        case .audit:
            return Route(
                self, "GET", "/admin/audit", .admin, "The audit log of changes, newest first (user, action, since)",
                query: [.init("user"), .init("action"), .init("since")]
                    + RouteTable.paging(maxLimit: AuditQuery.maxLimit),
                response: .json(S.page(S.auditEntry)))
        default:
            preconditionFailure("\(self) is not a key or audit route")
        }
    }
}
