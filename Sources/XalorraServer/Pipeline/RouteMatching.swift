import HTTPTypes
import XalorraCore

/// The pipeline's third stage: finds the route (404 or 405 with `Allow` when there is none), its path parameters,
/// its query and the access it needs. `HEAD` is answered by a path's `GET` route (DESIGN §3; the body is left out
/// when the response is written), unless that route streams: a stream's answer has no end to leave out. A request that matches nothing spends the default budget all the same (by
/// the token's user when it carries a valid one, else by address): otherwise probing unknown paths would cost a
/// client nothing.
struct RouteMatching: Sendable {
    let matcher: RouteMatcher
    /// Who may read `GET /metrics` without an admin token.
    let metricsAccess: ServerMetrics.Access

    init(routes: [Route], metricsAccess: ServerMetrics.Access) {
        matcher = RouteMatcher(routes: routes)
        self.metricsAccess = metricsAccess
    }

    /// Sets `exchange`'s route, parameters, query and access, or refuses it after spending the unmatched budget.
    func match(
        _ exchange: inout Exchange, authentication: Authentication, rateLimit: RateLimiting
    ) async throws(XalorraError) {
        let method = exchange.head.method.rawValue
        let path = exchange.uri.path
        let route: Route
        var match = matcher.match(method: method, path: path)
        if case .methodNotAllowed = match, exchange.head.method == .head {
            let get = matcher.match(method: "GET", path: path)
            if case .found(let route, _) = get, route.transport == .plain { match = get }
        }
        switch match {
        case .found(let found, let parameters):
            // No stored name holds a NUL (no store keeps one in text), so a path naming one names nothing.
            guard !parameters.values.contains(where: Self.holdsNUL) else {
                throw XalorraError(.notFound, "Not found: \(method) \(APIKeySecret.redacted(path))")
            }
            route = found
            exchange.parameters = parameters
        case .notFound:
            try await spendUnmatched(&exchange, authentication: authentication, rateLimit: rateLimit)
            // A key pasted into a URL is not echoed back.
            throw XalorraError(.notFound, "Not found: \(method) \(APIKeySecret.redacted(path))")
        case .methodNotAllowed(let methods):
            try await spendUnmatched(&exchange, authentication: authentication, rateLimit: rateLimit)
            exchange.headers[.allow] = methods.joined(separator: ", ")
            throw XalorraError(
                .methodNotAllowed, "Method \(method) not allowed; use \(methods.joined(separator: ", "))")
        }
        // Credentials, and every answer for a signed-in caller (logs, chats, models, users), are nobody's to cache.
        if route.carriesCredentials || route.access != .public { exchange.headers[.cacheControl] = "no-store" }
        for (name, value) in exchange.uri.queryParameters {
            let value = String(value)
            // Every query parameter is text some store may compare: the one rule for all of them (`TextRule`'s
            // default refuses NUL in bodies).
            if Self.holdsNUL(value) {
                throw XalorraError(.validation, "A query parameter must not contain U+0000")
            }
            exchange.query[String(name)] = value
        }
        exchange.access = route.access
        if route.accessSetting == .metricsAccess, metricsAccess.admits(exchange.remoteAddress) {
            exchange.access = .public
        }
        exchange.route = route
    }

    /// Whether `text` holds U+0000.
    private static func holdsNUL(_ text: String) -> Bool { text.utf8.contains(0) }

    /// The methods a path has, or nil when it matches no route (for a CORS preflight).
    func methods(of path: String) -> [String]? {
        guard case .methodNotAllowed(let methods) = matcher.match(method: "OPTIONS", path: path) else { return nil }
        return methods
    }

    /// Spends the default budget for a request that matched no route. A bad token is not an error here: the answer
    /// stays 404 or 405.
    private func spendUnmatched(
        _ exchange: inout Exchange, authentication: Authentication, rateLimit: RateLimiting
    ) async throws(XalorraError) {
        guard rateLimit.isOn else { return }
        var key = RateLimiting.addressKey(exchange.remoteAddress)
        if let header = exchange.head.headerFields[.authorization],
            let caller = try? await authentication.caller(authorization: header)
        {
            key = RateLimiting.userKey(caller)
        }
        try rateLimit.spend(.default, key: key, headers: &exchange.headers)
    }
}
