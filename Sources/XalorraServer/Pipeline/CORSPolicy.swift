import HTTPTypes

/// Cross-origin access for browsers (`serve --cors-origin`, `XALORRA_CORS_ORIGINS`): which origins may call the
/// API, the preflight answer, and the headers every allowed response carries. With no origins configured it is
/// absent and no CORS header is ever sent.
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

    /// `Vary: Origin` on every response, allowed origin, other origin or none, unless any origin is allowed: the
    /// answer then depends on the request's `Origin`, and a shared cache must not hand one origin's to another.
    func addVary(to headers: inout HTTPFields) {
        if !origins.contains("*") { headers[.vary] = "Origin" }
    }

    /// Headers of every response to an allowed origin: the origin, and the response headers scripts may read.
    func addHeaders(for origin: String, to headers: inout HTTPFields) {
        headers[.accessControlAllowOrigin] = origin
        headers[.accessControlExposeHeaders] =
            "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit, RateLimit-Policy, Retry-After"
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) for a path that has `methods`.
    func preflight(origin: String, methods: [String], headers: inout HTTPFields) {
        addHeaders(for: origin, to: &headers)
        headers[.accessControlAllowMethods] = methods.joined(separator: ", ")
        headers[.accessControlAllowHeaders] = "Authorization, Content-Type"
        headers[.accessControlMaxAge] = "600"
    }
}
