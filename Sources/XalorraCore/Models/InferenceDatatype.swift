import XalorraML

/// The Open Inference Protocol's tensor datatypes that xalorra reads, and what each accepts: a value outside its
/// type's range, or not whole for an integer type, is refused rather than silently taken (`UINT8` 300 is not 300).
enum InferenceDatatype: String, CaseIterable {
    case fp16 = "FP16", fp32 = "FP32", fp64 = "FP64"
    case int8 = "INT8", int16 = "INT16", int32 = "INT32", int64 = "INT64"
    case uint8 = "UINT8", uint16 = "UINT16", uint32 = "UINT32", uint64 = "UINT64"
    case bool = "BOOL"

    /// Why a value does not fit.
    struct Refusal: Error {
        let reason: String
    }

    /// The number `value` stands for in this type: floats rounded to the type's precision, integers as `.int`
    /// (`UINT64` above `Int64.max` as a whole double), booleans as 1/0.
    func convert(_ value: JSONValue) -> Result<Number, Refusal> {
        switch (self, value) {
        case (.bool, .bool(let flag)): return .success(.int(flag ? 1 : 0))
        case (.bool, .number(.int(let number))) where number == 0 || number == 1: return .success(.int(number))
        case (.bool, _): return .failure(Refusal(reason: "BOOL takes true or false, got \(Self.describe(value))"))
        case (_, .number(let number)): return convert(number)
        default: return .failure(Refusal(reason: "expected a number, got \(value.typeName)"))
        }
    }

    /// `value` (at most 65504 in magnitude) rounded to the nearest FP16 value, ties to even: 11 significant bits,
    /// subnormals below 2^-14 in steps of 2^-24.
    static func roundedToHalf(_ value: Double) -> Double {
        guard value != 0, value.isFinite else { return value }
        let step = Double(sign: .plus, exponent: max(value.exponent, -14) - 10, significand: 1)
        return (value / step).rounded(.toNearestOrEven) * step
    }

    private func convert(_ number: Number) -> Result<Number, Refusal> {
        switch self {
        case .fp64: return .success(number)
        case .fp32, .fp16:
            // FP16's largest finite value is 65504; past it the client's value has no FP16 form.
            let value = number.doubleValue
            guard Float(value).isFinite, self == .fp32 || abs(value) <= 65_504 else {
                return .failure(Refusal(reason: "\(number) is out of range for \(rawValue)"))
            }
            guard case .double(let double) = number else { return .success(number) }
            // Rounded to the type's precision, as the client meant it (and as binary tensors of the type arrive).
            return .success(.double(self == .fp16 ? Self.roundedToHalf(double) : Double(Float(double))))
        case .int8: return whole(number, in: Int64(Int8.min)...Int64(Int8.max))
        case .int16: return whole(number, in: Int64(Int16.min)...Int64(Int16.max))
        case .int32: return whole(number, in: Int64(Int32.min)...Int64(Int32.max))
        case .int64: return whole(number, in: Int64.min...Int64.max)
        case .uint8: return whole(number, in: 0...Int64(UInt8.max))
        case .uint16: return whole(number, in: 0...Int64(UInt16.max))
        case .uint32: return whole(number, in: 0...Int64(UInt32.max))
        case .uint64:
            // Above Int64.max the JSON reader gives a double; 2^64 and beyond do not fit.
            if case .double(let double) = number, double >= 0x1p63, double < 0x1p64, double.rounded() == double {
                return .success(number)
            }
            return whole(number, in: 0...Int64.max)
        case .bool: return .failure(Refusal(reason: "BOOL takes true or false"))
        }
    }

    /// `number` as an integer in `range`, or why not.
    private func whole(_ number: Number, in range: ClosedRange<Int64>) -> Result<Number, Refusal> {
        let value: Int64?
        switch number {
        case .int(let integer): value = integer
        case .double(let double): value = Int64(exactly: double)
        }
        guard let value, range.contains(value) else {
            let whole = if case .double(let double) = number { double.rounded() == double } else { true }
            let reason = whole ? "is out of range for \(rawValue) (\(range.lowerBound) to \(range.upperBound))"
                : "is not a whole number, as \(rawValue) requires"
            return .failure(Refusal(reason: "\(number) \(reason)"))
        }
        return .success(.int(value))
    }

    private static func describe(_ value: JSONValue) -> String {
        if case .number(let number) = value { return "\(number)" }
        return value.typeName
    }
}
