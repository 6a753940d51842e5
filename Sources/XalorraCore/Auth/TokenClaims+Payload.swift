extension TokenClaims {
    /// The claims of a token's decoded payload, read strictly: the payload is one JSON object with each claim once,
    /// each claim xalorra reads has its type (`role` and `typ` one of their values; `iat`, `exp` and `nbf` whole
    /// seconds from 0 to ``maxNumericDate``), and `sub` and `user_id`, when both are given, agree. Other claims are
    /// ignored. Anything else is refused as AUTHENTICATION_FAILED naming the claim, never trapped on or guessed at.
    init(payload: JSONValue) throws(XalorraError) {
        guard case .object(let members) = payload else {
            throw Self.malformed("the payload is a JSON \(payload.typeName), not an object")
        }
        var seen = Set<String>()
        for (name, _) in members where !seen.insert(name).inserted {
            throw Self.malformed("duplicate key \"\(name)\" in the payload")
        }
        let userID = try Self.name(payload, "user_id")
        let sub = try Self.name(payload, "sub")
        guard let user = userID ?? sub else { throw Self.malformed("the token names no user (user_id or sub)") }
        if let userID, let sub, userID != sub {
            throw Self.malformed("sub '\(sub)' and user_id '\(userID)' name different users")
        }
        guard let roleName = try Self.text(payload, "role") else { throw Self.malformed("the token has no role") }
        guard let role = Role(rawValue: roleName) else {
            throw Self.malformed("role must be admin or user, got '\(roleName)'")
        }
        var kind: Kind?
        if let typName = try Self.text(payload, "typ") {
            guard let typ = Kind(rawValue: typName) else {
                throw Self.malformed("typ must be access or refresh, got '\(typName)'")
            }
            kind = typ
        }
        self.init(
            user: user, role: role, tenant: try Self.name(payload, "tenant") ?? "default", kind: .access, issuedAt: 0,
            expires: 0, id: "")
        self.sub = sub ?? user
        self.userID = userID ?? user
        self.typ = kind
        self.iat = try Self.numericDate(payload, "iat")
        self.exp = try Self.numericDate(payload, "exp")
        self.nbf = try Self.numericDate(payload, "nbf")
        self.jti = try Self.text(payload, "jti")
    }

    private static func malformed(_ reason: String) -> XalorraError {
        XalorraError(.authenticationFailed, "malformed token: \(reason)")
    }

    /// The string claim `name`, if present; any other type is refused.
    private static func text(_ payload: JSONValue, _ name: String) throws(XalorraError) -> String? {
        guard let value = payload[name] else { return nil }
        guard case .string(let text) = value else {
            throw malformed("\(name) must be a string, got \(value.typeName)")
        }
        return text
    }

    /// A user or tenant name: a non-empty string without control characters, which would reach logs and terminals.
    private static func name(_ payload: JSONValue, _ name: String) throws(XalorraError) -> String? {
        guard let text = try text(payload, name) else { return nil }
        guard !text.isEmpty else { throw malformed("\(name) is empty") }
        guard !text.unicodeScalars.contains(where: TokenRequest.isForbiddenInName) else {
            throw malformed("\(name) contains control characters")
        }
        return text
    }

    /// A NumericDate claim (RFC 7519 §2) as whole seconds. Fractions, strings, booleans, `null` and times outside
    /// 0...``maxNumericDate`` (`1e300`, `-1e300`, `9223372036854775807`) are refused: every later computation with
    /// the value then stays far from overflowing.
    private static func numericDate(_ payload: JSONValue, _ name: String) throws(XalorraError) -> Int64? {
        guard let value = payload[name] else { return nil }
        let expectation = "\(name) must be whole seconds since 1970 up to \(maxNumericDate)"
        guard case .number(let number) = value else { throw malformed("\(expectation), got \(value.typeName)") }
        let seconds: Int64?
        switch number {
        case .int(let whole): seconds = whole
        case .double(let real): seconds = real.isFinite && real.rounded() == real ? Int64(exactly: real) : nil
        }
        guard let seconds, (0...maxNumericDate).contains(seconds) else {
            throw malformed("\(expectation), got \(number.doubleValue)")
        }
        return seconds
    }
}
