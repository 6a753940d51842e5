/// What `xalorra token` and `POST /admin/tokens` ask for.
public struct TokenRequest: Sendable, Equatable {
    /// The longest lifetime a minted token may have.
    public static let maxTTL = TimeSpan(seconds: 366 * 86_400)

    public let user: String
    public let role: Role
    public let tenant: String
    public let ttl: TimeSpan

    /// Creates a request; names must be non-empty and the lifetime at most a year.
    public init(user: String, role: Role, tenant: String, ttl: TimeSpan) throws(XalorraError) {
        guard !user.isEmpty, user.utf8.count <= 100 else { throw XalorraError.invalid("user", "must be 1-100 bytes") }
        guard !tenant.isEmpty, tenant.utf8.count <= 100 else {
            throw XalorraError.invalid("tenant", "must be 1-100 bytes")
        }
        guard ttl.seconds <= Self.maxTTL.seconds else {
            throw XalorraError.invalid("ttl", "must be at most \(Self.maxTTL), got \(ttl)")
        }
        self.user = user
        self.role = role
        self.tenant = tenant
        self.ttl = ttl
    }
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
