extension Schema {
    private static let nullableString: JSONValue = .object([("type", .array(["string", "null"]))])
    private static let scopeName = oneOf(APIKeyScope.allCases)

    private static let apiKeyFields: [(String, JSONValue)] = [
        ("id", string), ("prefix", string), ("name", string), ("user", string), ("role", string), ("tenant", string),
        ("scopes", array(scopeName)),
        ("models", .object([("type", .array(["array", "null"])), ("items", string)])),
        ("rate", nullableString), ("created_by", string), ("created_at", string), ("expires_at", nullableString),
        ("last_used_at", nullableString), ("revoked_at", nullableString),
    ]

    /// An API key's description (``APIKey``): never its secret.
    public static let apiKey: JSONValue = object(apiKeyFields, required: apiKeyFields.map(\.0))

    /// A key just created (``CreatedAPIKey``): the description and, this once, `key`.
    public static let createdAPIKey: JSONValue = object(
        [("key", string)] + apiKeyFields, required: ["key"] + apiKeyFields.map(\.0))

    /// The body of `POST /keys` (``APIKeyRequest``).
    public static let apiKeyRequest: JSONValue = object([
        ("name", string), ("user", string),
        ("scopes", withDefault(array(scopeName), .array([.string(APIKeyScope.predict.rawValue)]))),
        ("models", array(string)),
        ("expires_in", .object([("type", .array(["integer", "string"]))])),
        ("rate", withExamples(string, ["600/m"])),
    ], required: ["name"])
}
