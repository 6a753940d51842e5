/// One HTTP route of `xalorra serve`, everything about it in one value: the server's router and handler table, the
/// client's paths, `xalorra routes`, `GET /routes` and the OpenAPI document are all generated from it. Each
/// ``Endpoint`` has exactly one (see `RouteTable.swift`).
public struct Route: Sendable, Equatable {
    /// How a route answers. It follows from ``response``.
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
        /// The OpenAI API's `{"error":{"message","type","param","code"}}`.
        case openAI
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

    /// A query parameter: its name and JSON Schema (query values arrive as text and are read by that schema).
    public struct QueryParameter: Sendable, Equatable {
        public let name: String
        public let schema: JSONValue

        public init(_ name: String, _ schema: JSONValue = Schema.string) {
            self.name = name
            self.schema = schema
        }
    }

    /// What a route takes as its body.
    public struct RequestBody: Sendable, Equatable {
        /// The JSON body's schema.
        public let json: JSONValue
        /// Also taken as CSV (the training data itself, its settings in the query): what the CSV holds.
        public let csv: String?
        /// Also taken as `application/octet-stream` (the inference protocol's binary tensor extension): what it holds.
        public let binary: String?

        public init(_ json: JSONValue, csv: String? = nil, binary: String? = nil) {
            self.json = json
            self.csv = csv
            self.binary = binary
        }
    }

    /// What a route answers when it succeeds.
    public enum Response: Sendable, Equatable {
        /// A JSON body of this schema, with this status.
        case json(JSONValue, status: Int = 200)
        /// JSON of this schema (200), or, when the body asks `"stream": true`, Server-Sent Events whose `data:` is
        /// JSON of `events`: one plain POST either way.
        case jsonOrEvents(JSONValue, events: JSONValue)
        /// JSON of this schema (200), or, when the request asks for binary outputs (the inference protocol's binary
        /// tensor extension), `application/octet-stream`: that JSON as a header (`Inference-Header-Content-Length`
        /// bytes), then the outputs' raw bytes.
        case jsonOrBinary(JSONValue)
        /// 204, no body.
        case empty
        /// Server-Sent Events whose `data:` is JSON of this schema.
        case events(JSONValue)
        /// A WebSocket upgrade (101), then one text message per event, JSON of this schema.
        case socket(JSONValue)
        /// A body that is not JSON: its media type, and the others a request may choose instead (`?format=csv`).
        case text(contentType: String, alternatives: [String] = [])

        /// The media type of the success body.
        public var contentType: String {
            switch self {
            case .json, .jsonOrEvents, .jsonOrBinary, .empty, .socket: "application/json"
            case .events: "text/event-stream"
            case .text(let contentType, _): contentType
            }
        }

        /// The status of success.
        public var status: Int {
            switch self {
            case .json(_, let status): status
            case .empty: 204
            case .jsonOrEvents, .jsonOrBinary, .events, .text: 200
            case .socket: 101
            }
        }
    }

    /// The operation this route is.
    public let endpoint: Endpoint
    /// The HTTP method, upper case.
    public let method: String
    /// The path, with `{name}` parameters.
    public let path: String
    /// Who may call it.
    public let access: Access
    /// The scope an API key must hold to call it (``APIKeyScope/admin`` covers every scope); `nil` on a public route,
    /// and on a route any key may call (`/whoami`). A route that does not name one takes only `admin` keys.
    public let scope: APIKeyScope?
    /// Which rate-limit budget a call spends.
    public let rateLimit: RateLimitClass
    /// One line saying what it does.
    public let summary: String
    /// Its query parameters.
    public let query: [QueryParameter]
    /// Its body, for routes that take one.
    public let body: RequestBody?
    /// Its answer when it succeeds.
    public let response: Response
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
        _ endpoint: Endpoint, _ method: String, _ path: String, _ access: Access, scope: APIKeyScope? = .admin,
        _ summary: String, rateLimit: RateLimitClass = .default, query: [QueryParameter] = [], body: RequestBody? = nil,
        response: Response, bodyLimit: BodyLimit = .standard, errorFormat: ErrorFormat = .envelope,
        carriesCredentials: Bool = false, accessSetting: SettingKey? = nil
    ) {
        self.endpoint = endpoint
        self.method = method
        self.path = path
        self.access = access
        self.scope = access == .public ? nil : scope
        self.summary = summary
        self.rateLimit = rateLimit
        self.query = query
        self.body = body
        self.response = response
        self.bodyLimit = bodyLimit
        self.errorFormat = errorFormat
        self.carriesCredentials = carriesCredentials
        self.accessSetting = accessSetting
    }

    /// `POST /predict/{model}`: how logs and metrics name the route.
    public var key: String { "\(method) \(path)" }

    /// How it answers.
    public var transport: Transport {
        switch response {
        case .events: .eventStream
        case .socket: .webSocket
        case .json, .jsonOrEvents, .jsonOrBinary, .empty, .text: .plain
        }
    }

    /// The names of the path's `{name}` parameters, in order.
    public var parameterNames: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }

    /// The path with its parameters filled in order, each percent-encoded (RFC 3986 §2.3: everything but
    /// unreserved characters), so that any name stays one segment.
    public func path(_ values: String...) -> String { path(values) }

    /// ``path(_:)-(String...)`` with the values as an array.
    public func path(_ values: [String]) -> String {
        precondition(values.count == parameterNames.count, "\(key) takes \(parameterNames.count) parameters")
        var remaining = values[...]
        return path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") ? Self.percentEncoded(remaining.popFirst() ?? "") : String(segment)
        }.joined(separator: "/")
    }

    /// The bytes `text` stands for, each `%XX` decoded; `nil` when an escape is malformed (`%zz`, a `%` too near the
    /// end). Whether the bytes are acceptable text (UTF-8, no NUL) is the caller's rule.
    public static func percentDecoded(_ text: Substring) -> [UInt8]? {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hex), let low = iterator.next().flatMap(hex) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// `text` with everything but unreserved characters percent-encoded (RFC 3986 §2.3).
    public static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 15)])
            }
        }
        return out
    }
}
