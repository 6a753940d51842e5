import HTTPTypes
import XalorraCore

/// The pipeline's fourth stage, and the one place a request's credentials are read: `Authorization: Bearer`, or
/// `?access_token=` on streaming routes (browsers' `EventSource` and `WebSocket` cannot send a header); the
/// token's signature (skipped for a token verified before, see ``TokenCache``); and the store's word on the account
/// it names (disabled, deleted, replaced: ``LocalAPI/caller(for:)``). WebSocket upgrades come through here too.
///
/// A refused token is not an error yet: a public route ignores it, and the access check throws it only where a
/// caller is needed. It is done before the rate limit, which counts by user rather than by address when it can.
struct Authentication: Sendable {
    let tokens: TokenService
    let api: LocalAPI
    private let verified = TokenCache()

    init(tokens: TokenService, api: LocalAPI) {
        self.tokens = tokens
        self.api = api
    }

    /// Sets `exchange`'s caller, or the reason its token was refused; takes `access_token` out of the query.
    func authenticate(_ exchange: inout Exchange) async {
        var header = exchange.head.headerFields[.authorization]
        if header == nil, exchange.route?.transport.acceptsQueryToken == true,
            let given = exchange.query.removeValue(forKey: "access_token")
        {
            header = "Bearer " + given
        }
        guard let header else { return }
        do {
            exchange.caller = try await caller(authorization: header)
        } catch {
            exchange.authenticationError = error
        }
    }

    /// Verifies `Bearer <token>` as an access token and resolves its caller: account and expiry filled.
    func caller(authorization header: String) async throws(XalorraError) -> Caller {
        // Before any work on it (trimming, hashing for the cache): no token of ours is this long.
        guard header.utf8.count <= TokenService.maxTokenBytes + 32 else {
            throw XalorraError(.authenticationFailed, "The Authorization header is longer than 8 KiB")
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw XalorraError(.authenticationFailed, "The Authorization header must be `Bearer <token>`")
        }
        let token = Settings.stripBearer(header)
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
}
