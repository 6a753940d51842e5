/// An API key as lists and `show` print it: everything but its secret, which exists only in the answer that created
/// it (``CreatedAPIKey``).
public struct APIKey: Sendable, Equatable {
    /// The public id, the `<id>` of `xal_<id>_…`.
    public var id: String
    /// A label for people (`ci-bot`).
    public var name: String
    /// The owner's username: the key acts as this account.
    public var user: String
    /// The owner's role and tenant when the key was created; the key stops working when the account's change.
    public var role: Role
    public var tenant: String
    /// The scopes it holds, in ``APIKeyScope/allCases`` order.
    public var scopes: [APIKeyScope]
    /// The only models it may use; `nil` for any.
    public var models: [String]?
    /// Its own rate limit, on top of the routes'.
    public var rate: APIKeyRate?
    /// Who created it (a username, or an admin acting for `user`).
    public var createdBy: String
    public var createdAt: Timestamp
    public var expiresAt: Timestamp?
    /// When it was last used, to within a minute.
    public var lastUsedAt: Timestamp?
    public var revokedAt: Timestamp?

    /// Creates a key's description.
    public init(
        id: String, name: String, user: String, role: Role, tenant: String, scopes: [APIKeyScope], models: [String]?,
        rate: APIKeyRate?, createdBy: String, createdAt: Timestamp, expiresAt: Timestamp?, lastUsedAt: Timestamp?,
        revokedAt: Timestamp?
    ) {
        self.id = id
        self.name = name
        self.user = user
        self.role = role
        self.tenant = tenant
        self.scopes = scopes
        self.models = models
        self.rate = rate
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// `active`, `expired` or `revoked` at `now`.
    public func status(at now: Timestamp = .now()) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, expiresAt <= now { return "expired" }
        return "active"
    }

    /// `xal_<id>`: how the key is recognised without its secret.
    public var prefix: String { APIKeySecret.prefix + id }
}

extension APIKey: JSONRepresentable {
    /// `{id, prefix, name, user, role, tenant, scopes, models, rate, created_by, created_at, expires_at, last_used_at,
    /// revoked_at}`; times ISO 8601 to the second, absent ones `null`.
    public var json: JSONValue {
        .object([
            ("id", .string(id)), ("prefix", .string(prefix)), ("name", .string(name)), ("user", .string(user)),
            ("role", .string(role.rawValue)), ("tenant", .string(tenant)),
            ("scopes", .array(scopes.map { .string($0.rawValue) })),
            ("models", models.map { .array($0.map { .string($0) }) } ?? .null),
            ("rate", .string(rate?.description)), ("created_by", .string(createdBy)),
            ("created_at", .string(createdAt.iso8601Seconds)), ("expires_at", .string(expiresAt?.iso8601Seconds)),
            ("last_used_at", .string(lastUsedAt?.iso8601Seconds)), ("revoked_at", .string(revokedAt?.iso8601Seconds)),
        ])
    }
}

extension APIKey: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        func time(_ key: String) throws(XalorraError) -> Timestamp? {
            guard let value = json[key], value != .null else { return nil }
            guard case .string(let text) = value, let time = Timestamp(iso: text) else {
                throw JSONValue.unexpectedResponse("\(key) is not a time")
            }
            return time
        }
        let roleName = try json.text("role")
        guard let role = Role(rawValue: roleName) else { throw JSONValue.unexpectedResponse("role '\(roleName)'") }
        let scopes = try json.list("scopes").compactMap { $0.stringValue.flatMap(APIKeyScope.init(rawValue:)) }
        var models: [String]?
        if let value = json["models"], value != .null {
            models = try json.list("models").compactMap(\.stringValue)
        }
        var rate: APIKeyRate?
        if let text = json["rate"]?.stringValue { rate = try APIKeyRate(text) }
        guard let created = try time("created_at") else { throw JSONValue.unexpectedResponse("no created_at") }
        self.init(
            id: try json.text("id"), name: try json.text("name"), user: try json.text("user"), role: role,
            tenant: try json.text("tenant"), scopes: scopes, models: models, rate: rate,
            createdBy: try json.text("created_by"), createdAt: created, expiresAt: try time("expires_at"),
            lastUsedAt: try time("last_used_at"), revokedAt: try time("revoked_at"))
    }
}

/// What creating a key answers: its description and, this once, the key itself.
public struct CreatedAPIKey: Sendable, Equatable {
    public let key: APIKey
    /// `xal_<id>_<secret>`: shown once, stored only as a hash.
    public let secret: String

    public init(key: APIKey, secret: String) {
        self.key = key
        self.secret = secret
    }
}

extension CreatedAPIKey: JSONRepresentable {
    /// The key's description with `key`, the secret, first.
    public var json: JSONValue {
        guard case .object(let members) = key.json else { return key.json }
        return .object([("key", .string(secret))] + members)
    }
}

extension CreatedAPIKey: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(key: try APIKey(json: json), secret: try json.text("key"))
    }
}

/// Which keys a list shows.
public struct APIKeyQuery: Sendable, Equatable {
    /// Whose keys.
    public enum Owner: Sendable, Equatable {
        /// The caller's own (`GET /keys`).
        case own
        /// Everyone's (`GET /admin/keys`, admins).
        case all
        /// One user's (`GET /admin/keys?user=`, admins).
        case user(String)
    }

    public static let maxLimit = 100
    public var owner: Owner
    public var limit: Int
    public var offset: Int

    public init(owner: Owner = .own, limit: Int = Paging.defaultLimit, offset: Int = 0) throws(XalorraError) {
        try XalorraError.check(Paging.problems(limit: limit, offset: offset, max: Self.maxLimit))
        self.owner = owner
        self.limit = limit
        self.offset = offset
    }
}

/// The `message` of each key operation's success envelope, once: the server answers with them and the CLI's `--json`
/// prints the same bodies.
public enum APIKeyMessage {
    public static let created = "API key created: it is shown this once"
    public static let retrieved = "API key retrieved successfully"
    public static let revoked = "API key revoked"
}
