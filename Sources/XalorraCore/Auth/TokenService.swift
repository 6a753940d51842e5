import JWTKit
import XalorraML

/// Mints and verifies tokens with the deployment's one secret and one pinned algorithm.
public struct TokenService: Sendable {
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public static let leewaySeconds: Int64 = 60

    /// The pinned algorithm.
    public let algorithm: TokenAlgorithm
    /// Whether tokens without `exp` are accepted.
    public let acceptLegacyTokens: Bool
    private let keys: JWTKeyCollection

    /// Creates a service signing with `secret` under `algorithm`.
    public init(secret: String, algorithm: TokenAlgorithm, acceptLegacyTokens: Bool = false) async {
        self.algorithm = algorithm
        self.acceptLegacyTokens = acceptLegacyTokens
        let (digest, digestBytes): (DigestAlgorithm, Int) =
            switch algorithm {
            case .hs256: (.sha256, 32)
            case .hs384: (.sha384, 48)
            case .hs512: (.sha512, 64)
            }
        // HMAC pads a key shorter than the hash's block size with zeros (RFC 2104 §2), so padding it here to the
        // digest length gives the same signatures as any other implementation, and satisfies jwt-kit, which
        // asserts a key of at least the digest's length.
        var key = Array(secret.utf8)
        if key.count < digestBytes { key += [UInt8](repeating: 0, count: digestBytes - key.count) }
        self.keys = await JWTKeyCollection().add(hmac: HMACKey(from: key), digestAlgorithm: digest)
    }

    /// Signs a new token for `user`.
    /// - Parameters:
    ///   - ttl: how long the token is valid.
    ///   - now: the issue time.
    ///   - id: the `jti`; refresh tokens are recorded under it before they are signed.
    public func mint(
        user: String, role: Role, tenant: String, kind: TokenClaims.Kind = .access, ttl: TimeSpan,
        now: Timestamp = .now(), id: String = TokenService.randomID()
    ) async throws(XalorraError) -> (token: String, claims: TokenClaims) {
        let claims = TokenClaims(
            user: user, role: role, tenant: tenant, kind: kind, issuedAt: now.seconds,
            expires: now.seconds + ttl.seconds, id: id)
        var header = JWTHeader()
        header.alg = algorithm.rawValue
        header.typ = "JWT"
        do {
            return (try await keys.sign(claims, header: header), claims)
        } catch {
            throw XalorraError(.internal, "could not sign the token")
        }
    }

    /// Verifies `token` and returns its claims, or throws the reason it is refused.
    /// - Parameters:
    ///   - expecting: the kind the caller needs; `nil` accepts either (for `token verify`).
    ///   - now: the time to check expiry against.
    ///   - allowExpired: accept a token past its `exp` (to revoke an expired refresh token at logout).
    public func verify(
        _ token: String, expecting: TokenClaims.Kind? = .access, now: Timestamp = .now(), allowExpired: Bool = false
    ) async throws(XalorraError) -> TokenClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
            case .object = (try? JSONParser.parse(headerBytes)) ?? .null
        else {
            throw refused("malformed token: expected three base64url parts (header.payload.signature)")
        }
        let header = (try? JSONParser.parse(headerBytes)) ?? .null
        guard let alg = header["alg"]?.stringValue else { throw refused("malformed token: the header has no alg") }
        // Pin the algorithm before any cryptography: jwt-kit picks its key without comparing `alg` (RFC 8725 §3.1).
        if alg.lowercased() == "none" { throw refused("unsigned tokens (alg: none) are refused") }
        guard alg == algorithm.rawValue else {
            throw refused("wrong algorithm: the token uses \(alg), this deployment accepts only \(algorithm.rawValue)")
        }
        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw refused("bad signature: the token was not signed with this deployment's secret")
        } catch {
            throw refused("malformed token: the claims are not valid (need user_id or sub, role, tenant)")
        }
        let clock = now.seconds
        if let exp = claims.exp {
            if exp + Self.leewaySeconds < clock, !allowExpired {
                throw XalorraError(.tokenExpired, "token expired at \(Timestamp(microseconds: exp * 1_000_000).iso8601Seconds)")
            }
        } else if !acceptLegacyTokens {
            throw refused("the token has no exp claim (set XALORRA_ACCEPT_LEGACY_TOKENS=1 to accept seed-style tokens)")
        }
        if let iat = claims.iat, iat > clock + Self.leewaySeconds {
            throw refused("the token is not valid yet (issued in the future)")
        }
        if let nbf = Self.notBefore(parts[1]), nbf > clock + Self.leewaySeconds {
            throw refused("the token is not valid yet (nbf is in the future)")
        }
        if let expecting, (claims.typ ?? .access) != expecting {
            let article = expecting == .access ? "an" : "a"
            throw refused("a \((claims.typ ?? .access).rawValue) token cannot be used as \(article) \(expecting.rawValue) token")
        }
        return claims
    }

    private func refused(_ message: String) -> XalorraError { XalorraError(.authenticationFailed, message) }

    /// The `nbf` claim, which ``TokenClaims`` does not carry because xalorra never issues it.
    private static func notBefore(_ payload: Substring) -> Int64? {
        guard let bytes = Base64URL.decode(payload), case .number(let value)? = (try? JSONParser.parse(bytes))?["nbf"]
        else { return nil }
        return Int64(exactly: value.doubleValue.rounded(.up))
    }

    /// 128 random bits in hex: a fresh `jti`.
    public static func randomID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = UInt64.random(in: .min ... .max, using: &generator)
        let low = UInt64.random(in: .min ... .max, using: &generator)
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(high) + hex(low)
    }
}
