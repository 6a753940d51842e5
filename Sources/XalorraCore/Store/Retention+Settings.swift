extension Settings {
    /// A retention or interval setting: a duration (`90d`), or nothing (unset, `off`, `keep`, `never`) for none.
    static func optionalSpan(_ key: SettingKey, _ text: String?) throws(XalorraError) -> TimeSpan? {
        guard let text, !["", "off", "keep", "never"].contains(text.lowercased()) else { return nil }
        guard let span = TimeSpan(text), span.seconds > 0 else {
            throw XalorraError(.validation, "\(key.environment)=\(text) is not a duration such as 90d, 12h or 4w")
        }
        return span
    }

    /// A size in bytes: `1048576`, `512K`, `100MB`, `1GiB` (K, M, G, T are powers of 1024); nothing or `off` is `nil`.
    static func byteSize(_ key: SettingKey, _ text: String?) throws(XalorraError) -> Int? {
        guard let text, !["", "off"].contains(text.lowercased()) else { return nil }
        guard let size = parseByteSize(text) else {
            throw XalorraError(.validation, "\(key.environment)=\(text) is not a size such as 100MB or 1GB")
        }
        return size
    }

    /// The bytes `text` names, or `nil` when it is not a positive size.
    static func parseByteSize(_ text: String) -> Int? {
        var digits = Substring(text.uppercased())
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) {
            digits = digits.dropLast(suffix.count)
            break
        }
        var multiplier = 1
        if let unit = digits.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][unit] {
            multiplier = 1 << (10 * power)
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits), value > 0
        else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}
