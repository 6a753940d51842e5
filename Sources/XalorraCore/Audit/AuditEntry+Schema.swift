extension Schema {
    /// One audit row (``AuditEntry``).
    public static let auditEntry: JSONValue = object([
        ("id", integer), ("at", string), ("actor", string),
        ("key_id", .object([("type", .array(["string", "null"]))])), ("origin", string), ("action", string),
        ("object", string), ("outcome", string),
    ], required: ["id", "at", "actor", "key_id", "origin", "action", "object", "outcome"])
}

extension AuditQuery {
    /// Reads `user`, `action`, `since` (an ISO time or a duration ago: `1d`), `limit` and `offset` as the route and
    /// the command take them; 422 naming the bad one.
    public init(
        user: String?, action: String?, since text: String?, limit: Int, offset: Int
    ) throws(XalorraError) {
        var since: Timestamp?
        if let text {
            guard let time = Timestamp(isoOrAgo: text) else {
                throw XalorraError.invalid("since", "expected \(Timestamp.isoOrAgoExpectation)")
            }
            since = time
        }
        try self.init(user: user, action: action, since: since, limit: limit, offset: offset)
    }
}
