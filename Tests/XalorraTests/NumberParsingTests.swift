import Foundation
import Testing
@testable import XalorraCore
import XalorraML

/// `Number(bytes:)` parses doubles itself (Clinger's exact path, then Eisel-Lemire, then the standard library for
/// what those leave open): every double must be the one the standard library's correctly rounded parser gives.
@Suite struct NumberParsingTests {
    /// What the standard library makes of `text`, as `Number(bytes:)` answered before it parsed doubles itself.
    static func reference(_ text: String) -> Number? {
        if let integer = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .int(integer) }
        guard let value = Double(text), value.isFinite else { return nil }
        return .double(value)
    }

    static func parse(_ text: String) -> Number? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { Number(bytes: UnsafeBufferPointer($0)) }
    }

    /// Both parse to the same bits (`-0.0 == 0.0`, so compare bit patterns).
    static func same(_ text: String) -> Bool {
        switch (parse(text), reference(text)) {
        case (.int(let a)?, .int(let b)?): a == b
        case (.double(let a)?, .double(let b)?): a.bitPattern == b.bitPattern
        case (nil, nil): true
        default: false
        }
    }

    /// Hard cases: halfway points, the edges of the range and of subnormals, long significands, float32 values
    /// widened (what every OIP FP32 tensor sends), exponents far out.
    @Test func edgeCasesMatchTheStandardLibrary() {
        let cases = [
            "0.0", "-0.0", "0e0", "1e0", "1.5", "-2.5e-3", "9007199254740993.0", "9007199254740995.0",
            "9007199254740993e0", "1e23", "8.98846567431158e307", "1.7976931348623157e308", "1.7976931348623158e308",
            "1.7976931348623159e308", "2.2250738585072011e-308", "2.2250738585072014e-308", "4.9e-324", "5e-324",
            "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-400", "1e400", "123456789012345678901234567890",
            "0.30000000000000004", "0.1", "0.2", "0.7", "0.699999988079071", "-2.999999761581421", "1e-7", "1e22",
            "1e-22", "4503599627370497.5", "7.2057594037927933e16", "1.00000000000000011102230246251565404236316680908203125",
            "1.00000000000000011102230246251565404236316680908203124", "9.999999999999999e22", "1e308", "1e-342",
            "1e-343", "123.456e-5", ".5", "5.", "+1.5", "12345678901234567890", "1234567890123456789.5",
            "0.000000000000000000000000000001234", "00.5", "3.4028234663852886e38", "1.1754943508222875e-38",
        ]
        for text in cases { #expect(Self.same(text), "\(text): \(String(describing: Self.parse(text)))") }
    }

    /// Random doubles in their shortest form and with 17 and 19 digits, random float32 values widened, random short
    /// decimals with any exponent: the same as the standard library, every one.
    @Test func randomNumbersMatchTheStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        var mismatches: [String] = []
        for round in 0..<200_000 {
            let text: String
            switch round % 5 {
            case 0:
                let value = Double(bitPattern: UInt64.random(in: 0...0x7FEF_FFFF_FFFF_FFFF, using: &generator))
                text = value.description
            case 1:
                let value = Double(Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &generator)))
                text = value.description
            case 2:
                text = String(format: "%.16e", Double.random(in: -1e6...1e6, using: &generator))
            case 3:
                text = "\(UInt64.random(in: 0...9_999_999_999_999_999_999, using: &generator))e\(Int.random(in: -360...330))"
            default:
                text = "0.\(UInt32.random(in: 0...999_999_999))e\(Int.random(in: -30...30))"
            }
            if !Self.same(text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// What is not a JSON or CSV number stays refused.
    @Test func nonNumbersAreRefused() {
        for text in ["", "-", "+", ".", "e5", "1e", "1e+", "nan", "inf", "-inf", "0x10", "1.2.3", "1e5.5", "--1", " 1"] {
            #expect(Self.parse(text) == nil, "\(text)")
        }
    }

    /// JSON reads numbers in one pass with its own grammar: digits on both sides of a point, no `+`, no leading
    /// zero, nothing that continues a number after it; what it takes is what `Number(bytes:)` gives.
    @Test func jsonTakesOnlyJSONNumbers() throws {
        for text in ["1.", ".5", "+1", "01", "1.2.3", "-", "1e", "1e+", "--1", "1ee5", "0x1", "1e5.5", "-.5",
                     String(repeating: "1", count: 500) + ".5"] {
            #expect(throws: JSONParseError.self, "\(text)") { try JSONParser.parse("[\(text)]") }
        }
        for text in ["0", "-0", "1E5", "-0.5e-3", "123456789012345678901234567890", "0.699999988079071", "1e-400"] {
            let parsed = try JSONParser.parse("[\(text), 1]")
            #expect(parsed == .array([.number(try #require(Self.parse(text))), .number(.int(1))]), "\(text)")
        }
    }
}
