public import XalorraML

/// The rule for a number field (a fraction, a rate, a penalty), declared once: the API checks input with it and the
/// OpenAPI document publishes ``schema``, so the two cannot drift. Values must be finite.
public struct NumberRule: Sendable, Equatable {
    /// A bound and whether the bound itself is allowed.
    public struct Bound: Sendable, Equatable {
        public let value: Number
        public let inclusive: Bool
    }

    /// The lower bound, if any.
    public let lower: Bound?
    /// The upper bound, if any.
    public let upper: Bound?

    /// A number `atLeast` or `above` one value and `atMost` or `below` another (give one of each pair, or none).
    public init(atLeast: Number? = nil, above: Number? = nil, atMost: Number? = nil, below: Number? = nil) {
        lower = atLeast.map { Bound(value: $0, inclusive: true) } ?? above.map { Bound(value: $0, inclusive: false) }
        upper = atMost.map { Bound(value: $0, inclusive: true) } ?? below.map { Bound(value: $0, inclusive: false) }
    }

    /// Whether `value` is allowed.
    public func allows(_ value: Double) -> Bool {
        guard value.isFinite else { return false }
        if let lower, lower.inclusive ? value < lower.value.doubleValue : value <= lower.value.doubleValue {
            return false
        }
        if let upper, upper.inclusive ? value > upper.value.doubleValue : value >= upper.value.doubleValue {
            return false
        }
        return true
    }

    /// The bounds in words: `greater than 0 and at most 1`, `at least 0`.
    public var bounds: String {
        let low = lower.map { ($0.inclusive ? "at least " : "greater than ") + $0.value.description }
        let high = upper.map { ($0.inclusive ? "at most " : "below ") + $0.value.description }
        return [low, high].compactMap { $0 }.joined(separator: " and ")
    }

    /// `must be greater than 0 and at most 1` for a value out of range (`must be a finite number, at least 0` for
    /// an infinite one), `nil` for one in it.
    public func problem(_ value: Double) -> String? {
        if allows(value) { return nil }
        if !value.isFinite { return bounds.isEmpty ? "must be a finite number" : "must be a finite number, \(bounds)" }
        return "must be \(bounds)"
    }

    /// `{"type": "number"}` with `minimum`/`exclusiveMinimum` and `maximum`/`exclusiveMaximum`.
    public var schema: JSONValue {
        var members: [(String, JSONValue)] = [("type", "number")]
        if let lower { members.append((lower.inclusive ? "minimum" : "exclusiveMinimum", .number(lower.value))) }
        if let upper { members.append((upper.inclusive ? "maximum" : "exclusiveMaximum", .number(upper.value))) }
        return .object(members)
    }
}
