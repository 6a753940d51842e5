extension Number {
    /// `significand × 10^exponent` correctly rounded to a double, or `nil` in the rare cases this does not decide
    /// (a subnormal result, a product too close to call), where the caller parses the text with the standard library.
    ///
    /// Parsing numbers was the largest cost of reading a batch: the standard library formats a `String` and calls
    /// `strtod`, which takes its slow path for the 17 digits of every float32 an OIP client sends. Here: Clinger's
    /// exact path when both factors are exact doubles, otherwise Eisel and Lemire's algorithm (Lemire, "Number
    /// Parsing at a Gigabyte per Second", 2021) with the 128-bit powers of five of `PowersOfFive.swift`.
    @inlinable
    static func double(significand: UInt64, exponent: Int) -> Double? {
        if significand == 0 { return 0 }
        if significand <= 1 << 53, exponent >= -22, exponent <= 22 {
            let scale = exactPowersOfTen[exponent < 0 ? -exponent : exponent]
            return exponent < 0 ? Double(significand) / scale : Double(significand) * scale
        }
        return eiselLemire(significand, exponent)
    }

    /// 10^0 … 10^22: every one is a double exactly.
    @usableFromInline
    static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ]

    /// The Eisel-Lemire step for a nonzero `significand`: `nil` where it cannot decide.
    @usableFromInline
    static func eiselLemire(_ significand: UInt64, _ exponent: Int) -> Double? {
        // Below 10^-342 even the largest significand underflows to zero; above 10^308 every one overflows.
        if exponent < -342 { return 0 }
        if exponent > 308 { return .infinity }
        let zeros = significand.leadingZeroBitCount
        let w = significand << UInt64(zeros)
        let index = 2 * (exponent + 342)
        // The top 64 bits of w × 5^exponent are enough unless the bits below the 55 that matter are all ones; then
        // the lower word of the power refines the product.
        var (high, low) = w.multipliedFullWidth(by: powersOfFive[index])
        let mask: UInt64 = .max >> 55
        if high & mask == mask {
            let (carry, _) = w.multipliedFullWidth(by: powersOfFive[index + 1])
            let (sum, overflow) = low.addingReportingOverflow(carry)
            low = sum
            if overflow { high &+= 1 }
        }
        if low == .max, exponent < -27 || exponent > 55 { return nil }
        let upper = Int(high >> 63)
        let shift = UInt64(upper + 64 - 52 - 3)
        var mantissa = high >> shift
        // log2(10) ≈ 217706 / 2^16, good over every exponent a double has.
        var power = ((exponent * (152_170 + 65_536)) >> 16) + 63 + upper - zeros + 1023
        if power <= 0 { return nil }
        // Exactly halfway between two doubles (only possible where 5^exponent fits 64 bits): round to even.
        if low <= 1, exponent >= -4, exponent <= 23, mantissa & 3 == 1, mantissa << shift == high {
            mantissa &= ~1
        }
        mantissa += mantissa & 1
        mantissa >>= 1
        if mantissa >= 2 << 52 {
            mantissa = 1 << 52
            power += 1
        }
        mantissa &= ~(1 << 52)
        if power >= 0x7FF { return .infinity }
        return Double(bitPattern: UInt64(power) << 52 | mantissa)
    }

    /// Whether the eight bytes of `word` (little-endian) are all ASCII digits.
    @inline(__always)
    static func areEightDigits(_ word: UInt64) -> Bool {
        (word & 0xF0F0_F0F0_F0F0_F0F0) | (((word &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
            == 0x3333_3333_3333_3333
    }

    /// The value of eight ASCII digits loaded little-endian into `word` (first digit in the lowest byte), computed
    /// in three multiplications instead of eight dependent ones.
    @inline(__always)
    static func eightDigits(_ word: UInt64) -> UInt64 {
        var value = word &- 0x3030_3030_3030_3030
        value = (value &* 10) &+ (value >> 8)
        let pairs = value & 0x0000_00FF_0000_00FF
        let nextPairs = (value >> 16) & 0x0000_00FF_0000_00FF
        return (pairs &* (100 + (1_000_000 << 32)) &+ nextPairs &* (1 + (10_000 << 32))) >> 32
    }
}
