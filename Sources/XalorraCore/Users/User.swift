/// An account in the store. The password hash is not here: it never leaves ``UserRepository``.
public struct User: Sendable, Equatable {
    public var id: Int64
    /// Unique, case-insensitively; letters, digits and underscore, 3-50 characters. Tokens carry it as `user_id`.
    public var username: String
    /// Unique, case-insensitively.
    public var email: String
    /// `nama_lengkap` in the Aksara API.
    public var fullName: String
    public var role: Role
    public var tenant: String
    /// A disabled account cannot log in, refresh, or use its access tokens.
    public var isActive: Bool
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: Int64, username: String, email: String, fullName: String, role: Role, tenant: String, isActive: Bool,
        createdAt: Timestamp, updatedAt: Timestamp
    ) {
        self.id = id
        self.username = username
        self.email = email
        self.fullName = fullName
        self.role = role
        self.tenant = tenant
        self.isActive = isActive
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

extension User {
    /// The first whole second (`iat`) at which a token that does not name its account (see ``tokenID(for:)``) can be
    /// this account's: rounded up, so that a token minted for the name in the same second but before the account
    /// was created is still older than it.
    public var firstTokenSecond: Int64 { Self.firstTokenSecond(createdAt: createdAt) }

    /// ``firstTokenSecond`` of an account created at `createdAt`.
    static func firstTokenSecond(createdAt: Timestamp) -> Int64 {
        let (seconds, micros) = createdAt.microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return micros > 0 ? seconds + 1 : seconds
    }

    /// A fresh `jti` naming the account `id`: `<128 random bits in hex>.a<id>`. The tokens xalorra signs for an
    /// account carry it, so they are that account's exactly (ids are never reused), whatever the second they were
    /// issued in; the signature keeps anyone from writing one.
    public static func tokenID(for id: Int64) -> String { TokenService.randomID() + ".a\(id)" }

    /// The account a `jti` made by ``tokenID(for:)`` names; `nil` for any other `jti` (or none).
    public static func account(inTokenID jti: String?) -> Int64? {
        // On the UTF-8 view: every authenticated request reads it, and walking Characters cost ~9k instructions.
        guard let jti else { return nil }
        let bytes = jti.utf8
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")) else { return nil }
        let rest = bytes[bytes.index(after: dot)...]
        guard rest.first == UInt8(ascii: "a") else { return nil }
        let digits = rest.dropFirst()
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int64(Substring(digits))
    }
}

extension User: JSONRepresentable {
    /// The one shape of a user on every route: the Aksara profile (`id, username, email, nama_lengkap, created_at,
    /// updated_at, is_active`) plus `role` and `tenant`.
    public var json: JSONValue {
        .object([
            ("id", .int(id)), ("username", .string(username)), ("email", .string(email)),
            ("nama_lengkap", .string(fullName)), ("role", .string(role.rawValue)), ("tenant", .string(tenant)),
            ("is_active", .bool(isActive)), ("created_at", .string(createdAt.iso8601)),
            ("updated_at", .string(updatedAt.iso8601)),
        ])
    }
}

extension User: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let roleName = try json.text("role")
        guard let role = Role(rawValue: roleName) else { throw JSONValue.unexpectedResponse("role '\(roleName)'") }
        func time(_ key: String) throws(XalorraError) -> Timestamp {
            let text = try json.text(key)
            guard let time = Timestamp(iso: text) else { throw JSONValue.unexpectedResponse("\(key) '\(text)'") }
            return time
        }
        guard case .bool(let active)? = json["is_active"] else { throw JSONValue.unexpectedResponse("no is_active") }
        self.init(
            id: try json.integer("id"), username: try json.text("username"), email: try json.text("email"),
            fullName: try json.text("nama_lengkap"), role: role, tenant: try json.text("tenant"), isActive: active,
            createdAt: try time("created_at"), updatedAt: try time("updated_at"))
    }
}

/// What `POST /users/login` answers: a token pair and the user.
public struct LoginResult: Sendable, Equatable {
    public let tokens: TokenPair
    public let user: User

    public init(tokens: TokenPair, user: User) {
        self.tokens = tokens
        self.user = user
    }
}

extension LoginResult: JSONRepresentable {
    /// `{access_token, refresh_token, token_type, expires_in, user}`.
    public var json: JSONValue {
        guard case .object(var members) = tokens.json else { return tokens.json }
        members.append(("user", user.json))
        return .object(members)
    }
}

extension LoginResult: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(tokens: try TokenPair(json: json), user: try User(json: json.member("user")))
    }
}

/// An access token and the refresh token that renews it.
public struct TokenPair: Sendable, Equatable {
    public let accessToken: String
    public let refreshToken: String
    /// Seconds the access token is valid for.
    public let expiresIn: Int64

    public init(accessToken: String, refreshToken: String, expiresIn: Int64) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
    }

    /// Access tokens from login and refresh live an hour.
    public static let accessLifetime = TimeSpan(seconds: 3600)
    /// Refresh tokens live thirty days.
    public static let refreshLifetime = TimeSpan(seconds: 30 * 86_400)
}

extension TokenPair: JSONRepresentable {
    /// `{access_token, refresh_token, token_type, expires_in}`.
    public var json: JSONValue {
        .object([
            ("access_token", .string(accessToken)), ("refresh_token", .string(refreshToken)),
            ("token_type", "bearer"), ("expires_in", .int(expiresIn)),
        ])
    }
}

extension TokenPair: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            accessToken: try json.text("access_token"), refreshToken: try json.text("refresh_token"),
            expiresIn: try json.integer("expires_in"))
    }
}
