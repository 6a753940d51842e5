/// A route as `GET /routes` and `xalorra routes` list it: what a client learns of a server's routes, including
/// routes of a newer server that this build has no ``Endpoint`` for.
public struct RouteListing: Sendable, Equatable {
    public let method: String
    public let path: String
    public let access: Route.Access
    /// The scope an API key needs for it; `nil` on a public route (and from a server older than API keys).
    public let scope: APIKeyScope?
    public let rateLimit: RateLimitClass
    public let summary: String
    public let transport: Route.Transport

    /// The listing of `route`.
    public init(_ route: Route) {
        method = route.method
        path = route.path
        access = route.access
        scope = route.scope
        rateLimit = route.rateLimit
        summary = route.summary
        transport = route.transport
    }

    /// The scope a key needs, `any` where any key of the account will do (`/whoami`), `nil` on a public route.
    public var scopeText: String? { scope?.rawValue ?? (access == .public ? nil : "any") }

    /// `POST /predict/{model}`.
    public var key: String { "\(method) \(path)" }
}

extension RouteListing: JSONRepresentable, JSONDecodable {
    /// `{"method","path","auth","scope","rate_limit":{"class","limit","window_seconds"},"summary","transport"}`.
    public var json: JSONValue {
        .object([
            ("method", .string(method)), ("path", .string(path)), ("auth", .string(access.rawValue)),
            ("scope", scopeText.map { .string($0) } ?? .null),
            ("rate_limit", .object([
                ("class", .string(rateLimit.name)), ("limit", .int(rateLimit.limit)),
                ("window_seconds", .int(rateLimit.windowSeconds)),
            ])),
            ("summary", .string(summary)), ("transport", .string(transport.rawValue)),
        ])
    }

    public init(json: JSONValue) throws(XalorraError) {
        let limit = try json.member("rate_limit")
        let accessName = try json.text("auth")
        guard let access = Route.Access(rawValue: accessName) else {
            throw JSONValue.unexpectedResponse("auth '\(accessName)'")
        }
        let transportName = try json.text("transport")
        guard let transport = Route.Transport(rawValue: transportName) else {
            throw JSONValue.unexpectedResponse("transport '\(transportName)'")
        }
        self.method = try json.text("method")
        self.path = try json.text("path")
        self.access = access
        self.scope = json["scope"]?.stringValue.flatMap(APIKeyScope.init(rawValue:))
        self.rateLimit = RateLimitClass(
            name: try limit.text("class"), limit: Int(try limit.integer("limit")),
            windowSeconds: Int(try limit.integer("window_seconds")))
        self.summary = try json.text("summary")
        self.transport = transport
    }
}
