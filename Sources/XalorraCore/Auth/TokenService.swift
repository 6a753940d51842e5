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

    /// The longest token verified: more is refused before any decoding or cryptography. xalorra's own tokens are
    /// about 300 bytes.
    public static let maxTokenBytes = 8192

    /// Signs a new token for `user`.
    /// - Parameters:
    ///   - ttl: how long the token is valid.
    ///   - now: the issue time.
    ///   - id: the `jti`; refresh tokens are recorded under it before they are signed.
    public func mint(
        user: String, role: Role, tenant: String, kind: TokenClaims.Kind = .access, ttl: TimeSpan,
        now: Timestamp = .now(), id: String = TokenService.randomID()
    ) async throws(XalorraError) -> (token: String, claims: TokenClaims) {
        let expires = now.seconds.addingSaturating(ttl.seconds)
        guard (0...TokenClaims.maxNumericDate).contains(expires) else {
            throw XalorraError.invalid("ttl", "the token would expire after \(TokenClaims.maxNumericDate)")
        }
        let claims = TokenClaims(
            user: user, role: role, tenant: tenant, kind: kind, issuedAt: now.seconds, expires: expires, id: id)
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
    ///
    /// The token is read strictly (RFC 7515, RFC 7519, RFC 8725): at most ``maxTokenBytes``, three canonical
    /// base64url parts, a header and a payload that are JSON objects with each member once, the pinned `alg`, no
    /// `crit` (xalorra understands no extension), a `typ` header of `JWT` if any, then the signature, then the claims
    /// (see ``TokenClaims/init(payload:)``) and the times, with ``leewaySeconds`` of clock skew.
    /// - Parameters:
    ///   - expecting: the kind the caller needs; `nil` accepts either (for `token verify`).
    ///   - now: the time to check expiry against.
    ///   - allowExpired: accept a token past its `exp` (to revoke an expired refresh token at logout).
    public func verify(
        _ token: String, expecting: TokenClaims.Kind? = .access, now: Timestamp = .now(), allowExpired: Bool = false
    ) async throws(XalorraError) -> TokenClaims {
        guard token.utf8.count <= Self.maxTokenBytes else {
            throw refused("the token is longer than \(Self.maxTokenBytes) bytes")
        }
        let parts = token.utf8.split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(bytes: parts[0]),
            let payloadBytes = Base64URL.decode(bytes: parts[1])
        else {
            throw refused("malformed token: expected three unpadded base64url parts (header.payload.signature)")
        }
        // Any other spelling of a signature (padding, other trailing bits) is not the one this secret made.
        guard Base64URL.decode(bytes: parts[2]) != nil else {
            throw refused("bad signature: the signature is not unpadded, canonical base64url")
        }
        let header = try Self.object(headerBytes, part: "header")
        guard let alg = header["alg"]?.stringValue else { throw refused("malformed token: the header has no alg") }
        // Pin the algorithm before any cryptography: jwt-kit picks its key without comparing `alg` (RFC 8725 §3.1).
        if alg.lowercased() == "none" { throw refused("unsigned tokens (alg: none) are refused") }
        guard alg == algorithm.rawValue else {
            throw refused("wrong algorithm: the token uses \(alg), this deployment accepts only \(algorithm.rawValue)")
        }
        // RFC 7515 §4.1.11: a recipient that does not understand a critical extension must refuse the token.
        if header["crit"] != nil {
            throw refused("the token names critical header extensions (crit), which xalorra does not support")
        }
        if let typ = header["typ"], typ.stringValue?.uppercased() != "JWT" {
            throw refused("malformed token: the header's typ must be JWT")
        }
        do {
            _ = try await keys.verify(token, as: SignedPayload.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw refused("bad signature: the token was not signed with this deployment's secret")
        } catch {
            throw refused("malformed token: the signature could not be checked")
        }
        let claims = try TokenClaims(payload: try Self.object(payloadBytes, part: "payload"))
        // The claims are at most TokenClaims.maxNumericDate, so these sums cannot overflow; saturate all the same.
        let clock = now.seconds
        if let exp = claims.exp {
            if exp.addingSaturating(Self.leewaySeconds) < clock, !allowExpired {
                throw XalorraError(.tokenExpired, "token expired at \(Timestamp(seconds: exp).iso8601Seconds)")
            }
        } else if !acceptLegacyTokens {
            throw refused("the token has no exp claim (set XALORRA_ACCEPT_LEGACY_TOKENS=1 to accept seed-style tokens)")
        }
        if let iat = claims.iat, iat > clock.addingSaturating(Self.leewaySeconds) {
            throw refused("the token is not valid yet (issued in the future)")
        }
        if let nbf = claims.nbf, nbf > clock.addingSaturating(Self.leewaySeconds) {
            throw refused("the token is not valid yet (nbf is in the future)")
        }
        if let expecting, (claims.typ ?? .access) != expecting {
            let article = expecting == .access ? "an" : "a"
            let kind = (claims.typ ?? .access).rawValue
            throw refused("a \(kind) token cannot be used as \(article) \(expecting.rawValue) token")
        }
        return claims
    }

    private func refused(_ message: String) -> XalorraError { XalorraError(.authenticationFailed, message) }

    /// The JSON object in a token's decoded `part`, each member named once: with a duplicate, two readers of the
    /// same signed token could see different claims.
    private static func object(_ bytes: [UInt8], part: String) throws(XalorraError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw XalorraError(
                .authenticationFailed, "malformed token: the \(part) is not a JSON object (\(error.reason))")
        }
        guard case .object(let members) = value else {
            throw XalorraError(.authenticationFailed, "malformed token: the \(part) is not a JSON object")
        }
        var seen = Set<String>()
        for (name, _) in members where !seen.insert(name).inserted {
            throw XalorraError(.authenticationFailed, "malformed token: duplicate key \"\(name)\" in the \(part)")
        }
        return value
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

/// What jwt-kit decodes when it checks a signature: nothing. The claims are read afterwards, strictly, by
/// ``TokenClaims/init(payload:)``; jwt-kit's lenient decoding would otherwise be a second, different reader.
private struct SignedPayload: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
