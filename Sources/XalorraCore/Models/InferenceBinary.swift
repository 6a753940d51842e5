import XalorraML

/// The Open Inference Protocol's binary tensor data extension: raw little-endian tensor bytes after the JSON header
/// (`Inference-Header-Content-Length` bytes of it), one run per input whose `parameters.binary_data_size` is set,
/// in input order; and the same for an output the client asked as binary.
///
/// A binary `FP16`/`FP32`/`FP64` NaN is a missing value (JSON has no NaN: this is how missing values arrive over the
/// protocol), so it becomes `nil` and the trees route it by their default directions; the baseline refuses it as it
/// refuses any missing value. An infinity is refused as the JSON path refuses a value beyond its type's range.
enum InferenceBinary {
    static var headerLengthField: String { InferenceRequest.headerLengthField }

    /// Bytes per element of `type`.
    static func elementSize(_ type: InferenceDatatype) -> Int {
        switch type {
        case .bool, .int8, .uint8: 1
        case .fp16, .int16, .uint16: 2
        case .fp32, .int32, .uint32: 4
        case .fp64, .int64, .uint64: 8
        }
    }

    /// The JSON header's length from the field's text: a whole number of bytes within the body's `count`.
    static func headerLength(_ text: String, bodyCount: Int) throws(XalorraError) -> Int {
        let trimmed = text.trimmingSpaces
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 &- 48 < 10 }), let length = Int(trimmed) else {
            throw XalorraError(
                .badRequest, "\(headerLengthField) must be a whole number of bytes, got '\(text.prefix(40))'")
        }
        guard length <= bodyCount else {
            throw XalorraError(
                .badRequest, "\(headerLengthField) is \(length), but the body has only \(bodyCount) bytes")
        }
        return length
    }

    /// The `count` values of `type` in `bytes` (little-endian, exactly `count` elements), as the JSON path reads them:
    /// integers as `.int` (`UINT64` above `Int64.max` as a whole double), floats as `.double` (NaN as `nil`),
    /// `BOOL` bytes 0/1 as 0/1. A value the type refuses is a 422 naming `field` and the element.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, as type: InferenceDatatype, count: Int, field: String
    ) throws(XalorraError) -> [Number?] {
        var values: [Number?] = []
        values.reserveCapacity(count)
        func load<T: FixedWidthInteger>(_ index: Int, _: T.Type) -> T {
            T(littleEndian: bytes.loadUnaligned(fromByteOffset: index &* MemoryLayout<T>.size, as: T.self))
        }
        func float(_ value: Double, _ index: Int) throws(XalorraError) -> Number? {
            if value.isNaN { return nil }
            guard value.isFinite else {
                throw XalorraError.invalid("\(field).data[\(index)]", "\(value) is out of range for \(type.rawValue)")
            }
            return .double(value)
        }
        switch type {
        case .fp32:
            for index in 0..<count {
                let value = Float(bitPattern: load(index, UInt32.self))
                if value.isNaN { values.append(nil) } else { values.append(try float(Double(value), index)) }
            }
        case .fp64:
            for index in 0..<count { values.append(try float(Double(bitPattern: load(index, UInt64.self)), index)) }
        case .fp16:
            for index in 0..<count { values.append(try float(halfToDouble(load(index, UInt16.self)), index)) }
        case .int8: for index in 0..<count { values.append(.int(Int64(Int8(bitPattern: load(index, UInt8.self))))) }
        case .int16: for index in 0..<count { values.append(.int(Int64(load(index, Int16.self)))) }
        case .int32: for index in 0..<count { values.append(.int(Int64(load(index, Int32.self)))) }
        case .int64: for index in 0..<count { values.append(.int(load(index, Int64.self))) }
        case .uint8: for index in 0..<count { values.append(.int(Int64(load(index, UInt8.self)))) }
        case .uint16: for index in 0..<count { values.append(.int(Int64(load(index, UInt16.self)))) }
        case .uint32: for index in 0..<count { values.append(.int(Int64(load(index, UInt32.self)))) }
        case .uint64:
            for index in 0..<count {
                let value = load(index, UInt64.self)
                values.append(value <= UInt64(Int64.max) ? .int(Int64(value)) : .double(Double(value)))
            }
        case .bool:
            for index in 0..<count {
                let value = load(index, UInt8.self)
                guard value <= 1 else {
                    throw XalorraError.invalid("\(field).data[\(index)]", "BOOL takes the bytes 0 and 1, got \(value)")
                }
                values.append(.int(Int64(value)))
            }
        }
        return values
    }

    /// An IEEE 754 half-precision value (`Float16` is not available on every platform Swift targets).
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = bits & 0x8000 == 0 ? 1 : -1
        let exponent = Int((bits >> 10) & 0x1F)
        let fraction = Double(bits & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24
        case 0x1F: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    /// The predictions as `type`'s little-endian bytes (`FP32`, `FP64` or `INT64`).
    static func encode(_ predictions: [Number], as type: InferenceDatatype, into bytes: inout [UInt8]) {
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.reserveCapacity(bytes.count + predictions.count * elementSize(type))
        for prediction in predictions {
            switch type {
            case .fp32: append(Float(prediction.doubleValue).bitPattern)
            case .int64:
                if case .int(let value) = prediction { append(value) } else { append(Int64(prediction.doubleValue)) }
            default: append(prediction.doubleValue.bitPattern)
            }
        }
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs (a field value's optional whitespace).
    fileprivate var trimmingSpaces: Substring {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !blank($0) }), let end = lastIndex(where: { !blank($0) }) else { return "" }
        return self[start...end]
    }
}
