/// A request to create an API key, validated: what `xalorra keys create` and `POST /keys` both read.
public struct APIKeyRequest: Sendable, Equatable {
    /// The longest label, and the most models a key may be limited to.
    public static let maxNameLength = 64
    public static let maxModels = 100
    /// The longest lifetime: ten years.
    public static let maxLifetime = TimeSpan(seconds: 3650 * 86_400)

    /// A label for people.
    public let name: String
    /// The owner, when not the caller (admins only).
    public let user: String?
    public let scopes: [APIKeyScope]
    /// The only models the key may use; `nil` for any.
    public let models: [String]?
    /// How long it lives; `nil` for ever (until revoked).
    public let expiresIn: TimeSpan?
    public let rate: APIKeyRate?

    /// Checks every field, one 422 naming each bad one.
    public init(
        name: String, user: String? = nil, scopes: [APIKeyScope] = [.predict], models: [String]? = nil,
        expiresIn: TimeSpan? = nil, rate: APIKeyRate? = nil
    ) throws(XalorraError) {
        var problems: [(field: String, message: String?)] = []
        let trimmed = String(Substring(name).trimmingWhitespace())
        if trimmed.isEmpty || trimmed.count > Self.maxNameLength
            || trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            problems.append(("name", "expected 1 to \(Self.maxNameLength) characters, no control characters"))
        }
        if scopes.isEmpty { problems.append(("scopes", "name at least one scope")) }
        if let models {
            if models.isEmpty || models.count > Self.maxModels {
                problems.append(("models", "expected 1 to \(Self.maxModels) model names"))
            }
            for model in models {
                guard let reference = try? ModelReference(model), reference.version == nil else {
                    problems.append(("models", "'\(model.prefix(40))' is not a model name"))
                    break
                }
            }
        }
        if let expiresIn, expiresIn.seconds <= 0 || expiresIn.seconds > Self.maxLifetime.seconds {
            problems.append(("expires_in", "expected a lifetime from 1s to 3650d"))
        }
        try XalorraError.check(problems)
        self.name = trimmed
        self.user = user
        self.scopes = Array(Set(scopes)).sorted()
        self.models = models.map { Array(Set($0)).sorted() }
        self.expiresIn = expiresIn
        self.rate = rate
    }
}

extension APIKeyRequest: JSONDecodable {
    /// `{"name", "user"?, "scopes"?: ["predict"] or "predict,chat", "models"?: [names], "expires_in"?: seconds or
    /// "90d", "rate"?: "600/m"}`: the body of `POST /keys`; 422 naming each bad field.
    public init(json body: JSONValue) throws(XalorraError) {
        guard case .object = body else { throw XalorraError.invalid("body", "expected a JSON object") }
        func text(_ name: String) throws(XalorraError) -> String? {
            guard let value = body[name], value != .null else { return nil }
            guard case .string(let string) = value else { throw XalorraError.invalid(name, "expected a string") }
            return string
        }
        func list(_ name: String) throws(XalorraError) -> [String]? {
            switch body[name] {
            case nil, .null?: return nil
            case .string(let joined)?: return joined.split(separator: ",").map { String($0) }
            case .array(let items)?:
                return try items.map { item throws(XalorraError) in
                    guard case .string(let string) = item else {
                        throw XalorraError.invalid(name, "expected an array of strings")
                    }
                    return string
                }
            default: throw XalorraError.invalid(name, "expected an array of strings")
            }
        }
        guard let name = try text("name") else { throw XalorraError.invalid("name", "Name is required") }
        let scopes = try list("scopes").map { names throws(XalorraError) in
            try APIKeyScope.list(names.joined(separator: ","))
        }
        var expiresIn: TimeSpan?
        switch body["expires_in"] {
        case .number(let number)?:
            guard case .int(let seconds) = number, seconds > 0 else {
                throw XalorraError.invalid("expires_in", "expected a positive whole number of seconds")
            }
            expiresIn = TimeSpan(seconds: seconds)
        case .string(let text)?:
            guard let span = TimeSpan(text) else {
                throw XalorraError.invalid("expires_in", "expected a duration such as 90d")
            }
            expiresIn = span
        case nil, .null?: break
        default: throw XalorraError.invalid("expires_in", "expected seconds or a duration such as 90d")
        }
        let rate = try text("rate").map { text throws(XalorraError) in try APIKeyRate(text) }
        try self.init(
            name: name, user: try text("user"), scopes: scopes ?? [.predict], models: try list("models"),
            expiresIn: expiresIn, rate: rate)
    }
}

extension APIKeyRequest: JSONRepresentable {
    /// The body ``init(json:)`` reads back.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(name)), ("scopes", .array(scopes.map { .string($0.rawValue) })),
        ]
        if let user { members.append(("user", .string(user))) }
        if let models { members.append(("models", .array(models.map { .string($0) }))) }
        if let expiresIn { members.append(("expires_in", .int(expiresIn.seconds))) }
        if let rate { members.append(("rate", .string(rate.description))) }
        return .object(members)
    }
}
