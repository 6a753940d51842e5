/// One row of the audit log: a change made through the API or the CLI, who made it, from where, on what, and how it
/// ended. Predictions are not audited (they are the prediction log).
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Timestamp
    /// The acting username.
    public var actor: String
    /// The API key the actor used, by id; `nil` for a token or local mode.
    public var keyID: String?
    /// The client's address, or `local` for the CLI's offline mode.
    public var origin: String
    /// What was done: `keys.create`, `users.update`, …
    public var action: String
    /// On which object: a username, a key id, a model name.
    public var object: String
    /// `success`, or `failure: <error code>`.
    public var outcome: String

    public init(
        id: Int64, at: Timestamp, actor: String, keyID: String?, origin: String, action: String, object: String,
        outcome: String
    ) {
        self.id = id
        self.at = at
        self.actor = actor
        self.keyID = keyID
        self.origin = origin
        self.action = action
        self.object = object
        self.outcome = outcome
    }
}

extension AuditEntry: JSONRepresentable {
    /// `{id, at, actor, key_id, origin, action, object, outcome}`.
    public var json: JSONValue {
        .object([
            ("id", .int(id)), ("at", .string(at.iso8601)), ("actor", .string(actor)), ("key_id", .string(keyID)),
            ("origin", .string(origin)), ("action", .string(action)), ("object", .string(object)),
            ("outcome", .string(outcome)),
        ])
    }
}

extension AuditEntry: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let text = try json.text("at")
        guard let at = Timestamp(iso: text) else { throw JSONValue.unexpectedResponse("at '\(text)'") }
        self.init(
            id: try json.integer("id"), at: at, actor: try json.text("actor"), keyID: json["key_id"]?.stringValue,
            origin: try json.text("origin"), action: try json.text("action"), object: try json.text("object"),
            outcome: try json.text("outcome"))
    }
}

/// Which audit rows a list shows, newest first.
public struct AuditQuery: Sendable, Equatable {
    public static let maxLimit = 500
    /// Only this actor's rows.
    public var user: String?
    /// Only this action (`keys.create`), or a family of them (`keys`).
    public var action: String?
    /// Only rows at or after this time.
    public var since: Timestamp?
    public var limit: Int
    public var offset: Int

    public init(
        user: String? = nil, action: String? = nil, since: Timestamp? = nil, limit: Int = Paging.defaultLimit,
        offset: Int = 0
    ) throws(XalorraError) {
        try XalorraError.check(Paging.problems(limit: limit, offset: offset, max: Self.maxLimit))
        self.user = user
        self.action = action
        self.since = since
        self.limit = limit
        self.offset = offset
    }
}
