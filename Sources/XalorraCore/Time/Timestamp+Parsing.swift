extension Timestamp {
    /// What `--since`/`--until` and `?since=`/`?until=` take, for error messages.
    public static let isoOrAgoExpectation = "an ISO time (2025-07-20T14:21:11Z) or a duration ago (15m, 2h, 7d)"

    /// An ISO time, or a duration meaning that long before `now` (`15m` is fifteen minutes ago).
    public init?(isoOrAgo text: String, now: Timestamp = .now()) {
        if let span = TimeSpan(text) {
            self = now.adding(seconds: -span.seconds)
        } else if let time = Timestamp(iso: text) {
            self = time
        } else {
            return nil
        }
    }

    /// Parses an RFC 3339 / ISO 8601 time: `2025-07-20`, `2025-07-20T14:21`, `2025-07-20T14:21:11.768594`,
    /// with an optional `Z` or `±hh:mm` offset (no offset means UTC, as the log writes it).
    public init?(iso text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<width {
                let digit = bytes[index + offset] &- 48
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            index += width
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0, minute = 0, second = 0, micros = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "T") || bytes[index] == UInt8(ascii: " ") {
            index += 1
            guard let h = number(2), expect(":"), let m = number(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if expect(":") {
                guard let s = number(2), s < 61 else { return nil }
                second = s
                if expect(".") {
                    var scale = 100_000
                    var digits = 0
                    while index < bytes.count, bytes[index] &- 48 < 10 {
                        micros += Int(bytes[index] - 48) * scale
                        scale /= 10
                        digits += 1
                        index += 1
                    }
                    guard digits > 0 else { return nil }
                }
            }
        }
        var offsetSeconds = 0
        if index < bytes.count {
            if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                index += 1
                guard let h = number(2) else { return nil }
                _ = expect(":")
                guard let m = number(2) else { return nil }
                offsetSeconds = sign * (h * 3600 + m * 60)
            }
        }
        guard index == bytes.count else { return nil }
        let days = Timestamp.days(fromYear: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        self.init(microseconds: seconds * 1_000_000 + Int64(micros))
    }
}

/// A length of time written as a number and a unit: `90s`, `15m`, `2h`, `7d` (and `1w`).
public struct TimeSpan: Sendable, Hashable, CustomStringConvertible {
    /// The longest span: as many seconds as a ``Timestamp`` has room for (about 292,000 years), so that a span
    /// always converts to microseconds and moves a time without overflowing.
    public static let max = TimeSpan(seconds: Int64.max / 1_000_000)

    /// The length in whole seconds, within `-max...max`.
    public let seconds: Int64

    /// Creates a duration of `seconds`, held at ``max`` (or its negative).
    public init(seconds: Int64) {
        let limit = Int64.max / 1_000_000
        self.seconds = Swift.min(Swift.max(seconds, -limit), limit)
    }

    /// Parses `90s`, `15m`, `2h`, `7d`, `1w`; a bare number is seconds. Zero, signs and anything but ASCII digits
    /// before the unit are refused; a span longer than ``max`` (`99999999999d`) is ``max``: "since forever".
    public init?(_ text: String) {
        guard let last = text.last else { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        let multiplier = units[last]
        let digits = multiplier == nil ? Substring(text) : text.dropLast()
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value.multipliedSaturating(by: 10).addingSaturating(Int64(byte - UInt8(ascii: "0")))
        }
        guard value > 0 else { return nil }
        self.init(seconds: value.multipliedSaturating(by: multiplier ?? 1))
    }

    /// The shortest exact form: `1h`, `90s`, `30d`.
    public var description: String {
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
