import Testing
@testable import XalorraCore

/// JWT minting and verification, including the RFC 8725 attacks.
struct TokenServiceTests {
    static let secret = "0123456789abcdef0123456789abcdef"
    let now = Timestamp(microseconds: 1_800_000_000 * 1_000_000)

    private func service(_ algorithm: TokenAlgorithm = .hs256, secret: String = secret, legacy: Bool = false) async
        -> TokenService
    {
        await TokenService(secret: secret, algorithm: algorithm, acceptLegacyTokens: legacy)
    }

    /// Builds a token by hand, signed with HMAC-SHA256 over the given header and payload JSON.
    private func forge(header: String, payload: String, secret: String = secret) -> String {
        let signingInput = base64URL(Array(header.utf8)) + "." + base64URL(Array(payload.utf8))
        return signingInput + "." + base64URL(HMACSHA256.mac(key: Array(secret.utf8), message: Array(signingInput.utf8)))
    }

    private func reason(_ token: String, _ service: TokenService, expecting: TokenClaims.Kind? = .access) async
        -> XalorraError?
    {
        do {
            _ = try await service.verify(token, expecting: expecting, now: now)
            return nil
        } catch {
            return error
        }
    }

    /// A minted token verifies and carries every claim of DESIGN §3.
    @Test func roundTrip() async throws {
        let tokens = await service()
        let (token, claims) = try await tokens.mint(
            user: "jek", role: .admin, tenant: "t1", ttl: TimeSpan(seconds: 3600), now: now)
        let verified = try await tokens.verify(token, now: now)
        #expect(verified == claims)
        #expect(verified.sub == "jek" && verified.userID == "jek" && verified.role == .admin && verified.tenant == "t1")
        #expect(verified.typ == .access && verified.exp == now.seconds + 3600 && verified.iat == now.seconds)
        #expect(verified.jti?.count == 32)
    }

