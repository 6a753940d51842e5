import Glibc

/// A client's IP address, as the per-client limits (rate limits, connections) and the `/metrics` allow-list see it.
struct ClientAddress: Sendable, Hashable {
    /// 4 bytes for IPv4 (an IPv4-mapped IPv6 address counts as its IPv4 address), 16 for IPv6.
    let bytes: [UInt8]

    /// Parses `127.0.0.1`, `::1` or `::ffff:10.0.0.1`; nil for anything else.
    init?(_ text: String) {
        var buffer = [UInt8](repeating: 0, count: 16)
        if text.withCString({ inet_pton(AF_INET, $0, &buffer) }) == 1 {
            bytes = Array(buffer[0..<4])
        } else if text.withCString({ inet_pton(AF_INET6, $0, &buffer) }) == 1 {
            let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]
            bytes = Array(buffer[0..<12]) == mappedPrefix ? Array(buffer[12..<16]) : buffer
        } else {
            return nil
        }
    }

    /// What per-client limits count by: the IPv4 address, or an IPv6 address's /64 network. One IPv6 host usually
    /// holds a whole /64 and could otherwise take a fresh address, and a fresh budget, for every connection.
    var limitKey: String {
        guard bytes.count == 16 else { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::/64"
    }

    /// The limit key of a textual address; a text that is not an address (a Unix socket) stands for itself.
    static func limitKey(_ text: String?) -> String {
        guard let text else { return "unknown" }
        return ClientAddress(text)?.limitKey ?? text
    }

    /// An address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`), as `XALORRA_METRICS` lists them.
    struct Block: Sendable, Equatable {
        let network: ClientAddress
        let prefixLength: Int

        /// Parses `address` or `address/prefix`; nil when it is neither.
        init?(_ text: String) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let network = ClientAddress(String(parts[0])) else { return nil }
            let bits = network.bytes.count * 8
            // An IPv4-mapped block (`::ffff:10.0.0.0/104`) is written in IPv6 bits; count them from its IPv4 part.
            let mapped = network.bytes.count == 4 && parts[0].contains(":")
            var prefix = bits
            if parts.count == 2 {
                guard let given = Int(parts[1]), (0...(mapped ? 128 : bits)).contains(given) else { return nil }
                prefix = mapped ? max(0, given - 96) : given
            }
            self.network = network
            self.prefixLength = prefix
        }

        /// Whether `address` is inside the block (never across address families).
        func contains(_ address: ClientAddress) -> Bool {
            guard address.bytes.count == network.bytes.count else { return false }
            var left = prefixLength
            for (given, expected) in zip(address.bytes, network.bytes) where left > 0 {
                let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
                guard given & mask == expected & mask else { return false }
                left -= 8
            }
            return true
        }
    }
}
