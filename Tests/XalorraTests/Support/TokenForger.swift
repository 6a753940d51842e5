import Foundation
@testable import XalorraCore

/// JWTs signed by hand, the one way the tests make them: HMAC-SHA256 (``HMACSHA256``, independent of jwt-kit) over
/// whatever header and payload text a test writes, so that tokens the real minting never produces (other `alg`s,
/// duplicate members, foreign key headers, claims of the wrong shape) can be forged and sent.
/// `TokenServiceTests.forgedTokensUseTheRealSignature` checks that jwt-kit accepts what it signs.
struct TokenForger: Sendable {
    /// The key every signature is made with.
    let secret: String

    /// Signs with the secret every ``LiveServer`` runs with.
    static let live = TokenForger(secret: LiveServer.secret)

    /// The current time in whole seconds, as `iat`, `exp` and `nbf` count it.
    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// `header.payload.signature`: the base64url of both JSON texts as written, signed with HMAC-SHA256 whatever the
    /// header's `alg` says.
    func sign(header: String, payload: String) -> String {
        let input = Self.base64URL(Array(header.utf8)) + "." + Self.base64URL(Array(payload.utf8))
        return input + "." + Self.base64URL(HMACSHA256.mac(key: Array(secret.utf8), message: Array(input.utf8)))
    }

    /// `payload` signed under the header `{"alg":"<alg>"}`.
    func sign(_ payload: String, alg: String = "HS256") -> String {
        sign(header: #"{"alg":"\#(alg)"}"#, payload: payload)
    }

    /// `header.payload.` with no signature at all.
    static func unsigned(header: String = #"{"alg":"none"}"#, payload: String) -> String {
        base64URL(Array(header.utf8)) + "." + base64URL(Array(payload.utf8)) + "."
    }

    /// Claims as xalorra issues them (`sub`, `user_id`, `role`, `tenant`, `typ`, `iat`, `exp`, `nbf`, `jti`), as JSON
    /// text; `nil` leaves a claim out.
    static func claims(
        user: String = "mallory", role: String = "user", tenant: String = "default", typ: String? = "access",
        iat: Int64? = now, exp: Int64? = now + 3600, nbf: Int64? = nil
    ) -> String {
        var members: [(String, JSONValue)] = [
            ("sub", .string(user)), ("user_id", .string(user)), ("role", .string(role)), ("tenant", .string(tenant)),
        ]
        if let typ { members.append(("typ", .string(typ))) }
        if let iat { members.append(("iat", .int(iat))) }
        if let exp { members.append(("exp", .int(exp))) }
        if let nbf { members.append(("nbf", .int(nbf))) }
        members.append(("jti", .string(TokenService.randomID())))
        return JSONWriter.compact(.object(members))
    }

    /// `token` with its payload replaced by `payload` (JSON text) and its header and signature kept.
    static func tampered(_ token: String, payload: String) -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return "\(parts[0]).\(base64URL(Array(payload.utf8))).\(parts[2])"
    }

    /// `token` with one claim of its payload set to `value` and its header and signature kept.
    static func tampered(_ token: String, setting claim: String, to value: JSONValue) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let bytes = Base64URL.decode(parts[1]) else {
            throw XalorraError(.internal, "not a JWT: \(token)")
        }
        return tampered(token, payload: JSONWriter.compact(try JSONParser.parse(bytes).setting(claim, value)))
    }

    /// Base64url without padding (RFC 7515 §2), written out here so that a bug in the server's codec cannot hide.
    static func base64URL(_ bytes: [UInt8]) -> String {
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
}
