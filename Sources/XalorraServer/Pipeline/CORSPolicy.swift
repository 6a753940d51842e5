import HTTPTypes
import XalorraCore

/// Cross-origin access for browsers (`serve --cors-origin`, `XALORRA_CORS_ORIGINS`): which origins may call the
/// API, the preflight answer, and the headers every allowed response carries. With no origins configured it is
/// absent and no CORS header is ever sent.
///
/// The pipeline's second stage (``admit(_:routes:rateLimit:)``), so that every answer, an error included, carries
/// the fields a browser needs to let the script read it.
struct CORSPolicy: Sendable {
    /// Allowed origins; `*` allows any.
    let origins: Set<String>

    init?(origins: [String]) {
        guard !origins.isEmpty else { return nil }
        self.origins = Set(origins)
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, or nil when it is not allowed.
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin else { return nil }
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }

    /// Adds the CORS fields to `exchange`'s answer and answers a preflight (`OPTIONS` with
    /// `Access-Control-Request-Method`, from an allowed origin, for a path that exists): 204 with the path's methods.
    /// A preflight is a request too: it spends the client's default budget.
    func admit(
        _ exchange: inout Exchange, routes: RouteMatching, rateLimit: RateLimiting
    ) throws(XalorraError) -> HTTPOutput? {
        addVary(to: &exchange.headers)
        guard let origin = allowedOrigin(exchange.head.headerFields[.origin]) else { return nil }
        addHeaders(for: origin, to: &exchange.headers)
        guard exchange.head.method == .options, exchange.head.headerFields[.accessControlRequestMethod] != nil,
            let methods = routes.methods(of: exchange.uri.path)
        else { return nil }
        try rateLimit.spend(.default, key: RateLimiting.addressKey(exchange.remoteAddress), headers: &exchange.headers)
        preflight(
            origin: origin, methods: methods, requested: exchange.head.headerFields[.accessControlRequestHeaders],
            headers: &exchange.headers)
        return HTTPOutput(status: 204, body: [], contentType: "")
    }

    /// `Vary: Origin` on every response, allowed origin, other origin or none, unless any origin is allowed: the
    /// answer then depends on the request's `Origin`, and a shared cache must not hand one origin's to another.
    func addVary(to headers: inout HTTPFields) {
        if !origins.contains("*") { headers[.vary] = "Origin" }
    }

    /// Headers of every response to an allowed origin: the origin, and the response headers scripts may read.
    func addHeaders(for origin: String, to headers: inout HTTPFields) {
        headers[.accessControlAllowOrigin] = origin
        headers[.accessControlExposeHeaders] =
            "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit, RateLimit-Policy, Retry-After, "
            + "Inference-Header-Content-Length"
    }

    /// The request fields an allowed origin's scripts may send: the token, the body's type and encoding, the inference
    /// protocol's binary framing, a stream's resume point.
    static let allowedFields =
        "Authorization, Content-Type, Content-Encoding, Inference-Header-Content-Length, Last-Event-ID, X-API-Key"

    /// The fields a preflight may allow: those it asks for (`Access-Control-Request-Headers`), when each is a field
    /// name (the OpenAI SDKs send their own `X-Stainless-*` fields, and an allowed origin's scripts authenticate with
    /// bearer tokens, never cookies), else ``allowedFields``.
    static func allowedFields(requested: String?) -> String {
        guard let requested else { return allowedFields }
        let names = requested.split(separator: ",").map { $0.trimmingWhitespace() }
        guard !names.isEmpty, names.count <= 64,
            names.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 128 && $0.utf8.allSatisfy(isFieldNameByte) })
        else { return allowedFields }
        return allowedFields + ", " + names.joined(separator: ", ")
    }

    /// A byte of a field name (RFC 9110 `token`).
    private static func isFieldNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) for a path that has `methods`.
    func preflight(origin: String, methods: [String], requested: String?, headers: inout HTTPFields) {
        addHeaders(for: origin, to: &headers)
        headers[.accessControlAllowMethods] = methods.joined(separator: ", ")
        headers[.accessControlAllowHeaders] = Self.allowedFields(requested: requested)
        // The allowed fields follow the request's: a shared cache must not hand one preflight's answer to another.
        headers[.vary] = origins.contains("*") ? "Access-Control-Request-Headers" : "Origin, Access-Control-Request-Headers"
        headers[.accessControlMaxAge] = "600"
    }
}
