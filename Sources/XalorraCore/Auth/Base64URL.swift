/// Base64url without padding (RFC 4648 §5), as JWTs use it (RFC 7515 §2).
enum Base64URL {
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    /// The bytes of `text`, or `nil` unless it is canonical base64url: only the 64 letters of the alphabet, no
    /// padding, no white space, and zero bits after the last whole byte. One token has one spelling, so no variant
    /// of a signed token (an `=` appended, a last letter with other trailing bits) passes for it.
    static func decode(_ text: some StringProtocol) -> [UInt8]? { decode(bytes: text.utf8) }

    /// ``decode(_:)`` over UTF-8 bytes.
    static func decode(bytes text: some Collection<UInt8>) -> [UInt8]? {
        // A lone letter after the last group of four holds 6 bits, less than a byte: no encoder writes that.
        guard text.count % 4 != 1 else { return nil }
        var bits: UInt32 = 0
        var count = 0
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        for byte in text {
            let value = decodeTable[Int(byte)]
            guard value != 0xFF else { return nil }
            bits = bits << 6 | UInt32(value)
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            }
        }
        // The 2 or 4 bits left over are the encoder's zero padding; anything else is another spelling.
        guard bits & ((1 << UInt32(count)) - 1) == 0 else { return nil }
        return out
    }
}
