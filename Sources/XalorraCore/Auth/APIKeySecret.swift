/// The text of an API key, `xal_<id>_<secret>`: the prefix (so scanners and people recognise one), 16 hex digits of
/// public id (what lists show and the store is searched by), and 43 base62 letters of secret (256 bits). Only its
/// SHA-256 is stored: a key this random needs no slow hash, and a fast one keeps authenticating by key as cheap as
/// by token.
public enum APIKeySecret {
    /// `xal_`.
    public static let prefix = "xal_"
    /// Length of the id part.
    static let idLength = 16
    /// Length of the secret part: 62^43 > 2^256.
    static let secretLength = 43
    /// The whole key's length.
    public static let length = prefix.utf8.count + idLength + 1 + secretLength

    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// A fresh key: its text (shown once) and its id.
    public static func generate() -> (key: String, id: String) {
        var generator = SystemRandomNumberGenerator()
        let id = String(TokenService.randomID().prefix(idLength))
        var secret: [UInt8] = []
        secret.reserveCapacity(secretLength)
        while secret.count < secretLength {
            // 248 = 4 × 62: bytes at or above it are dropped, so every letter is equally likely.
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            if byte < 248 { secret.append(alphabet[Int(byte % 62)]) }
        }
        return (prefix + id + "_" + String(decoding: secret, as: UTF8.self), id)
    }

    /// Whether `text` claims to be an API key (its prefix): such a credential is never read as a JWT.
    public static func looksLikeKey(_ text: some StringProtocol) -> Bool { text.utf8.starts(with: prefix.utf8) }

    /// The id of a well-formed key, or `nil` (wrong length, prefix or letters).
    public static func id(of key: some StringProtocol) -> String? {
        let bytes = Array(key.utf8)
        guard bytes.count == length, bytes.starts(with: prefix.utf8) else { return nil }
        let idStart = prefix.utf8.count
        let idPart = bytes[idStart..<idStart + idLength]
        guard idPart.allSatisfy(isHexDigit), bytes[idStart + idLength] == UInt8(ascii: "_"),
            bytes[(idStart + idLength + 1)...].allSatisfy(isBase62)
        else { return nil }
        return String(decoding: idPart, as: UTF8.self)
    }

    /// The digest the store keeps for `key`: SHA-256, in lower-case hex.
    public static func hash(_ key: some StringProtocol) -> [UInt8] { Array(hex(SHA256.hash(Array(key.utf8))).utf8) }

    /// `bytes` in lower-case hex.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` with the secret of every API key in it cut off (`xal_<id>_…` stays, so a reader still knows which
    /// key): for text that is logged, such as a request's path, which a client may have put a key in.
    public static func redacted(_ text: String) -> String {
        // Every request's path comes through here: no copy unless it holds the prefix.
        var window: UInt32 = 0
        var seen = false
        for byte in text.utf8 {
            window = window << 8 | UInt32(byte)
            if window == 0x7861_6C5F { // "xal_"
                seen = true
                break
            }
        }
        guard seen else { return text }
        let bytes = Array(text.utf8)
        let marker = Array(prefix.utf8)
        guard bytes.count >= marker.count else { return text }
        var out: [UInt8] = []
        var index = 0
        var changed = false
        while index < bytes.count {
            if bytes[index] == marker[0], index + marker.count <= bytes.count,
                Array(bytes[index..<index + marker.count]) == marker
            {
                var end = index + marker.count
                while end < bytes.count, isBase62(bytes[end]) || bytes[end] == UInt8(ascii: "_") { end += 1 }
                let keep = min(end, index + marker.count + idLength)
                out += bytes[index..<keep]
                if end > keep {
                    out += Array("_…".utf8)
                    changed = true
                }
                index = end
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }

    /// Compares two digests in time independent of where they differ.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
    }

    private static func isBase62(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }
}

/// SHA-256 (FIPS 180-4). The package has no hashing library of its own (jwt-kit keeps swift-crypto's to itself), and
/// API keys are short: two blocks.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// The 32-byte digest of `message`.
    static func hash(_ message: [UInt8]) -> [UInt8] {
        var h: [UInt32] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        ]
        var data = message
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        let bits = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        var w = [UInt32](repeating: 0, count: 64)
        for chunk in stride(from: 0, to: data.count, by: 64) {
            for i in 0..<16 {
                let at = chunk + 4 * i
                w[i] = UInt32(data[at]) << 24 | UInt32(data[at + 1]) << 16 | UInt32(data[at + 2]) << 8 | UInt32(data[at + 3])
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
            h[0] = h[0] &+ a
            h[1] = h[1] &+ b
            h[2] = h[2] &+ c
            h[3] = h[3] &+ d
            h[4] = h[4] &+ e
            h[5] = h[5] &+ f
            h[6] = h[6] &+ g
            h[7] = h[7] &+ hh
        }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for value in h {
            out.append(UInt8(truncatingIfNeeded: value >> 24))
            out.append(UInt8(truncatingIfNeeded: value >> 16))
            out.append(UInt8(truncatingIfNeeded: value >> 8))
            out.append(UInt8(truncatingIfNeeded: value))
        }
        return out
    }

    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
}
