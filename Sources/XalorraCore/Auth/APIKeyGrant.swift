/// What an API key allows its bearer, on top of acting as its owner: set on a ``Caller`` that authenticated with a
/// key, and checked by the server on every request (scope, model allow-list, per-key rate limit).
public struct APIKeyGrant: Sendable, Equatable {
    /// The key's public id (`xal_<id>_…`), the name logs and limits use for it; never the secret.
    public let id: String
    /// The scopes it holds.
    public let scopes: [APIKeyScope]
    /// The only models it may use; `nil` for any.
    public let models: [String]?
    /// Its own rate limit, on top of the route's.
    public let rate: APIKeyRate?

    /// Creates a grant.
    public init(id: String, scopes: [APIKeyScope], models: [String]?, rate: APIKeyRate?) {
        self.id = id
        self.scopes = scopes
        self.models = models
        self.rate = rate
    }

    /// Why this key may not call a route that needs `scope` (403 naming the scope), or `nil` when it may.
    public func refusal(scope: APIKeyScope?) -> XalorraError? {
        guard let scope, !scope.isGranted(by: scopes) else { return nil }
        return XalorraError(
            .insufficientPermissions,
            "This API key lacks the '\(scope.rawValue)' scope (it holds \(scopes.map(\.rawValue).joined(separator: ", ")))")
    }

    /// Why this key may not use the model `reference` (`name` or `name@version`), or `nil` when it may. A route that
    /// spans models (`reference` nil) is refused to a key limited to some.
    public func refusal(model reference: String?) -> XalorraError? {
        guard let models else { return nil }
        let allowed = models.joined(separator: ", ")
        guard let reference else {
            return XalorraError(
                .insufficientPermissions,
                "This API key may only use the models \(allowed): name one (this route spans every model)")
        }
        let name = reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        guard let name, models.contains(name) else {
            return XalorraError(.insufficientPermissions, "This API key may only use the models \(allowed)")
        }
        return nil
    }
}
