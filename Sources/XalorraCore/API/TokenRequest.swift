/// What `xalorra token` and `POST /admin/tokens` ask for.
public struct TokenRequest: Sendable, Equatable {
    /// A user or tenant name in a token: 1-100 characters, none of them a control or bidi formatting character (a
    /// terminal or log would act on those).
    public static let nameRule = TextRule(
        length: 1...100, characters: .all.subtracting(.controls).subtracting(.bidiControls))
    /// The lifetime in seconds: 1 s to 366 days.
    public static let ttlRule = IntegerRule(1...366 * 86_400)
    /// The longest lifetime a minted token may have.
    public static let maxTTL = TimeSpan(seconds: Int64(ttlRule.max))

    public let user: String
    public let role: Role
    public let tenant: String
    public let ttl: TimeSpan

    /// Creates a request; names must follow ``nameRule`` and the lifetime ``ttlRule``.
    public init(user: String, role: Role, tenant: String, ttl: TimeSpan) throws(XalorraError) {
        for (field, value) in [("user", user), ("tenant", tenant)] {
            switch Self.nameRule.problem(value) {
            case nil: break
            case .character: throw XalorraError.invalid(field, "must not contain control characters")
            default: throw XalorraError.invalid(field, "must be \(Self.nameRule.lengths) characters")
            }
        }
        guard ttl.seconds >= Self.ttlRule.min else {
            let least = TimeSpan(seconds: Int64(Self.ttlRule.min))
            throw XalorraError.invalid("ttl", "must be at least \(least), got \(ttl)")
        }
        guard ttl.seconds <= Self.maxTTL.seconds else {
            // A span held at TimeSpan.max was written longer than that; its clamped value would only confuse.
            let given = ttl == TimeSpan.max ? "" : ", got \(ttl)"
            throw XalorraError.invalid("ttl", "must be at most \(Self.maxTTL)\(given)")
        }
        self.user = user
        self.role = role
        self.tenant = tenant
        self.ttl = ttl
    }
}

extension TokenRequest {
    /// Characters a name in a token has no use for and a terminal or log would act on: those ``nameRule`` refuses.
    static func isForbiddenInName(_ scalar: Unicode.Scalar) -> Bool { !nameRule.characters.contains(scalar) }
}

/// A minted token with its claims.
public struct IssuedToken: Sendable, Equatable {
    /// The compact JWT.
    public let token: String
    /// Its lifetime in seconds.
    public let expiresIn: Int64
    /// Its claims.
    public let claims: TokenClaims

    /// Creates an issued token.
    public init(token: String, expiresIn: Int64, claims: TokenClaims) {
        self.token = token
        self.expiresIn = expiresIn
        self.claims = claims
    }
}

extension IssuedToken: JSONRepresentable {
    /// `{"access_token","token_type":"bearer","expires_in","claims"}`.
    public var json: JSONValue {
        .object([
            ("access_token", .string(token)), ("token_type", "bearer"), ("expires_in", .int(expiresIn)),
            ("claims", claims.json),
        ])
    }
}

extension IssuedToken: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            token: try json.text("access_token"), expiresIn: try json.integer("expires_in"),
            claims: try TokenClaims(json: json.member("claims")))
    }
}
