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
                items.append(try object { parser, key in
                    guard key == "data", !took, parser.readNumbers(into: &numbers) else { return .notRead }
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
