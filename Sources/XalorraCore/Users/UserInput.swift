/// The rules for a user's fields, once: the server's 422 `details`, the CLI's errors and the OpenAPI document's
/// schemas all come from here, with the Aksara API's messages. Lengths count Unicode scalars, as JSON Schema does.
public enum UserRules {
    /// 3-50 ASCII letters, digits or underscores.
    public static let usernameRule = TextRule(length: 3...50, characters: .word, trims: true)
    /// `local@domain.tld`, at most 254 characters, without control or bidi formatting characters (an address has
    /// no use for them, and an admin's terminal would obey them).
    public static let emailRule = TextRule(
        length: 0...254, characters: .all.subtracting(.controls).subtracting(.bidiControls), trims: true, shape: .email)
    /// 1-100 characters, without control characters: NUL (the store's text columns end at it: the name would be
    /// cut silently), line breaks, ESC and the rest (C0, DEL, C1), which no name needs. Any printable Unicode is
    /// kept as sent, emoji and the bidi formatting of right-to-left names included (the CLI shows those escaped).
    public static let fullNameRule = TextRule(length: 1...100, characters: .all.subtracting(.controls), trims: true)
    /// At least 6 characters and at most 72 bytes: bcrypt reads no further, and a longer password would be silently
    /// cut. NUL is refused for the same reason (bcrypt stops at it).
    public static let passwordRule = TextRule(minLength: 6, maxBytes: 72, characters: .text)
    /// 1-100 characters, none of them whitespace, control or bidi formatting characters.
    public static let tenantRule = TextRule(
        length: 1...100, characters: .all.subtracting(.whitespace).subtracting(.controls).subtracting(.bidiControls),
        trims: true)

    /// Why `value` is not a username, or `nil`.
    public static func username(_ value: String) -> String? {
        switch usernameRule.problem(value) {
        case nil: nil
        case .length: "Username must be \(usernameRule.lengths) characters"
        default: "Username may contain only letters, digits and underscore"
        }
    }

    /// Why `value` is not an email address, or `nil`.
    public static func email(_ value: String) -> String? {
        switch emailRule.problem(value) {
        case nil: nil
        case .character: "Email must not contain control or bidirectional formatting characters"
        default: "Invalid email format"
        }
    }

    /// Why `value` is not a full name, or `nil`.
    public static func fullName(_ value: String) -> String? {
        switch fullNameRule.problem(value) {
        case nil: nil
        case .length: "Nama lengkap must be \(fullNameRule.lengths) characters"
        default: "Nama lengkap must not contain NUL or other control characters"
        }
    }

    /// Why `value` is not a password, or `nil`.
    public static func password(_ value: String) -> String? {
        switch passwordRule.problem(value) {
        case nil: nil
        case .length: "Password must be at least \(passwordRule.minLength) characters"
        case .bytes: "Password must be at most \(passwordRule.maxBytes ?? 0) bytes (bcrypt limit)"
        default: "Password must not contain NUL characters"
        }
    }

    /// Why `value` is not a tenant, or `nil`.
    public static func tenant(_ value: String) -> String? {
        tenantRule.problem(value) == nil
            ? nil : "Tenant must be \(tenantRule.lengths) characters without spaces or control characters"
    }

    /// Surrounding spaces and tabs do not count, as in the Aksara API.
    static func trimmed(_ value: String) -> String { String(Substring(value).trimmingWhitespace()) }
}

/// A new account, validated: self-registration (role `user`, a tenant of its own) or an admin's `users add`.
public struct NewUser: Sendable {
    public let username: String
    public let email: String
    public let fullName: String
    /// The plain password, hashed by the API before it reaches the store.
    public let password: String
    public let role: Role
    /// `nil`: the deployment's default tenant.
    public let tenant: String?

    public init(
        username: String, email: String, fullName: String, password: String, role: Role = .user, tenant: String? = nil
    ) throws(XalorraError) {
        self.username = UserRules.usernameRule.normalized(username)
        self.email = UserRules.emailRule.normalized(email)
        self.fullName = UserRules.fullNameRule.normalized(fullName)
        self.password = password
        self.role = role
        self.tenant = tenant.map(UserRules.tenantRule.normalized)
        try XalorraError.check([
            ("username", UserRules.username(self.username)), ("email", UserRules.email(self.email)),
            ("nama_lengkap", UserRules.fullName(self.fullName)), ("password", UserRules.password(password)),
            ("tenant", self.tenant.flatMap(UserRules.tenant)),
        ])
    }
}

/// Changes to an account: the caller's own email and name (`PUT /users/profile`), or anything an admin may change
/// (`PATCH /admin/users/{username}`). `nil` leaves a field as it is.
public struct UserChanges: Sendable, Equatable {
    public var email: String?
    public var fullName: String?
    public var role: Role?
    public var tenant: String?
    public var isActive: Bool?
    /// A new password, set by an admin (revokes the user's refresh tokens).
    public var password: String?

    public init(
        email: String? = nil, fullName: String? = nil, role: Role? = nil, tenant: String? = nil, isActive: Bool? = nil,
        password: String? = nil
    ) throws(XalorraError) {
        self.email = email.map(UserRules.emailRule.normalized)
        self.fullName = fullName.map(UserRules.fullNameRule.normalized)
        self.role = role
        self.tenant = tenant.map(UserRules.tenantRule.normalized)
        self.isActive = isActive
        self.password = password
        try XalorraError.check([
            ("email", self.email.flatMap(UserRules.email)), ("nama_lengkap", self.fullName.flatMap(UserRules.fullName)),
            ("tenant", self.tenant.flatMap(UserRules.tenant)), ("password", password.flatMap(UserRules.password)),
        ])
    }

    /// Whether only the fields a user may change on their own profile are set.
    public var isProfileChange: Bool { role == nil && tenant == nil && isActive == nil && password == nil }
}

/// `GET /admin/users`: a page of users, optionally those whose username, email or name contains `search`.
public struct UserQuery: Sendable, Equatable {
    public static let maxLimit = 100
    public var search: String?
    public var limit: Int
    public var offset: Int

    public init(search: String? = nil, limit: Int = Paging.defaultLimit, offset: Int = 0) throws(XalorraError) {
        try XalorraError.check(Paging.problems(limit: limit, offset: offset, max: Self.maxLimit))
        self.search = search.map(UserRules.trimmed).flatMap { $0.isEmpty ? nil : $0 }
        self.limit = limit
        self.offset = offset
    }
}
