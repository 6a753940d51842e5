/// What `xalorra token` and `POST /admin/tokens` ask for.
public struct TokenRequest: Sendable, Equatable {
    /// The longest lifetime a minted token may have.
    public static let maxTTL = TimeSpan(seconds: 366 * 86_400)

    public let user: String
    public let role: Role
    public let tenant: String
    public let ttl: TimeSpan

    /// Creates a request; names must be 1-100 bytes without control characters and the lifetime 1 s to a year.
    public init(user: String, role: Role, tenant: String, ttl: TimeSpan) throws(XalorraError) {
        guard !user.isEmpty, user.utf8.count <= 100 else { throw XalorraError.invalid("user", "must be 1-100 bytes") }
        guard !tenant.isEmpty, tenant.utf8.count <= 100 else {
            throw XalorraError.invalid("tenant", "must be 1-100 bytes")
        }
        for (field, value) in [("user", user), ("tenant", tenant)]
        where value.unicodeScalars.contains(where: Self.isForbiddenInName) {
            throw XalorraError.invalid(field, "must not contain control characters")
        }
        guard ttl.seconds > 0 else { throw XalorraError.invalid("ttl", "must be at least 1s, got \(ttl)") }
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
    /// Characters a name in a token has no use for and a terminal or log would act on: C0 and C1 controls, DEL, and
    /// the bidirectional overrides and isolates that reorder what is shown (U+202A-U+202E, U+2066-U+2069).
    static func isForbiddenInName(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
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
