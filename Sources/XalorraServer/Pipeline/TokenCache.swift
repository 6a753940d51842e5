import Synchronization
import XalorraCore

/// Claims of recently verified access tokens, so a client sending the same token again skips the signature check
/// and JSON decoding. A hit is only used while the token's `exp` (with the service's leeway) has not passed; the
/// table is bounded and simply emptied when full.
final class TokenCache: Sendable {
    private let entries = Mutex<[String: TokenClaims]>([:])
    private let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    /// The cached claims for `token`, if they are still valid at `now` (epoch seconds). A token longer than any the
    /// service verifies is not even hashed.
    func claims(for token: String, now: Int64) -> TokenClaims? {
        guard token.utf8.count <= TokenService.maxTokenBytes,
            let claims = entries.withLock({ $0[token] })
        else { return nil }
        if let exp = claims.exp, exp.addingSaturating(TokenService.leewaySeconds) < now {
            _ = entries.withLock { $0.removeValue(forKey: token) }
            return nil
        }
        return claims
    }

    /// Remembers verified `claims` for `token`.
    func store(_ claims: TokenClaims, for token: String) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }
}
