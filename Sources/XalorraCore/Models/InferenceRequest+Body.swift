import XalorraML

extension JSONParser {
    /// The `inputs` of an OIP `infer` body: as ``value()`` reads it, except that each tensor object's `data`, when it
    /// is plain numbers (flat, or rows of numbers), is read into `data` (by the tensor's index) and left out of the
    /// tensor. Most of an `infer` body is that one array.
    mutating func tensors(taking data: inout [Int: NumberArray]) throws(JSONParseError) -> JSONValue {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { return try value() }
        try enter()
        defer { depth -= 1 }
        position += 1
        var items: [JSONValue] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "{") {
                var numbers = NumberArray()
                var took = false
                var expected = 0
                items.append(try object { parser, key throws(JSONParseError) in
                    if key == "shape" {
                        // Read first by every client: the cells' room is taken at once, not doubled as they come.
                        let shape = try parser.value()
                        expected = Self.valueCount(shape)
                        return .kept(shape)
                    }
                    guard key == "data", !took else { return .notRead }
                    numbers.cells.reserveCapacity(expected)
                    guard parser.readNumbers(into: &numbers) else { return .notRead }
                    took = true
                    return .taken
                })
                if took { data[items.count - 1] = numbers }
            } else {
                items.append(try value())
            }
            skipSpace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "]") else { throw error("expected ',' or ']'") }
            position += 1
            return .array(items)
        }
    }
}

extension JSONParser {
    /// How many values a tensor of `shape` holds, when it is a list of sizes within ``InferenceRequest/maxValues``;
    /// 0 otherwise (the request's own checks refuse it later).
    static func valueCount(_ shape: JSONValue) -> Int {
        guard case .array(let sizes) = shape, (1...2).contains(sizes.count) else { return 0 }
        var count = 1
        for size in sizes {
            guard case .number(.int(let value)) = size, value >= 0, value <= Int64(InferenceRequest.maxValues) else {
                return 0
            }
            count *= Int(value)
        }
        return count <= InferenceRequest.maxValues ? count : 0
    }
}

extension InferenceRequest {
    /// The JSON header of an `infer` body (its first `length` bytes), and the `data` of each input read straight
    /// into cells where it is plain numbers (``JSONParser/tensors(taking:)``).
    static func parse(
        _ body: [UInt8], length: Int
    ) throws(JSONParseError) -> (json: JSONValue, data: [Int: NumberArray]) {
        var data: [Int: NumberArray] = [:]
        let parsed = try body.withUnsafeBufferPointer { bytes throws(JSONParseError) in
            try JSONParser.parse(UnsafeBufferPointer(rebasing: bytes[..<length])) { parser, key throws(JSONParseError) in
                guard key == "inputs" else { return .notRead }
                return .kept(try parser.tensors(taking: &data))
            }
        }
        return (parsed.value, parsed.read ? data : [:])
    }
}
