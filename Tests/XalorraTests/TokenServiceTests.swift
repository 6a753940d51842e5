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

    /// Signs tokens by hand with the suite's secret.
    private let forger = TokenForger(secret: TokenServiceTests.secret)

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
        let token = forger.sign(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload)
        #expect(try await service().verify(token, now: now).userID == "a")
    }

    /// `alg: none` is refused, with or without a signature.
    @Test func algNoneRefused() async {
        let payload = #"{"sub":"a","user_id":"a","role":"admin","tenant":"t","exp":1800003600}"#
        let unsigned = TokenForger.unsigned(payload: payload)
        let error = await reason(unsigned, service())
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("alg: none") == true)
        let noneCased = forger.sign(header: #"{"alg":"NoNe"}"#, payload: payload)
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
        let payload = #"{"sub":"a","user_id":"a","role":"admin","tenant":"t","exp":1800003600}"#
        let tampered = TokenForger.tampered(token, payload: payload)
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
        let seed = forger.sign(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: #"{"user_id":"jek","role":"admin","tenant":"tenant1"}"#)
        #expect(await reason(seed, service())?.message.contains("no exp") == true)
        #expect(await reason(seed, service(legacy: true)) == nil)
    }

    /// Tokens not valid yet (iat or nbf in the future) are refused.
    @Test func notYetValidRefused() async {
        let future = forger.sign(
            header: #"{"alg":"HS256"}"#, payload: #"{"sub":"a","role":"user","tenant":"t","exp":1900000000,"nbf":1850000000}"#)
        #expect(await reason(future, service())?.message.contains("not valid yet") == true)
    }

    /// `kid` and `jku` headers do not change which key verifies.
    @Test func keyHeadersIgnored() async {
        let payload = #"{"sub":"a","role":"user","tenant":"t","exp":1800003600}"#
        let token = TokenForger(secret: "attacker-secret-attacker-secret!")
            .sign(header: #"{"alg":"HS256","kid":"other","jku":"http://evil.example/jwks"}"#, payload: payload)
        #expect(await reason(token, service())?.message.contains("bad signature") == true)
    }

    /// Garbage is refused as malformed, never a crash.
    @Test(arguments: ["", "abc", "a.b", "a.b.c.d", "!!!.???.***", "eyJhbGciOiJIUzI1NiJ9.e30.", "e30.e30.e30"])
    func malformedRefused(token: String) async {
        let error = await reason(token, service())
        #expect(error?.code == .authenticationFailed)
    }

    // MARK: Strict reading (issue 12, items 2 and 10)

    /// A payload for `forge` with the given extra members (raw JSON text) after the usual claims.
    private func claims(_ extra: String = #""exp":1800003600"#) -> String {
        #"{"sub":"a","user_id":"a","role":"user","tenant":"t","# + extra + "}"
    }

    /// A correctly signed token whose `exp` is near Int64.max is refused, not a trap on adding the leeway.
    @Test(arguments: ["9223372036854775807", "9223372036854775747", "9223372036854775000"])
    func hugeExpiryRefused(exp: String) async {
        let token = forger.sign(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: claims(#""exp":"# + exp))
        let error = await reason(token, service())
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("exp must be whole seconds") == true, "\(String(describing: error))")
    }

    /// `iat`, `exp` and `nbf` that are not whole seconds in 0...9999-12-31 are refused cleanly, naming the claim.
    @Test(arguments: ["iat", "exp", "nbf"])
    func numericDatesOfTheWrongShapeRefused(claim: String) async {
        let service = await service()
        for value in ["1e300", "-1e300", "2.5", "-1", "9223372036854775807", "-9223372036854775808", #""1800000000""#,
            "true", "null", "[1]", "{}", "1e19", "253402300800"]
        {
            let members = claim == "exp" ? #""exp":"# + value : #""exp":1800003600,"# + "\"\(claim)\":" + value
            let error = await reason(forger.sign(header: #"{"alg":"HS256"}"#, payload: claims(members)), service)
            #expect(error?.code == .authenticationFailed, "\(claim)=\(value)")
            #expect(error?.message.contains("\(claim) must be whole seconds") == true, "\(claim)=\(value): \(String(describing: error))")
        }
        // A whole number written with an exponent or a fraction of zero is still whole seconds.
        let written = claim == "exp" ? #""exp":1.8000036e9"# : #""exp":1800003600,"# + "\"\(claim)\":1.7e9"
        #expect(await reason(forger.sign(header: #"{"alg":"HS256"}"#, payload: claims(written)), service) == nil)
    }

    /// A string `nbf` is refused (it used to be ignored, so the token was valid before its time).
    @Test func stringNotBeforeRefused() async {
        let token = forger.sign(header: #"{"alg":"HS256"}"#, payload: claims(#""exp":1800003600,"nbf":"1850000000""#))
        #expect(await reason(token, service())?.message.contains("nbf must be whole seconds") == true)
    }

    /// Any other spelling of a signed token's base64url (padding, white space, other trailing bits) is refused; the
    /// canonical spelling is accepted.
    @Test func nonCanonicalBase64Refused() async throws {
        let tokens = await service()
        let (token, _) = try await tokens.mint(user: "a", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60), now: now)
        #expect(await reason(token, tokens) == nil)
        let parts = token.split(separator: ".").map(String.init)
        // A 32-byte HS256 signature is 43 letters; the last carries 2 bits the encoder leaves zero.
        let last = parts[2].last!
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let otherBits = alphabet[alphabet.firstIndex(of: last)! + 1]
        let variants = [
            token + "=", token + "==", "\(parts[0])=.\(parts[1]).\(parts[2])", "\(parts[0]).\(parts[1])=.\(parts[2])",
            "\(parts[0]).\(parts[1]).\(parts[2].dropLast())\(otherBits)", " " + token, token + " ", token + "\n",
            "\(parts[0]).\(parts[1]). \(parts[2])", "\(parts[0]).\(parts[1].prefix(10)) \(parts[1].dropFirst(10)).\(parts[2])",
            "\(parts[0]).\(parts[1]).\(parts[2])A", token.replacingOccurrences(of: "-", with: "+"),
            "\(parts[0]).\(parts[1]).\(parts[2]).",
        ].filter { $0 != token }
        for variant in variants {
            let error = await reason(variant, tokens)
            #expect(error?.code == .authenticationFailed, "\(variant)")
        }
        #expect(await reason(token + "=", tokens)?.message.contains("bad signature") == true)
        #expect(await reason("\(parts[0]).\(parts[1])=.\(parts[2])", tokens)?.message.contains("malformed") == true)
    }

    /// A `crit` header is refused (RFC 7515 §4.1.11: xalorra understands no extension), even naming a known one.
    @Test(arguments: [#"["exp"]"#, #"["b64"]"#, #"["http://example.com/x"]"#, "[]", #""exp""#])
    func criticalHeaderRefused(crit: String) async {
        let header = #"{"alg":"HS256","b64":true,"crit":"# + crit + "}"
        let error = await reason(forger.sign(header: header, payload: claims()), service())
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("crit") == true)
    }

    /// A header or payload that is valid JSON but not an object is refused as malformed.
    @Test func headerAndPayloadMustBeObjects() async {
        let service = await service()
        for payload in ["[]", #""a""#, "1", "null", "true", #"[{"sub":"a","role":"user","exp":1800003600}]"#] {
            let error = await reason(forger.sign(header: #"{"alg":"HS256"}"#, payload: payload), service)
            #expect(error?.message.contains("the payload is not a JSON object") == true, "\(payload)")
        }
        for header in ["[]", #"["HS256"]"#, #""HS256""#, "null"] {
            let error = await reason(forger.sign(header: header, payload: claims()), service)
            #expect(error?.message.contains("header is not a JSON object") == true, "\(header)")
        }
    }

    /// A member given twice in the header or the payload is refused: which one counts would depend on the reader.
    @Test func duplicateMembersRefused() async {
        let service = await service()
        let twice = #"{"sub":"a","user_id":"a","role":"user","role":"admin","tenant":"t","exp":1800003600}"#
        #expect(await reason(forger.sign(header: #"{"alg":"HS256"}"#, payload: twice), service)?.message.contains(#"duplicate key "role""#) == true)
        let twiceExp = claims(#""exp":1800003600,"exp":1"#)
        #expect(await reason(forger.sign(header: #"{"alg":"HS256"}"#, payload: twiceExp), service)?.message.contains(#"duplicate key "exp""#) == true)
        let header = #"{"alg":"HS256","alg":"none"}"#
        #expect(await reason(forger.sign(header: header, payload: claims()), service)?.message.contains(#"duplicate key "alg""#) == true)
    }

    /// Claims of the wrong type or of an unknown value are refused, naming the claim.
    @Test func claimTypesAndValuesChecked() async {
        let service = await service()
        let cases: [(String, String)] = [
            (#"{"sub":"a","role":"root","tenant":"t","exp":1800003600}"#, "role must be admin or user"),
            (#"{"sub":"a","role":1,"tenant":"t","exp":1800003600}"#, "role must be a string"),
            (#"{"sub":"a","role":"user","typ":"id","tenant":"t","exp":1800003600}"#, "typ must be access or refresh"),
            (#"{"sub":"a","role":"user","typ":null,"tenant":"t","exp":1800003600}"#, "typ must be a string"),
            (#"{"sub":7,"role":"user","tenant":"t","exp":1800003600}"#, "sub must be a string"),
            (#"{"sub":"a","user_id":"b","role":"user","tenant":"t","exp":1800003600}"#, "name different users"),
            (#"{"sub":"","role":"user","tenant":"t","exp":1800003600}"#, "sub is empty"),
            (#"{"sub":"a\u001b[2J","role":"user","tenant":"t","exp":1800003600}"#, "sub contains control characters"),
            (#"{"sub":"a","role":"user","tenant":["t"],"exp":1800003600}"#, "tenant must be a string"),
            (#"{"sub":"a","role":"user","tenant":"t","exp":1800003600,"jti":5}"#, "jti must be a string"),
            (#"{"role":"user","tenant":"t","exp":1800003600}"#, "names no user"),
        ]
        for (payload, expected) in cases {
            let error = await reason(forger.sign(header: #"{"alg":"HS256"}"#, payload: payload), service)
            #expect(error?.code == .authenticationFailed, "\(payload)")
            #expect(error?.message.contains(expected) == true, "\(payload): \(String(describing: error))")
        }
        let headerTyp = forger.sign(header: #"{"alg":"HS256","typ":"JWE"}"#, payload: claims())
        #expect(await reason(headerTyp, service)?.message.contains("typ must be JWT") == true)
        // Unknown claims are ignored; a lower-case typ header is fine.
        let extra = forger.sign(header: #"{"alg":"HS256","typ":"jwt"}"#, payload: claims(#""exp":1800003600,"aud":"x""#))
        #expect(await reason(extra, service) == nil)
    }

    /// A token longer than 8 KiB is refused before it is decoded, even when correctly signed.
    @Test func oversizedTokenRefused() async {
        let padding = String(repeating: "x", count: TokenService.maxTokenBytes)
        let token = forger.sign(header: #"{"alg":"HS256"}"#, payload: claims(#""exp":1800003600,"pad":""# + padding + "\""))
        let error = await reason(token, service())
        #expect(error?.code == .authenticationFailed)
        #expect(error?.message.contains("longer than 8192 bytes") == true)
        let fits = forger.sign(header: #"{"alg":"HS256"}"#, payload: claims(#""exp":1800003600,"pad":""# + padding.prefix(5000) + "\""))
        #expect(await reason(fits, service()) == nil)
    }

    /// Minting saturates instead of overflowing: a lifetime past the representable range is a validation error.
    @Test func mintWithHugeLifetimeRefused() async {
        await #expect(throws: XalorraError.self) {
            _ = try await service().mint(user: "a", role: .user, tenant: "t", ttl: TimeSpan.max, now: now)
        }
        #expect(throws: XalorraError.self) { _ = try TokenRequest(user: "a", role: .user, tenant: "t", ttl: TimeSpan.max) }
        #expect(throws: XalorraError.self) { _ = try TokenRequest(user: "a\u{1B}[2J", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60)) }
        #expect(throws: XalorraError.self) { _ = try TokenRequest(user: "a", role: .user, tenant: "t\u{202E}", ttl: TimeSpan(seconds: 60)) }
    }
}

/// Short secrets (which warn) and secrets shorter than the digest still sign exactly as plain HMAC does.
struct ShortSecretTests {
    /// A 5-byte secret verifies a token forged with the same 5 bytes, for HS256 (the padding is invisible).
    @Test func shortSecretMatchesPlainHMAC() async throws {
        let token = TokenForger(secret: "short")
            .sign(header: #"{"alg":"HS256"}"#, payload: #"{"sub":"a","role":"user","tenant":"t","exp":4000000000}"#)
        let service = await TokenService(secret: "short", algorithm: .hs256)
        #expect(try await service.verify(token).sub == "a")
    }

    /// HS512 with a 32-byte secret mints and verifies.
    @Test func hs512WithShortSecret() async throws {
        let service = await TokenService(secret: TokenServiceTests.secret, algorithm: .hs512)
        let (token, _) = try await service.mint(user: "a", role: .user, tenant: "t", ttl: TimeSpan(seconds: 60))
        #expect(try await service.verify(token).userID == "a")
    }
}

/// Time arithmetic on numbers from outside saturates instead of trapping (issue 12, item 2).
struct SaturatingTimeTests {
    /// Spans longer than a Timestamp holds parse as the longest span ("since forever"), not as an error or a trap.
    @Test func hugeSpansSaturate() {
        #expect(TimeSpan("99999999999d") == TimeSpan.max)
        #expect(TimeSpan("999999999999999999999999999999s") == TimeSpan.max)
        #expect(TimeSpan("106751991w") == TimeSpan.max)
        #expect(TimeSpan(seconds: Int64.max) == TimeSpan.max)
        #expect(TimeSpan(seconds: Int64.min).seconds == -TimeSpan.max.seconds)
        #expect(TimeSpan("+5m") == nil && TimeSpan("5 m") == nil && TimeSpan("00") == nil)
        #expect(TimeSpan("0001m")?.seconds == 60)
    }

    /// Moving or converting a time never traps, and the text forms hold the four-digit years RFC 3339 allows.
    @Test func timestampsSaturate() {
        let now = Timestamp.now()
        #expect(now.adding(seconds: Int64.max).microseconds == Int64.max)
        #expect(now.adding(seconds: Int64.min) < Timestamp.textMinimum)
        #expect(Timestamp(microseconds: Int64.min + 5).adding(seconds: -1).microseconds == Int64.min)
        #expect(Timestamp(isoOrAgo: "99999999999d", now: now)!.microseconds < Timestamp.textMinimum.microseconds)
        #expect(Timestamp(seconds: Int64.max).microseconds == Int64.max)
        #expect(Timestamp(seconds: -9_300_000_000_000).microseconds == Int64.min)
        #expect(Timestamp(microseconds: Int64.min).seconds == Int64.min / 1_000_000 - 1)
        #expect(Timestamp(microseconds: Int64.min).logText == "0000-01-01T00:00:00.000000")
        #expect(Timestamp(microseconds: Int64.max).iso8601 == "9999-12-31T23:59:59.999999Z")
        #expect(Timestamp(seconds: 253_402_300_799).iso8601Seconds == "9999-12-31T23:59:59Z")
        #expect(Int64.max.addingSaturating(1) == .max && Int64.min.subtractingSaturating(1) == .min)
        #expect(Int64.min.multipliedSaturating(by: -1) == .max && Int64(3).multipliedSaturating(by: 4) == 12)
    }

    /// Saved credentials with an extreme `expires_in` (the server's word) or `expires_at` (the file's) do not trap.
    @Test func credentialsSaturate() {
        let forever = TokenPair(accessToken: "a", refreshToken: "r", expiresIn: Int64.max)
        var credentials = Credentials(url: "http://x", username: "a", tokens: forever)
        #expect(credentials.expiresAt == Int64.max && !credentials.needsRefresh())
        credentials.expiresAt = Int64.min
        #expect(credentials.needsRefresh())
        let past = TokenPair(accessToken: "a", refreshToken: "r", expiresIn: Int64.min)
        #expect(Credentials(url: "http://x", username: "a", tokens: past).needsRefresh())
    }
}
