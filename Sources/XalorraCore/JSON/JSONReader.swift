import XalorraML

/// Reads one JSON text a piece at a time, with ``JSONParser``'s grammar and checks: model files are read straight into
/// their node arrays, one tree at a time, instead of into a ``JSONValue`` tree many times the file's size, and a
/// reader can stop at the first tree over a limit.
///
/// ```swift
/// try reader.enterObject()
/// while let key = try reader.nextKey() {
///     if key == "trees" { … } else { try reader.skip() }
/// }
/// ```
struct JSONReader {
    /// What the next value is, by its first byte.
    enum Kind: Equatable {
        case object, array, string, number, bool, null

        /// The name JSON Schema gives the type, for error messages.
        var name: String {
            switch self {
            case .object: "object"
            case .array: "array"
            case .string: "string"
            case .number: "number"
            case .bool: "boolean"
            case .null: "null"
            }
        }
    }

    private var parser: JSONParser
    /// The keys seen so far in each object entered with ``enterObject()`` and not yet left, innermost last.
    private var openObjects: [ObjectKeys] = []
    /// For each container entered and not yet left, whether an element or member has been read (a comma is due).
    private var started: [Bool] = []

    /// A reader over `buffer`, which must outlive it, starting at byte `offset` (an ``offset`` an earlier reader of
    /// the same buffer was at, to read a value again).
    init(_ buffer: UnsafeBufferPointer<UInt8>, at offset: Int = 0) {
        parser = JSONParser(bytes: buffer)
        parser.position = offset
        parser.skipSpace()
    }

    /// The byte offset the reader is at, for messages.
    var offset: Int { parser.position }

    /// What the next value is; an error when there is no value here.
    mutating func peek() throws(JSONParseError) -> Kind {
        parser.skipSpace()
        guard parser.position < parser.bytes.count else { throw parser.error("unexpected end of input") }
        switch parser.bytes[parser.position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw parser.error("unexpected character")
        }
    }

    /// Enters the object that comes next; then ``nextKey()`` until it returns `nil`.
    mutating func enterObject() throws(JSONParseError) {
        guard try peek() == .object else { throw parser.error("expected an object") }
        try parser.enter()
        parser.position += 1
        openObjects.append(ObjectKeys())
        started.append(false)
    }

    /// The next member's key (the reader is then at its value, which must be read or skipped), or `nil` at the end
    /// of the object, which is then left. A key the object already had is refused.
    mutating func nextKey() throws(JSONParseError) -> String? {
        guard try separator(closing: UInt8(ascii: "}")) else {
            openObjects.removeLast()
            return nil
        }
        guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: "\"") else {
            throw parser.error("expected a key")
        }
        let start = parser.position
        let key = try parser.string()
        try openObjects[openObjects.count - 1].insert(key, at: start)
        parser.skipSpace()
        guard parser.position < parser.bytes.count, parser.bytes[parser.position] == UInt8(ascii: ":") else {
            throw parser.error("expected ':'")
        }
        parser.position += 1
        parser.skipSpace()
        return key
    }

    /// Enters the array that comes next; then ``nextElement()`` until it returns `false`.
    mutating func enterArray() throws(JSONParseError) {
        guard try peek() == .array else { throw parser.error("expected an array") }
        try parser.enter()
        parser.position += 1
        started.append(false)
    }

    /// Whether another element follows (the reader is then at it), or `false` at the end of the array, which is
    /// then left.
    mutating func nextElement() throws(JSONParseError) -> Bool {
        try separator(closing: UInt8(ascii: "]"))
    }

    /// Moves past the `,` between members or elements; `false` (and the container left) at `closing`.
    private mutating func separator(closing: UInt8) throws(JSONParseError) -> Bool {
        parser.skipSpace()
        guard parser.position < parser.bytes.count else { throw parser.error("unexpected end of input") }
        if parser.bytes[parser.position] == closing {
            // `{}`, `[]`, or the end after the last member (a comma always wants a member after it).
            parser.position += 1
            parser.depth -= 1
            started.removeLast()
            return false
        }
        if started[started.count - 1] {
            guard parser.bytes[parser.position] == UInt8(ascii: ",") else {
                throw parser.error(closing == UInt8(ascii: "}") ? "expected ',' or '}'" : "expected ',' or ']'")
            }
            parser.position += 1
            parser.skipSpace()
        }
        started[started.count - 1] = true
        return true
    }

    /// The next value, whole.
    mutating func value() throws(JSONParseError) -> JSONValue {
        parser.skipSpace()
        return try parser.value()
    }

    /// The next value, whole, when it holds at most `limit` values in all (itself, and its elements and members at
    /// any depth); a larger one throws `tooLarge` before anything is built. A ``JSONValue`` takes many times the
    /// bytes of its text, so a member that should be small (a parameter object, a name) is read with this: a 64 MB
    /// array where a name belongs costs a count, not a gigabyte.
    mutating func value(atMost limit: Int, orThrow tooLarge: some Error) throws -> JSONValue {
        let start = parser.position
        var count = 0
        try countValues(&count, limit: limit, tooLarge: tooLarge)
        parser.position = start
        return try value()
    }

    /// Skips the next value, counting it and everything in it into `count`; past `limit`, throws `tooLarge`.
    private mutating func countValues(_ count: inout Int, limit: Int, tooLarge: some Error) throws {
        count += 1
        guard count <= limit else { throw tooLarge }
        switch try peek() {
        case .object:
            try enterObject()
            while try nextKey() != nil { try countValues(&count, limit: limit, tooLarge: tooLarge) }
        case .array:
            try enterArray()
            while try nextElement() { try countValues(&count, limit: limit, tooLarge: tooLarge) }
        default:
            try skip()
        }
    }

    /// The next value, which must be a number.
    mutating func number() throws(JSONParseError) -> Number {
        guard try peek() == .number else { throw parser.error("expected a number") }
        return try parser.number()
    }

    /// The next value, which must be a string.
    mutating func string() throws(JSONParseError) -> String {
        guard try peek() == .string else { throw parser.error("expected a string") }
        return try parser.string()
    }

    /// Moves past the next value, checking it as ``JSONParser`` would but keeping nothing of it.
    mutating func skip() throws(JSONParseError) {
        switch try peek() {
        case .object:
            try enterObject()
            while try nextKey() != nil { try skip() }
        case .array:
            try enterArray()
            while try nextElement() { try skip() }
        case .string: _ = try parser.string()
        case .number: _ = try parser.number()
        case .bool, .null: _ = try parser.value()
        }
    }

    /// Checks that nothing but white space follows the document.
    mutating func finish() throws(JSONParseError) {
        parser.skipSpace()
        guard parser.position == parser.bytes.count else { throw parser.error("unexpected text after the JSON value") }
    }
}
