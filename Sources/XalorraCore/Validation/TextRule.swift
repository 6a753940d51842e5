/// The rule for a text field, declared once: the API checks input with it and the OpenAPI document publishes
/// ``schema``, so the two cannot drift. Lengths count Unicode scalars, as JSON Schema's `minLength`/`maxLength` do.
public struct TextRule: Sendable, Equatable {
    /// How a value must be built beyond its characters.
    public enum Shape: Sendable, Equatable {
        /// Any sequence of the allowed characters.
        case free
        /// `local@domain.tld`: one `@`, a dot in the domain with text on both sides, no whitespace.
        case email
    }

    /// Why a value breaks the rule, for the caller to word.
    public enum Problem: Sendable, Equatable {
        /// Shorter than ``minLength`` or longer than ``maxLength``.
        case length
        /// Longer than ``maxBytes`` in UTF-8.
        case bytes
        /// Holds a character the rule does not allow.
        case character(Unicode.Scalar)
        /// Nothing but whitespace.
        case blank
        /// Not of the ``Shape``.
        case shape
    }

    /// A required text member: present, and not only whitespace (what the server asks of `login`'s username).
    public static let required = TextRule(minLength: 1, nonBlank: true)

    /// The fewest characters.
    public let minLength: Int
    /// The most characters, if limited.
    public let maxLength: Int?
    /// The most UTF-8 bytes, if limited (bcrypt reads 72); JSON Schema cannot say this, the schema's description does.
    public let maxBytes: Int?
    /// The characters a value may hold.
    public let characters: ScalarClass
    /// The characters a value may start with, when narrower than ``characters`` (a model name starts with a letter
    /// or digit).
    public let first: ScalarClass?
    /// Whether a value needs a character other than whitespace.
    public let nonBlank: Bool
    /// Whether surrounding spaces and tabs are removed (``normalized(_:)``) before the check, as the Aksara API does.
    public let trims: Bool
    /// The value's form.
    public let shape: Shape

    /// Creates a rule.
    public init(
        length: ClosedRange<Int>? = nil, minLength: Int = 0, maxBytes: Int? = nil, first: ScalarClass? = nil,
        characters: ScalarClass = .text, nonBlank: Bool = false, trims: Bool = false, shape: Shape = .free
    ) {
        self.first = first
        self.minLength = length?.lowerBound ?? minLength
        self.maxLength = length?.upperBound
        self.maxBytes = maxBytes
        self.characters = characters
        self.nonBlank = nonBlank
        self.trims = trims
        self.shape = shape
    }

    /// The lengths in words: `3-50`, or `at least 6`.
    public var lengths: String { maxLength.map { "\(minLength)-\($0)" } ?? "at least \(minLength)" }

    /// `value` as the rule checks and keeps it: without surrounding spaces and tabs when the rule trims.
    public func normalized(_ value: String) -> String {
        trims ? String(Substring(value).trimmingWhitespace()) : value
    }

    /// The first problem of `value` (already ``normalized(_:)``), checked in this order: length, bytes, characters,
    /// blankness, shape; `nil` when it follows the rule.
    public func problem(_ value: String) -> Problem? {
        let scalars = value.unicodeScalars
        var count = 0
        var blank = true
        var refused: Unicode.Scalar?
        for scalar in scalars {
            if refused == nil, !(count == 0 ? first ?? characters : characters).contains(scalar) { refused = scalar }
            count += 1
            if nonBlank, blank, !ScalarClass.whitespace.contains(scalar) { blank = false }
        }
        if count < minLength || maxLength.map({ count > $0 }) == true { return .length }
        if let maxBytes, value.utf8.count > maxBytes { return .bytes }
        if let refused { return .character(refused) }
        if nonBlank, blank { return .blank }
        if shape == .email, !Self.isEmail(scalars) { return .shape }
        return nil
    }

    /// `local@domain.tld` without whitespace: what ``Shape/email`` asks for.
    private static func isEmail(_ scalars: String.UnicodeScalarView) -> Bool {
        let parts = scalars.split(separator: "@", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !scalars.contains(where: ScalarClass.whitespace.contains),
            let dot = parts[1].lastIndex(of: "."), dot != parts[1].startIndex,
            parts[1].index(after: dot) != parts[1].endIndex
        else { return false }
        return true
    }

    /// A problem in words, for fields with no message of their own: `must be 1-100 characters`.
    public func describe(_ problem: Problem) -> String {
        switch problem {
        case .length: "must be \(lengths) characters"
        case .bytes: "must be at most \(maxBytes ?? 0) bytes"
        case .character(let scalar): "must not contain \(ScalarClass.codePoint(scalar))"
        case .blank: "must not be blank"
        case .shape: "is not well formed"
        }
    }

    /// The JSON Schema of the rule: `type`, `minLength`, `maxLength` and a `pattern` saying the characters,
    /// blankness and shape (anchored: `^…$`), so that what the schema admits is what ``problem(_:)`` accepts. A
    /// trimming rule's schema describes values as they are kept, with no surrounding spaces to remove.
    public var schema: JSONValue {
        var members: [(String, JSONValue)] = [("type", "string")]
        if minLength > 0 { members.append(("minLength", .int(minLength))) }
        if let maxLength { members.append(("maxLength", .int(maxLength))) }
        if let pattern { members.append(("pattern", .string(pattern))) }
        if let maxBytes { members.append(("description", .string("At most \(maxBytes) bytes of UTF-8"))) }
        return .object(members)
    }

    /// The regular expression of the characters, blankness and shape; `nil` when any text will do.
    public var pattern: String? {
        let allowed = characters
        switch shape {
        case .email:
            let part = allowed.subtracting(.whitespace).subtracting(ScalarClass("@"))
            let tld = part.subtracting(ScalarClass("."))
            return "^\(part.regex)+@\(part.regex)+\\.\(tld.regex)+$"
        case .free:
            if let first { return "^\(first.regex)\(allowed.regex)*$" }
            let edges = allowed.subtracting(.blanks)
            if trims, minLength > 0, edges != allowed {
                // A kept value starts and ends with a character other than a space or tab (one that is not
                // whitespace at all, for a non-blank rule).
                let ends = nonBlank ? edges.subtracting(.whitespace) : edges
                return "^\(ends.regex)(\(allowed.regex)*\(ends.regex))?$"
            }
            let needed = nonBlank ? allowed.subtracting(.whitespace) : allowed
            if needed != allowed { return "^\(allowed.regex)*\(needed.regex)\(allowed.regex)*$" }
            return allowed == .all ? nil : "^\(allowed.regex)*$"
        }
    }
}
