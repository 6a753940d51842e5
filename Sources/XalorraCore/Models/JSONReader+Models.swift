import XalorraML

/// The typed arrays model files are made of, read straight from the text: no ``JSONValue`` per number, and never
/// more elements than the caller allows (a model's node budget), so an endless array stops at the limit.
extension JSONReader {
    /// An array of JSON integers (`1`, never `1.0` or `1e0`), each in `range`; more than `limit` elements throw
    /// `overLimit`.
    mutating func integers(
        _ name: String, in range: ClosedRange<Int64>, limit: Int, overLimit: ModelFormatError
    ) throws -> [Int] {
        guard try peek() == .array else { throw ModelFormatError("\(name) is not an array") }
        try enterArray()
        var result: [Int] = []
        while try nextElement() {
            guard result.count < limit else { throw overLimit }
            guard try peek() == .number, case .int(let value) = try number() else {
                throw ModelFormatError("\(name) holds a non-integer")
            }
            guard range.contains(value) else {
                throw ModelFormatError("\(name) holds \(value), outside \(range.lowerBound)...\(range.upperBound)")
            }
            result.append(Int(value))
        }
        return result
    }

    /// An array of finite JSON numbers; more than `limit` elements throw `overLimit`.
    mutating func doubles(_ name: String, limit: Int, overLimit: ModelFormatError) throws -> [Double] {
        guard try peek() == .array else { throw ModelFormatError("\(name) is not an array of numbers") }
        try enterArray()
        var result: [Double] = []
        while try nextElement() {
            guard result.count < limit else { throw overLimit }
            guard try peek() == .number else { throw ModelFormatError("\(name) is not an array of numbers") }
            result.append(try number().doubleValue)
        }
        return result
    }

    /// An array of booleans, written as `true`/`false` or as 0/1; more than `limit` elements throw `overLimit`.
    mutating func flags(_ name: String, limit: Int, overLimit: ModelFormatError) throws -> [Bool] {
        guard try peek() == .array else { throw ModelFormatError("\(name) is not an array") }
        try enterArray()
        var result: [Bool] = []
        while try nextElement() {
            guard result.count < limit else { throw overLimit }
            let refusal = ModelFormatError("\(name) holds a value that is not 0, 1 or a boolean")
            switch try peek() {
            case .bool: result.append(try value() == .bool(true))
            case .number:
                switch try number() {
                case .int(0): result.append(false)
                case .int(1): result.append(true)
                default: throw refusal
                }
            default: throw refusal
            }
        }
        return result
    }

    /// The next value, which should be small (a parameter object, a name, a number): more than `limit` values in
    /// it are refused before any is built (see ``value(atMost:orThrow:)``).
    mutating func small(_ name: String, limit: Int = 1000) throws -> JSONValue {
        try value(
            atMost: limit,
            orThrow: ModelFormatError("\(name) holds more than \(limit) values, more than a model file has there"))
    }

    /// How many elements the next array has, skipping each; not an array throws.
    mutating func countElements(_ name: String) throws -> Int {
        guard try peek() == .array else { throw ModelFormatError("\(name) is not an array") }
        try enterArray()
        var count = 0
        while try nextElement() {
            try skip()
            count += 1
        }
        return count
    }
}

extension JSONReader {
    /// Reads one document with `body` and checks nothing follows it; JSON syntax errors become a
    /// ``ModelFormatError`` starting with `prefix` (`not an XGBoost JSON model: the file is not valid JSON`).
    static func readModel<T>(
        _ bytes: [UInt8], invalidJSON prefix: String, _ body: (inout JSONReader) throws -> T
    ) throws(ModelFormatError) -> T {
        do {
            return try bytes.withUnsafeBufferPointer { buffer in
                var reader = JSONReader(buffer)
                let result = try body(&reader)
                try reader.finish()
                return result
            }
        } catch let error as ModelFormatError {
            throw error
        } catch {
            throw ModelFormatError("\(prefix) (\(error))")
        }
    }
}
