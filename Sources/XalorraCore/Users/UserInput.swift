/// The rules for a user's fields, once: the server's 422 `details` and the CLI's errors both come from here, with
/// the Aksara API's messages.
public enum UserRules {
    /// 3-50 letters, digits or underscores.
    public static func username(_ value: String) -> String? {
        guard (3...50).contains(value.count) else { return "Username must be 3-50 characters" }
        guard value.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") })
        else { return "Username may contain only letters, digits and underscore" }
        return nil
    }

    /// `local@domain.tld`, at most 254 characters, without control or bidi formatting characters (an address has
    /// no use for them, and an admin's terminal would obey them).
    public static func email(_ value: String) -> String? {
        if value.unicodeScalars.contains(where: isControlOrBidi) {
            return "Email must not contain control or bidirectional formatting characters"
        }
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard value.count <= 254, parts.count == 2, !parts[0].isEmpty, !value.contains(where: \.isWhitespace),
            !value.utf8.contains(0),
            let dot = parts[1].lastIndex(of: "."), dot != parts[1].startIndex,
            parts[1].index(after: dot) != parts[1].endIndex
        else { return "Invalid email format" }
        return nil
    }

    /// 1-100 characters, without control characters: NUL (the store's text columns end at it: the name would be
    /// cut silently), line breaks, ESC and the rest (C0, DEL, C1), which no name needs. Any printable Unicode is
    /// kept as sent, emoji and the bidi formatting of right-to-left names included (the CLI shows those escaped).
    public static func fullName(_ value: String) -> String? {
        guard (1...100).contains(value.count) else { return "Nama lengkap must be 1-100 characters" }
        return value.unicodeScalars.contains(where: isControl)
            ? "Nama lengkap must not contain NUL or other control characters" : nil
    }

    /// At least 6 characters and at most 72 bytes: bcrypt reads no further, and a longer password would be silently
    /// cut. NUL is refused for the same reason (bcrypt stops at it).
    public static func password(_ value: String) -> String? {
        if value.count < 6 { return "Password must be at least 6 characters" }
        if value.utf8.count > 72 { return "Password must be at most 72 bytes (bcrypt limit)" }
        if value.utf8.contains(0) { return "Password must not contain NUL characters" }
        return nil
    }

    /// 1-100 characters, none of them whitespace, control or bidi formatting characters.
    public static func tenant(_ value: String) -> String? {
        guard (1...100).contains(value.count),
            !value.unicodeScalars.contains(where: { $0.properties.isWhitespace || isControlOrBidi($0) })
        else { return "Tenant must be 1-100 characters without spaces or control characters" }
        return nil
    }

    /// C0 controls (U+0000-U+001F), DEL and the C1 controls (U+0080-U+009F).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) }

    /// A control character, or a bidi override or isolate (U+202A-U+202E, U+2066-U+2069), which reorders the text
    /// after it on screen (an address could show as another).
    static func isControlOrBidi(_ scalar: Unicode.Scalar) -> Bool {
        isControl(scalar) || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }

    /// Surrounding whitespace does not count, as in the Aksara API.
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
        self.username = UserRules.trimmed(username)
        self.email = UserRules.trimmed(email)
        self.fullName = UserRules.trimmed(fullName)
        self.password = password
        self.role = role
        self.tenant = tenant.map(UserRules.trimmed)
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
        self.email = email.map(UserRules.trimmed)
        self.fullName = fullName.map(UserRules.trimmed)
        self.role = role
        self.tenant = tenant.map(UserRules.trimmed)
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

    public init(search: String? = nil, limit: Int = 20, offset: Int = 0) throws(XalorraError) {
        guard (1...Self.maxLimit).contains(limit) else {
            throw XalorraError.invalid("limit", "must be between 1 and \(Self.maxLimit), got \(limit)")
        }
        guard offset >= 0 else { throw XalorraError.invalid("offset", "must not be negative, got \(offset)") }
        self.search = search.map(UserRules.trimmed).flatMap { $0.isEmpty ? nil : $0 }
        self.limit = limit
        self.offset = offset
    }
}
