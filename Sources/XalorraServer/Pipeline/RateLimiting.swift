import HTTPTypes
import Logging
import XalorraCore

/// The pipeline's fifth stage: counts the request against its route's budget (by the caller's user, or by address
/// on public routes and for anonymous clients), refuses it with 429 past the budget, and gives every answer the
/// `X-RateLimit-*` (the seed's) and IETF `RateLimit-Policy` / `RateLimit` fields. With rate limiting off it does
/// nothing and no such field is sent.
///
/// Answers written before a request reaches the responder (a malformed head, a body too slow, Hummingbird's own)
/// get the fields too, by address: see ``earlyHeaders(address:counting:)``.
struct RateLimiting: Sendable {
    let limiter: RateLimiter?
    /// The counters every instance on the store shares (PostgreSQL), or nil (SQLite): API keys' own budgets, which
    /// hold whether rate limiting is on or not, are counted there too.
    let shared: (any RateLimitCounterRepository)?

    /// - Parameter shared: counters shared by every instance on the store (PostgreSQL), or nil (SQLite).
    init(on: Bool, shared: (any RateLimitCounterRepository)? = nil, logger: Logger = Logger(label: "xalorra")) {
        limiter = on ? RateLimiter(shared: shared, logger: logger) : nil
        self.shared = shared
    }

    var isOn: Bool { limiter != nil }

    /// Spends the matched route's budget for `exchange`. Public routes (login, register, refresh) count by address
    /// even when a token comes along: keyed by the token's user, any valid token (one's own account's) would buy a
    /// fresh login budget for guessing someone else's password. A small budget is counted exactly in the counters
    /// the instances share, when they do (``RateLimiter/countShared(_:key:now:)``).
    func spend(_ exchange: inout Exchange) async throws(XalorraError) {
        guard let limiter, let route = exchange.route else { return }
        let caller = exchange.access == .public ? nil : exchange.caller
        let key = caller.map(Self.userKey) ?? Self.addressKey(exchange.remoteAddress)
        let now = Timestamp.now().seconds
        let decision = await limiter.countShared(route.rateLimit, key: key, now: now)
        exchange.firstRefusal = !decision.allowed && decision.firstRefusal
        try Self.apply(decision, now: now, to: &exchange.headers)
    }

    /// Counts a request against `budget` for `key`, adds the rate-limit fields, and refuses it with 429 past the
    /// budget.
    func spend(_ budget: RateLimitClass, key: String, headers: inout HTTPFields) throws(XalorraError) {
        var firstRefusal = false
        try spend(budget, key: key, headers: &headers, firstRefusal: &firstRefusal)
    }

    private func spend(
        _ budget: RateLimitClass, key: String, headers: inout HTTPFields, firstRefusal: inout Bool
    ) throws(XalorraError) {
        guard let limiter else { return }
        let now = Timestamp.now().seconds
        let decision = limiter.count(budget, key: key, now: now)
        firstRefusal = !decision.allowed && decision.firstRefusal
        try Self.apply(decision, now: now, to: &headers)
    }

    /// Adds `decision`'s fields, and refuses the request with 429 past the budget.
    private static func apply(_ decision: RateLimiter.Decision, now: Int64, to headers: inout HTTPFields) throws(XalorraError) {
        addFields(decision, now: now, to: &headers)
        guard decision.allowed else {
            headers[.retryAfter] = "\(decision.retryAfter)"
            throw XalorraError(
                .rateLimited, "Too many requests. Please try again later.", retryAfter: decision.retryAfter)
        }
    }

    /// The rate-limit fields of an answer written below the responder, for the client at `address` in the default
    /// budget: counting the request (one the responder never saw, such as a malformed head) or only reporting
    /// where the client stands (one it already counted, such as a body that stopped arriving). Empty when off.
    func earlyHeaders(address: String?, counting: Bool) -> HTTPFields {
        var headers = HTTPFields()
        guard let limiter else { return headers }
        let now = Timestamp.now().seconds
        let key = Self.addressKey(address)
        let decision =
            counting ? limiter.count(.default, key: key, now: now) : limiter.standing(.default, key: key, now: now)
        Self.addFields(decision, now: now, to: &headers)
        return headers
    }

    /// The rate-limit key of an anonymous client: its address (an IPv6 client's /64, see ``ClientAddress``).
    static func addressKey(_ remoteAddress: String?) -> String { "ip:" + ClientAddress.limitKey(remoteAddress) }

    /// The rate-limit key of an authenticated caller.
    static func userKey(_ caller: Caller) -> String { "user:" + caller.user }

    /// The name of the field every answer carries when rate limiting is on.
    static let limitField = HTTPField.Name("X-RateLimit-Limit")!

    private static let remainingField = HTTPField.Name("X-RateLimit-Remaining")!
    private static let resetField = HTTPField.Name("X-RateLimit-Reset")!
    private static let policyField = HTTPField.Name("RateLimit-Policy")!
    private static let stateField = HTTPField.Name("RateLimit")!

    private static func addFields(_ decision: RateLimiter.Decision, now: Int64, to headers: inout HTTPFields) {
        let secondsLeft = max(0, decision.reset - now)
        headers[limitField] = "\(decision.limit)"
        headers[remainingField] = "\(decision.remaining)"
        headers[resetField] = "\(decision.reset)"
        headers[policyField] = "\"\(decision.className)\";q=\(decision.limit);w=\(decision.windowSeconds)"
        headers[stateField] = "\"\(decision.className)\";r=\(decision.remaining);t=\(secondsLeft)"
    }
}
