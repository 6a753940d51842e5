/// The rule for a whole-number field or query parameter, declared once: the API checks input with it and the OpenAPI
/// document publishes ``schema`` (`minimum`/`maximum`), so the two cannot drift.
public struct IntegerRule: Sendable, Equatable {
    /// The largest whole number a JSON number carries exactly (2^53 - 1): the bound of a field with no other.
    public static let largestExact = 9_007_199_254_740_991

    /// The smallest value allowed.
    public let min: Int
    /// The largest value allowed.
    public let max: Int

    /// Values in `range`.
    public init(_ range: ClosedRange<Int>) {
        min = range.lowerBound
        max = range.upperBound
    }

    /// Values from `min` up, as far as a JSON number is exact.
    public init(atLeast min: Int) { self.init(min...Self.largestExact) }

    /// The allowed values.
    public var range: ClosedRange<Int> { min...max }

    /// Whether `value` is allowed.
    public func allows(_ value: Int) -> Bool { range.contains(value) }

    /// The bounds in words: `between 1 and 16`, or `at least 1` when only the JSON bound caps it.
    public var bounds: String { max == Self.largestExact ? "at least \(min)" : "between \(min) and \(max)" }

    /// `must be between 1 and 16` for a value out of range, `nil` for one in it; above the JSON bound of a rule
    /// with no other, `must be at most 9007199254740991`.
    public func problem(_ value: Int) -> String? {
        if allows(value) { return nil }
        return value > max && max == Self.largestExact ? "must be at most \(max)" : "must be \(bounds)"
    }

    /// `{"type": "integer", "minimum": …, "maximum": …}`.
    public var schema: JSONValue {
        .object([("type", "integer"), ("minimum", .int(min)), ("maximum", .int(max))])
    }
}