    /// The hand-built HMAC used by the attack tests agrees with jwt-kit's, so the attacks are real.
    @Test func forgedTokensUseTheRealSignature() async throws {
        let payload = #"{"sub":"a","user_id":"a","role":"user","tenant":"t","exp":1800003600}"#
        let token = forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload)
        #expect(try await service().verify(token, now: now).userID == "a")
    }

    /// `alg: none` is refused, with or without a signature.
    @Test func algNoneRefused() async {
        let payload = #"{"sub":"a","user_id":"a","role":"admin","tenant":"t","exp":1800003600}"#
        let unsigned = base64URL(Array(#"{"alg":"none"}"#.utf8)) + "." + base64URL(Array(payload.utf8)) + "."
        let error = await reason(unsigned, service())
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("alg: none") == true)
        let noneCased = forge(header: #"{"alg":"NoNe"}"#, payload: payload)
        #expect(await reason(noneCased, service())?.message.contains("alg: none") == true)
    }

    /// A token in another HMAC algorithm is refused even when signed with the right secret.
    @Test func otherAlgorithmRefused() async throws {
        let (token, _) = try await service(.hs512).mint(
            user: "a", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60), now: now)
        let error = await reason(token, service(.hs256))
        #expect(error?.message.contains("wrong algorithm") == true)
    }

    /// Changing one claim breaks the signature.
    @Test func tamperedPayloadRefused() async throws {
        let (token, _) = try await service().mint(user: "a", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60), now: now)
        let parts = token.split(separator: ".")
        let payload = #"{"sub":"a","user_id":"a","role":"admin","tenant":"t","exp":1800003600}"#
        let tampered = "\(parts[0]).\(base64URL(Array(payload.utf8))).\(parts[2])"
        #expect(await reason(tampered, service())?.message.contains("bad signature") == true)
    }

    /// A token signed with another secret is refused.
    @Test func wrongSecretRefused() async throws {
        let (token, _) = try await service(secret: "another-secret-another-secret-xx").mint(
            user: "a", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60), now: now)
        #expect(await reason(token, service())?.message.contains("bad signature") == true)
    }

    /// An expired token is refused as TOKEN_EXPIRED, after the 60 s leeway.
    @Test func expiredRefused() async throws {
        let tokens = await service()
        let (token, _) = try await tokens.mint(user: "a", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60), now: now)
        let later = now.adding(seconds: 60 + TokenService.leewaySeconds + 1)
        await #expect(throws: XalorraError.self) { try await tokens.verify(token, now: later) }
        do {
            _ = try await tokens.verify(token, now: later)
        } catch {
            #expect(error.code == .tokenExpired)
        }
        _ = try await tokens.verify(token, now: now.adding(seconds: 60 + TokenService.leewaySeconds))
    }

    /// A refresh token is never an access token.
    @Test func refreshAsAccessRefused() async throws {
        let tokens = await service()
        let (token, _) = try await tokens.mint(
            user: "a", role: .user, tenant: "t", kind: .refresh, ttl: TimeSpan(seconds: 60), now: now)
        #expect(await reason(token, tokens)?.message.contains("refresh token cannot be used as an access") == true)
        #expect(await reason(token, tokens, expecting: .refresh) == nil)
        #expect(await reason(token, tokens, expecting: nil) == nil)
    }

    /// Seed-style tokens without `exp` are refused unless legacy tokens are switched on.
    @Test func missingExpiry() async {
        let seed = forge(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: #"{"user_id":"jek","role":"admin","tenant":"tenant1"}"#)
        #expect(await reason(seed, service())?.message.contains("no exp") == true)
        #expect(await reason(seed, service(legacy: true)) == nil)
    }

    /// Tokens not valid yet (iat or nbf in the future) are refused.
    @Test func notYetValidRefused() async {
        let future = forge(
            header: #"{"alg":"HS256"}"#, payload: #"{"sub":"a","role":"user","tenant":"t","exp":1900000000,"nbf":1850000000}"#)
        #expect(await reason(future, service())?.message.contains("not valid yet") == true)
    }

    /// `kid` and `jku` headers do not change which key verifies.
    @Test func keyHeadersIgnored() async {
        let payload = #"{"sub":"a","role":"user","tenant":"t","exp":1800003600}"#
        let token = forge(header: #"{"alg":"HS256","kid":"other","jku":"http://evil.example/jwks"}"#, payload: payload, secret: "attacker-secret-attacker-secret!")
        #expect(await reason(token, service())?.message.contains("bad signature") == true)
    }

    /// Garbage is refused as malformed, never a crash.
    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", "eyJhbGciOiJIUzI1NiJ9.e30.", "e30.e30.e30"])
    func malformedRefused(token: String) async {
        let error = await reason(token, service())
        #expect(error?.code == .authenticationFailed)
    }
}

/// A test-only HMAC-SHA256 (RFC 2104 over FIPS 180-4), independent of jwt-kit, to forge attack tokens.
enum HMACSHA256 {
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var key = key.count > 64 ? sha256(key) : key
        key += [UInt8](repeating: 0, count: 64 - key.count)
        return sha256(key.map { $0 ^ 0x5C } + sha256(key.map { $0 ^ 0x36 } + message))
    }

    static func sha256(_ message: [UInt8]) -> [UInt8] {
        let k: [UInt32] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
        ]
        var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        var data = message + [0x80]
        while data.count % 64 != 56 { data.append(0) }
        let bits = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        for chunk in stride(from: 0, to: data.count, by: 64) {
            var w = [UInt32](repeating: 0, count: 64)
            for i in 0..<16 {
                w[i] = data[chunk + 4 * i..<chunk + 4 * i + 4].reduce(0) { $0 << 8 | UInt32($1) }
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (index, value) in [a, b, c, d, e, f, g, hh].enumerated() { h[index] = h[index] &+ value }
        }
        return h.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) } }
    }
}

/// Base64url without padding.
func base64URL(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    var out = ""
    var index = 0
    while index < bytes.count {
        let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
        let value = chunk.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(16 - 8 * $1.offset) }
        for position in 0..<(chunk.count + 1) { out.append(alphabet[Int(value >> UInt32(18 - 6 * position) & 63)]) }
        index += 3
    }
    return out
}

/// Short secrets (which warn) and secrets shorter than the digest still sign exactly as plain HMAC does.
struct ShortSecretTests {
    /// A 5-byte secret verifies a token forged with the same 5 bytes, for HS256 (the padding is invisible).
    @Test func shortSecretMatchesPlainHMAC() async throws {
        let header = base64URL(Array(#"{"alg":"HS256"}"#.utf8))
        let payload = base64URL(Array(#"{"sub":"a","role":"user","tenant":"t","exp":4000000000}"#.utf8))
        let signature = base64URL(HMACSHA256.mac(key: Array("short".utf8), message: Array("\(header).\(payload)".utf8)))
        let service = await TokenService(secret: "short", algorithm: .hs256)
        #expect(try await service.verify("\(header).\(payload).\(signature)").sub == "a")
    }

    /// HS512 with a 32-byte secret mints and verifies.
    @Test func hs512WithShortSecret() async throws {
        let service = await TokenService(secret: TokenServiceTests.secret, algorithm: .hs512)
        let (token, _) = try await service.mint(user: "a", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60))
        #expect(try await service.verify(token).userID == "a")
    }
}
