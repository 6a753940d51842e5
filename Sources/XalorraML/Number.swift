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
    /// and a bare leading `.` or trailing `.` as CSV writers produce (`.5`, `5.`).
    public init?(bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count
        guard count > 0, count < 400 else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            index = 1
        }
        var integer: Int64 = 0
        var digits = 0
        var overflow = false
        while index < count, bytes[index] &- 48 < 10 {
            let (times, o1) = integer.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(bytes[index] &- 48))
            overflow = overflow || o1 || o2
            integer = sum
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
        // Validate the fraction and exponent before handing the text to the standard library's parser,
        // which would otherwise also accept `nan`, `inf` and hexadecimal floats.
        var fractionDigits = 0
        if index < count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < count, bytes[index] &- 48 < 10 {
                index += 1
                fractionDigits += 1
            }
        }
        guard digits + fractionDigits > 0 else { return nil }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") { index += 1 }
            var exponentDigits = 0
            while index < count, bytes[index] &- 48 < 10 {
                index += 1
                exponentDigits += 1
            }
            guard exponentDigits > 0 else { return nil }
        }
        guard index == count else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
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
