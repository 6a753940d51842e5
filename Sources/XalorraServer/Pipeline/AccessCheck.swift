import XalorraCore

/// The pipeline's sixth stage, after the rate limit (a refused request has been counted): a route that needs a
/// caller gets one with the role it needs, or the request is refused with 401 (the token's own reason, when one was
/// refused) or 403. A caller with an API key must also hold the route's scope (``Route/scope``) and, on a route about
/// models, be allowed the model it names: 403 `INSUFFICIENT_PERMISSIONS` naming what is missing.
struct AccessCheck: Sendable {
    func check(_ exchange: Exchange) throws(XalorraError) {
        guard exchange.access != .public else { return }
        if let error = exchange.authenticationError { throw error }
        guard let caller = exchange.caller else {
            throw XalorraError(.authenticationFailed, "Not authenticated: send Authorization: Bearer <token>")
        }
        if exchange.access == .admin, caller.role != .admin {
            throw XalorraError(.insufficientPermissions, "This endpoint needs the admin role")
        }
        if let grant = caller.key, let route = exchange.route {
            if let refusal = grant.refusal(scope: route.scope) { throw refusal }
            if let scope = route.scope, Self.modelScopes.contains(scope),
                let refusal = grant.refusal(model: Self.model(of: exchange))
            {
                throw refusal
            }
            // The owner's full rights would undo the allow-list (mint a token, create an account to log in as):
            // a key limited to models keeps only the key routes, which never widen a key.
            if let models = grant.models, route.scope == .admin, !Self.keyRoutes.contains(route.endpoint) {
                throw XalorraError(
                    .insufficientPermissions,
                    "This API key is limited to models (\(models.joined(separator: ", "))): it cannot use this route")
            }
        }
    }

    /// The routes a key limited to models keeps of the `admin` scope: keys it makes stay within its own limits.
    static let keyRoutes: Set<Endpoint> = [.keys, .createKey, .key, .revokeKey]

    /// The scopes of the routes about models, where a key's model allow-list applies.
    static let modelScopes: Set<APIKeyScope> = [.predict, .logsRead, .modelsRead, .train]

    /// The model a request is about: the path's `{model}` or `{name}`, else the `model` query filter; `nil` when it
    /// spans models (a list, a training job by id).
    static func model(of exchange: Exchange) -> String? {
        exchange.parameters["model"] ?? exchange.parameters["name"] ?? exchange.query["model"]
    }
}
