/// A JSON number that remembers whether it was written as an integer, so `[1, 2, 3]` sums to `6`, not `6.0`.
public enum Number: Sendable, Hashable {
    case int(Int64)
    case double(Double)

    /// The value as a `Double`, for models that compute in floating point.
    @inlinable
    public var doubleValue: Double {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        }
    }

    /// Whether the value is a finite number (an integer always is); JSON has no infinity or NaN.
    @inlinable
    public var isFinite: Bool {
        if case .double(let value) = self { return value.isFinite }
        return true
    }

    /// Parses a finite number as written in JSON or a CSV cell (`6`, `-1.5`, `2e3`); `nil` for anything else,
    /// including `nan`, `inf`, hexadecimal and empty text.
    public init?(text: some StringProtocol) {
        var utf8 = Array(text.utf8)
        guard let number = utf8.withUnsafeMutableBufferPointer({ Number(bytes: UnsafeBufferPointer($0)) }) else {
            return nil
        }
        self = number
    }

    /// Parses a finite number from raw UTF-8 bytes with the grammar of JSON numbers, plus a leading `+`
    /// and a bare leading `.` or trailing `.` as CSV writers produce (`.5`, `5.`). A fraction or exponent makes a
    /// double, correctly rounded (``Number/double(significand:exponent:)``); without them a whole number that fits
    /// `Int64` is an integer.
    public init?(bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count
        guard count > 0, count < 400 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        // The digits as an integer, and as a decimal significand (at most 19 digits, leading zeros not counted)
        // times 10^exponent; a digit beyond the 19th is `dropped`, and then the standard library parses the text.
        var integer: Int64 = 0
        var overflow = false
        var significand: UInt64 = 0
        var significant = 0
        var dropped = false
        var exponent = 0
        var digits = 0
        while index < count, bytes[index] &- 48 < 10 {
            let digit = bytes[index] &- 48
            let (times, o1) = integer.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(digit))
            overflow = overflow || o1 || o2
            integer = sum
            if significant < 19 {
                if significand != 0 || digit != 0 {
                    significand = significand &* 10 &+ UInt64(digit)
                    significant += 1
                }
            } else {
                dropped = true
                exponent += 1
            }
            digits += 1
            index += 1
        }
        if index == count {
            guard digits > 0 else { return nil }
            if !overflow {
                self = .int(negative ? -integer : integer)
                return
            }
        }
        // Validate the fraction and exponent here: the standard library's parser, the fallback, would also accept
        // `nan`, `inf` and hexadecimal floats.
        var fractionDigits = 0
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < count, bytes[index] &- 48 < 10 {
                let digit = bytes[index] &- 48
                if significant < 19 {
                    if significand != 0 || digit != 0 {
                        significand = significand &* 10 &+ UInt64(digit)
                        significant += 1
                    }
                    exponent -= 1
                } else {
                    dropped = true
                }
                index += 1
                fractionDigits += 1
            }
        }
        guard digits + fractionDigits > 0 else { return nil }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            var exponentDigits = 0
            var written = 0
            while index < count, bytes[index] &- 48 < 10 {
                // Far beyond any double's range either way; capped so that it cannot overflow.
                if written < 100_000 { written = written * 10 + Int(bytes[index] &- 48) }
                index += 1
                exponentDigits += 1
            }
            guard exponentDigits > 0 else { return nil }
            exponent += exponentNegative ? -written : written
        }
        guard index == count else { return nil }
        let value: Double
        if !dropped, let fast = Number.double(significand: significand, exponent: exponent) {
            value = negative ? -fast : fast
        } else {
            guard let parsed = Double(String(decoding: bytes, as: UTF8.self)) else { return nil }
            value = parsed
        }
        guard value.isFinite else { return nil }
        self = .double(value)
    }
}

extension Number: CustomStringConvertible {
    /// The number as JSON writes it: integers without a fraction, doubles in their shortest round-trip form.
    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): Number.format(value)
        }
    }

    /// Formats a finite double the way Python's `repr` and JSON serialisers do (`6.0`, `0.1`, `1e-07`).
    public static func format(_ value: Double) -> String {
        value.description
    }
}
