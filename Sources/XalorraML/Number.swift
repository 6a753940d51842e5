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
        guard bytes.count < 400 else { return nil }
        let (number, end) = Number.scan(bytes, from: 0, json: false)
        guard let number, end == bytes.count else { return nil }
        self = number
    }

    /// Reads the number that starts at `start` in `bytes`, in one pass, and where it ends. `json` takes JSON's
    /// grammar (no `+`, digits on both sides of a point); otherwise also `+1`, `.5` and `5.` as CSV writers write
    /// them. The number is `nil` when the text there is none, or is out of a double's range; the caller decides
    /// whether what follows `end` may follow a number.
    public static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, json: Bool
    ) -> (number: Number?, end: Int) {
        let count = bytes.count
        var index = start
        var negative = false
        if index < count, bytes[index] == UInt8(ascii: "-") || (!json && bytes[index] == UInt8(ascii: "+")) {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        // The digits as a decimal significand (at most 19 digits, leading zeros not counted) times 10^exponent; a
        // digit beyond the 19th is `dropped`, and then the standard library parses the text.
        var significand: UInt64 = 0
        var significant = 0
        var dropped = false
        var exponent = 0
        let integerStart = index
        while index < count {
            let digit = bytes[index] &- 48
            guard digit < 10 else { break }
            if significant < 19 {
                significand = significand &* 10 &+ UInt64(digit)
                if significand != 0 { significant += 1 }
            } else {
                dropped = true
                exponent += 1
            }
            index += 1
        }
        let digits = index - integerStart
        var fractionDigits = 0
        var isInteger = true
        if index < count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            let fractionStart = index
            while index < count {
                // Eight digits at a time once the significand has begun (the 17 digits of a float32 sent as JSON).
                if significand != 0, significant <= 11, count - index >= 8 {
                    let word = UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self).littleEndian
                    if Number.areEightDigits(word) {
                        significand = significand &* 100_000_000 &+ Number.eightDigits(word)
                        significant += 8
                        exponent -= 8
                        index += 8
                        continue
                    }
                }
                let digit = bytes[index] &- 48
                guard digit < 10 else { break }
                if significant < 19 {
                    significand = significand &* 10 &+ UInt64(digit)
                    if significand != 0 { significant += 1 }
                    exponent -= 1
                } else {
                    dropped = true
                }
                index += 1
            }
            fractionDigits = index - fractionStart
            if json, digits == 0 || fractionDigits == 0 { return (nil, index) }
        }
        guard digits + fractionDigits > 0 else { return (nil, index) }
        if index < count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            var exponentNegative = false
            if index < count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            var written = 0
            while index < count, bytes[index] &- 48 < 10 {
                // Far beyond any double's range either way; capped so that it cannot overflow.
                if written < 100_000 { written = written * 10 + Int(bytes[index] &- 48) }
                index += 1
            }
            guard index > exponentStart else { return (nil, index) }
            exponent += exponentNegative ? -written : written
        }
        if isInteger, !dropped, significand <= UInt64(Int64.max) {
            return (.int(negative ? -Int64(significand) : Int64(significand)), index)
        }
        let value: Double
        if !dropped, let fast = Number.double(significand: significand, exponent: exponent) {
            value = negative ? -fast : fast
        } else {
            // More than 19 significant digits: the standard library's parser, on text of a sane length.
            guard index - start < 400 else { return (nil, index) }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let parsed = Double(text) else { return (nil, index) }
            value = parsed
        }
        return (value.isFinite ? .double(value) : nil, index)
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
