import XalorraCore

/// `POST /admin/tokens`: the remote form of `xalorra token`.
enum AdminController {
    /// `POST /admin/tokens`.
    static let mintToken: RouteHandler = { input in
        let caller = try input.requireCaller()
        return .json(try await input.api.mintToken(tokenRequest(try input.json(), caller: caller)).json)
    }

    /// `{"user", "role", "tenant", "ttl"}`, each optional: the admin's own name and tenant, role `user`, 1 h.
    static func tokenRequest(_ body: JSONValue, caller: Caller) throws(XalorraError) -> TokenRequest {
        guard case .object = body else { throw XalorraError.invalid("body", "expected a JSON object") }
        func text(_ name: String) throws(XalorraError) -> String? {
            guard let value = body[name], value != .null else { return nil }
            guard case .string(let string) = value else { throw XalorraError.invalid(name, "expected a string") }
            return string
        }
        let roleName = try text("role") ?? Role.user.rawValue
        guard let role = Role(rawValue: roleName) else {
            throw XalorraError.invalid("role", "expected admin or user, got '\(roleName)'")
        }
        var ttl = TimeSpan(seconds: 3600)
        switch body["ttl"] {
        case .number(let number)?:
            guard case .int(let seconds) = number, seconds > 0 else {
                throw XalorraError.invalid("ttl", "expected a positive whole number of seconds")
            }
            ttl = TimeSpan(seconds: seconds)
        case .string(let text)?:
            guard let span = TimeSpan(text) else { throw XalorraError.invalid("ttl", "expected a duration such as 1h") }
            ttl = span
        case nil, .null?: break
        default: throw XalorraError.invalid("ttl", "expected seconds or a duration such as 1h")
        }
        return try TokenRequest(
            user: try text("user") ?? caller.user, role: role, tenant: try text("tenant") ?? caller.tenant, ttl: ttl)
    }
}
