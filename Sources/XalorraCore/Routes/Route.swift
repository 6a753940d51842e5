/// One HTTP route of `xalorra serve`: the row that `xalorra routes`, `GET /routes`, the server's router and the
/// OpenAPI document are generated from.
public struct Route: Sendable, Equatable {
    /// How a route answers.
    public enum Transport: String, Sendable {
        /// One JSON (or HTML, or text) response.
        case plain = "http"
        /// Server-Sent Events (`text/event-stream`) that stay open.
        case eventStream = "sse"
        /// A WebSocket upgrade (101), then one text message per event.
        case webSocket = "websocket"

        /// Streaming routes also take the token as `?access_token=`: browsers' `EventSource` and `WebSocket`
        /// cannot send an `Authorization` header.
        public var acceptsQueryToken: Bool { self != .plain }
    }

    /// How large a body a route takes.
    public enum BodyLimit: String, Sendable {
        /// Up to `XALORRA_MAX_BODY` (1 MiB by default).
        case standard
        /// Up to `XALORRA_MAX_UPLOAD` (64 MiB by default): training data and model files.
        case upload
    }

    /// How a route's errors look.
    public enum ErrorFormat: String, Sendable {
        /// The one envelope `{"error":{"code","message","details"?},"timestamp"}`.
        case envelope
        /// The Open Inference Protocol's `{"error": "message"}`.
        case inference
    }

    /// Who may call a route.
    public enum Access: String, Sendable, CaseIterable {
        /// No token needed.
        case `public` = "none"
        /// Any valid access token.
        case user
        /// An access token with the `admin` role.
        case admin
    }

    /// The HTTP method, upper case.
    public let method: String
    /// The path, with `{name}` parameters.
    public let path: String
    /// Who may call it.
    public let access: Access
    /// Which rate-limit budget a call spends.
    public let rateLimit: RateLimitClass
    /// One line saying what it does.
    public let summary: String
    /// The work this route arrives with, while it has not landed: the server answers it 501.
    public let pendingIssue: String?
    /// How it answers.
    public let transport: Transport
    /// How large a body it takes.
    public let bodyLimit: BodyLimit
    /// How its errors look.
    public let errorFormat: ErrorFormat
    /// Whether its responses carry a credential (an access or refresh token): they are sent with
    /// `Cache-Control: no-store` (RFC 6749 §5.1), so that no cache or browser history keeps them.
    public let carriesCredentials: Bool
    /// The setting that may widen `access` at run time (``SettingKey/metricsAccess`` for `/metrics`: open, or open
    /// to listed addresses); `access` is what holds by default.
    public let accessSetting: SettingKey?

    init(
        _ method: String, _ path: String, _ access: Access, _ summary: String, transport: Transport = .plain,
        bodyLimit: BodyLimit = .standard, errorFormat: ErrorFormat = .envelope, carriesCredentials: Bool = false,
        accessSetting: SettingKey? = nil, pending: String? = nil
    ) {
        self.init(
            method, path, access, .default, summary, transport: transport, bodyLimit: bodyLimit,
            errorFormat: errorFormat, carriesCredentials: carriesCredentials, accessSetting: accessSetting,
            pending: pending)
    }

    init(
        _ method: String, _ path: String, _ access: Access, _ rateLimit: RateLimitClass, _ summary: String,
        transport: Transport = .plain, bodyLimit: BodyLimit = .standard, errorFormat: ErrorFormat = .envelope,
        carriesCredentials: Bool = false, accessSetting: SettingKey? = nil, pending: String? = nil
    ) {
        self.bodyLimit = bodyLimit
        self.errorFormat = errorFormat
        self.carriesCredentials = carriesCredentials
        self.accessSetting = accessSetting
        self.method = method
        self.path = path
        self.access = access
        self.rateLimit = rateLimit
        self.summary = summary
        self.transport = transport
        self.pendingIssue = pending
    }

    /// `POST /predict/{model}`: the route's identity.
    public var key: String { "\(method) \(path)" }
}

extension Route: JSONRepresentable {
    /// `{"method","path","auth","rate_limit":{"class","limit","window_seconds"},"summary","transport","available"}`.
    public var json: JSONValue {
        .object([
            ("method", .string(method)), ("path", .string(path)), ("auth", .string(access.rawValue)),
            ("rate_limit", .object([
                ("class", .string(rateLimit.name)), ("limit", .int(rateLimit.limit)),
                ("window_seconds", .int(rateLimit.windowSeconds)),
            ])),
            ("summary", .string(summary)), ("transport", .string(transport.rawValue)),
            ("available", .bool(pendingIssue == nil)),
        ])
    }
}
