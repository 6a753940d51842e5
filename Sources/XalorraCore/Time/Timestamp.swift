#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UTC instant in whole microseconds since the Unix epoch: the store's time column and the log's time stamp.
public struct Timestamp: Sendable, Hashable, Comparable {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public let microseconds: Int64

    /// Creates the instant `microseconds` after the epoch.
    public init(microseconds: Int64) { self.microseconds = microseconds }

    /// Creates the instant `seconds` after the epoch (a token's `exp`), held at the representable range (about
    /// 292,000 years either side of 1970) rather than overflowing.
    public init(seconds: Int64) { self.microseconds = seconds.multipliedSaturating(by: 1_000_000) }

    /// Whole seconds since the epoch, rounded down.
    public var seconds: Int64 {
        let (quotient, remainder) = microseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// The first instant the text forms can write: 0000-01-01T00:00:00Z.
    public static let textMinimum = Timestamp(microseconds: -62_167_219_200_000_000)
    /// The last instant the text forms can write: 9999-12-31T23:59:59.999999Z.
    public static let textMaximum = Timestamp(microseconds: 253_402_300_799_999_999)

    /// The current time from the system's real-time clock.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microseconds: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    /// This instant moved by `seconds`, held at the representable range rather than overflowing.
    public func adding(seconds: Int64) -> Timestamp {
        Timestamp(microseconds: microseconds.addingSaturating(seconds.multipliedSaturating(by: 1_000_000)))
    }

    /// `2025-07-20T14:21:11.768594`: the seed log's form (UTC, microseconds, no zone suffix).
    public var logText: String {
        var out: [UInt8] = []
        out.reserveCapacity(26)
        appendLogText(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `2025-07-20T14:21:11.768594Z`: RFC 3339, the form of `timestamp` in JSON bodies.
    public var iso8601: String { logText + "Z" }

    /// `2025-07-20T14:21:11Z`: RFC 3339 to the second, the seed envelopes' `timestamp`.
    public var iso8601Seconds: String { String(logText.prefix(19)) + "Z" }

    /// Appends ``logText`` without allocating a `String`: the batch paths write one per row. RFC 3339 has four-digit
    /// years, so an instant outside ``textMinimum``...``textMaximum`` is written as the nearer of the two.
    public func appendLogText(into out: inout [UInt8]) {
        let shown = min(max(self, Self.textMinimum), Self.textMaximum)
        let secs = shown.seconds
        let micros = Int(shown.microseconds - secs * 1_000_000)
        let (year, month, day) = Timestamp.civil(fromDays: Int(secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400))
        let secondOfDay = Int(secs - Int64((secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400)) * 86_400)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); out.append(UInt8(ascii: "-"))
        digits(month, 2); out.append(UInt8(ascii: "-"))
        digits(day, 2); out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2); out.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2); out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2); out.append(UInt8(ascii: "."))
        digits(micros, 6)
    }

    /// Year, month and day of the `days`-th day after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days from 1970-01-01 to the given civil date (Howard Hinnant's `days_from_civil`).
    static func days(fromYear year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
