import XalorraML

/// Why a JSON text could not be parsed, with the byte offset where parsing stopped.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 0-based byte offset of the problem.
    public let offset: Int
    /// What was expected or found.
    public let reason: String

    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict RFC 8259 parser: no comments, no trailing commas, no `NaN`, valid UTF-8 only, bounded nesting, and no
/// object with the same key twice (RFC 8259 leaves duplicates to the reader; taking the first or the last lets two
/// readers of one body disagree about what it says, so they are refused).
public struct JSONParser {
    /// Nesting deeper than this is refused rather than risking the stack.
    public static let maxDepth = 64

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// Parses one complete JSON document from `text`.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses one complete JSON document from UTF-8 `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer) }
    }

    /// Parses one complete JSON document; anything but white space after it is an error.
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: buffer)
        parser.skipSpace()
        let value = try parser.value()
        parser.skipSpace()
        guard parser.position == buffer.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: position, reason: reason) }

    mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func value() throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("unexpected end of input") }
        for index in 0..<count where bytes[position + index] != word.utf8Start[index] {
            throw error("unexpected character")
        }
        position += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    /// What a ``MemberReader`` did with a member's value.
    enum MemberRead {
        /// Nothing: ``value()`` reads it.
        case notRead
        /// Read it into this value, which the object keeps.
        case kept(JSONValue)
        /// Read it outside the tree: the object leaves the member out.
        case taken
    }

    /// Reads a member's value in place of ``value()``, given the parser after the member's key and `:`.
    typealias MemberReader = (inout JSONParser, _ key: String) throws(JSONParseError) -> MemberRead

    private mutating func object() throws(JSONParseError) -> JSONValue {
        try object { _, _ in .notRead }
    }

    /// The object at the parser's position, each member's value read by `reader` or, where it does not, by
    /// ``value()``.
    mutating func object(reading reader: MemberReader) throws(JSONParseError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var members: [(String, JSONValue)] = []
        // Past a few keys, a set finds a repeat (an object of 100,000 keys must not cost 10^10 comparisons).
        var keys: Set<String>?
        // The keys of members a reader took out of the tree: a repeat of one is refused all the same.
        var taken: [String] = []
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a key") }
            let start = position
            let key = try string()
            let repeated: Bool
            if members.count + taken.count < ObjectKeys.scanned {
                repeated = members.contains { $0.0 == key } || taken.contains(key)
            } else {
                if keys == nil { keys = Set(members.lazy.map(\.0)).union(taken) }
                repeated = !keys!.insert(key).inserted
            }
            if repeated { throw ObjectKeys.duplicate(key, at: start) }
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipSpace()
            switch try reader(&self, key) {
            case .notRead: members.append((key, try value()))
            case .kept(let value): members.append((key, value))
            case .taken: taken.append(key)
            }
            skipSpace()
            guard position < bytes.count else { throw error("unexpected end of input") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            guard bytes[position] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            position += 1
            return .object(members)
        }
    }

    private mutating func array() throws(JSONParseError) -> JSONValue {
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
            items.append(try value())
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

    mutating func number() throws(JSONParseError) -> Number {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < bytes.count, bytes[position] &- 48 < 10 else { throw error("invalid number") }
        if bytes[position] == UInt8(ascii: "0"), position + 1 < bytes.count, bytes[position + 1] &- 48 < 10 {
            throw error("invalid number (leading zero)")
        }
        // One pass reads and converts the number (JSON's grammar: digits on both sides of a point).
        let (number, end) = Number.scan(bytes, from: start, json: true)
        position = end
        // What the number stopped at may not continue it (`1.2.3`, `1e5e`, `1.`).
        if end < bytes.count {
            let byte = bytes[end]
            if byte &- 48 < 10 || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") {
                throw JSONParseError(offset: start, reason: "invalid number")
            }
        }
        guard let number else { throw JSONParseError(offset: start, reason: "invalid or out-of-range number") }
        return number
    }

    mutating func string() throws(JSONParseError) -> String {
        position += 1
        let start = position
        // Fast path: no escapes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<position])
                position += 1
                guard let text = String(validating: raw, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "invalid UTF-8 in a string")
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("control character in a string") }
            position += 1
        }
        var out = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw JSONParseError(offset: start, reason: "invalid UTF-8 in a string")
                }
                return text
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { throw error("unexpected end of input") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): try unicodeEscape(into: &out)
                default: throw error("invalid escape")
                }
            case 0..<0x20: throw error("control character in a string")
            default: out.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("unexpected end of input") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - 87
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - 55
            default: throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    private mutating func unicodeEscape(into out: inout [UInt8]) throws(JSONParseError) {
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
            else { throw error("unpaired surrogate in \\u escape") }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
            throw error("unpaired surrogate in \\u escape")
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
        out.append(contentsOf: UTF8.encode(unicode)!)
    }
}

/// The keys of one object so far, to refuse a repeated one: a short list scanned for the few keys most objects
/// have, a set once there are many (an object of 100,000 keys must not cost 10^10 comparisons).
struct ObjectKeys {
    /// Up to this many keys, a new key is compared with each; past it, a set is used.
    static let scanned = 16

    private var few: [String] = []
    private var many: Set<String>?

    /// Adds `key`, refusing it when the object already has it; `offset` is where the key starts, for the error.
    mutating func insert(_ key: String, at offset: Int) throws(JSONParseError) {
        let fresh: Bool
        if many != nil {
            fresh = many!.insert(key).inserted
        } else if few.count < Self.scanned {
            fresh = !few.contains(key)
            if fresh { few.append(key) }
        } else {
            var set = Set(few)
            fresh = set.insert(key).inserted
            many = set
            few = []
        }
        guard fresh else { throw Self.duplicate(key, at: offset) }
    }

    /// The error for `key` given again at `offset`; a long key is shown cut.
    static func duplicate(_ key: String, at offset: Int) -> JSONParseError {
        let scalars = key.unicodeScalars
        let shown = scalars.count > 64 ? String(String.UnicodeScalarView(scalars.prefix(64))) + "…" : key
        return JSONParseError(offset: offset, reason: "duplicate key \"\(shown)\"")
    }
}

extension JSONParseError {
    /// The 400 for a request body that is not one JSON value: the reason in the message (the inference protocol's
    /// `{"error": "…"}` has no details) and in the details, as the seed's `VALIDATION_ERROR` has it.
    public func badRequest(bodyIsEmpty: Bool = false) -> XalorraError {
        let reason = bodyIsEmpty ? "the body is empty" : description
        return XalorraError(.badRequest, "Malformed JSON body: \(reason)", details: [.init(field: "body", message: reason)])
    }
}
