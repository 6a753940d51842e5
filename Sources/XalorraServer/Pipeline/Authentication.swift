import HTTPTypes
import XalorraCore

/// The pipeline's fourth stage, and the one place a request's credentials are read: `Authorization: Bearer` (a JWT
/// or an API key, `xal_…`), `X-API-Key: xal_…`, or `?access_token=` on streaming routes (browsers' `EventSource` and
/// `WebSocket` cannot send a header); the token's signature (skipped for a token verified before, see
/// ``TokenCache``) or the key's digest (``LocalAPI/caller(forKey:)``, cached the same way); and the store's word on
/// the account it names (disabled, deleted, replaced: ``LocalAPI/caller(for:)``). WebSocket upgrades come through
/// here too. A key's own rate limit is spent here, as part of its credential, on top of the route's budget.
///
/// A refused token is not an error yet: a public route ignores it, and the access check throws it only where a
/// caller is needed. It is done before the rate limit, which counts by user rather than by address when it can.
struct Authentication: Sendable {
    let tokens: TokenService
    let api: LocalAPI
    private let verified = TokenCache()
    /// Each key's own budget (``APIKeyGrant/rate``), counted whether or not the routes' limits are on.
    /// API keys' own budgets (`--rate`), shared by every instance on the store as the routes' budgets are.
    private let keyLimits: RateLimiter

    /// `X-API-Key`.
    static let apiKeyField = HTTPField.Name("X-API-Key")!

    init(tokens: TokenService, api: LocalAPI, sharedCounters: (any RateLimitCounterRepository)? = nil) {
        self.tokens = tokens
        self.api = api
        keyLimits = RateLimiter(shared: sharedCounters)
    }

    /// Sets `exchange`'s caller, or the reason its credential was refused; takes `access_token` out of the query.
    func authenticate(_ exchange: inout Exchange) async {
        var header = exchange.head.headerFields[.authorization]
        if header == nil, exchange.route?.transport.acceptsQueryToken == true,
            let given = exchange.query.removeValue(forKey: "access_token")
        {
            header = "Bearer " + given
        }
        do {
            if let header {
                exchange.caller = try await caller(authorization: header)
            } else if let key = exchange.head.headerFields[Self.apiKeyField] {
                exchange.caller = try await caller(apiKey: key)
            } else {
                return
            }
            // Where a change comes from, for the audit log; reads change nothing, and need not format an address.
            if exchange.head.method != .get, exchange.head.method != .head {
                let address = exchange.remoteAddress
                exchange.caller?.origin = address
            }
            if let grant = exchange.caller?.key, let rate = grant.rate {
                try await spendKeyBudget(rate, key: grant.id, headers: &exchange.headers)
            }
        } catch {
            exchange.caller = nil
            exchange.authenticationError = error
        }
    }

    /// Verifies `Bearer <token>` as an access token or an API key and resolves its caller: account and expiry filled.
    func caller(authorization header: String) async throws(XalorraError) -> Caller {
        // Before any work on it (trimming, hashing for the cache): no token of ours is this long.
        guard header.utf8.count <= TokenService.maxTokenBytes + 32 else {
            throw XalorraError(.authenticationFailed, "The Authorization header is longer than 8 KiB")
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw XalorraError(.authenticationFailed, "The Authorization header must be `Bearer <token>`")
        }
        let token = Settings.stripBearer(header)
        if APIKeySecret.looksLikeKey(token) { return try await caller(apiKey: token) }
        let claims: TokenClaims
        if let cached = verified.claims(for: token, now: Timestamp.now().seconds) {
            claims = cached
        } else {
            claims = try await tokens.verify(token, expecting: .access)
            verified.store(claims, for: token)
        }
        // The store resolves whom the token stands for (its account, or its name alone), or refuses it.
        return try await api.caller(for: claims)
    }

    /// Resolves an API key's caller: its owner, with the key's grant. Never repeats the key in an error.
    func caller(apiKey: String) async throws(XalorraError) -> Caller {
        guard apiKey.utf8.count <= 1024 else { throw XalorraError(.authenticationFailed, "Invalid API key") }
        let key = Settings.stripBearer(apiKey)
        guard key.utf8.count == APIKeySecret.length else { throw XalorraError(.authenticationFailed, "Invalid API key") }
        return try await api.caller(forKey: key)
    }

    /// Counts a request against a key's own budget; 429 with `Retry-After` past it.
    private func spendKeyBudget(_ rate: APIKeyRate, key: String, headers: inout HTTPFields) async throws(XalorraError) {
        let now = Timestamp.now().seconds
        let decision = await keyLimits.countShared(rate.budget, key: key, now: now)
        guard decision.allowed else {
            headers[.retryAfter] = "\(decision.retryAfter)"
            throw XalorraError(
                .rateLimited, "This API key's rate limit (\(rate)) is spent; try again later",
                retryAfter: decision.retryAfter)
        }
    }
}
