import XalorraCore

/// The pipeline's sixth stage, after the rate limit (a refused request has been counted): a route that needs a
/// caller gets one with the role it needs, or the request is refused with 401 (the token's own reason, when one was
/// refused) or 403.
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
    }
}
