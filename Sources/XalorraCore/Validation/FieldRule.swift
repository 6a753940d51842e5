import XalorraML

/// A field's rule of any kind, for tables of fields (the training settings) whose schema is written from the rules.
public enum FieldRule: Sendable, Equatable {
    case text(TextRule)
    case integer(IntegerRule)
    case number(NumberRule)
    /// One of these words.
    case choice([String])
    /// The rule, or JSON `null`.
    indirect case nullable(FieldRule)

    /// The field's JSON Schema.
    public var schema: JSONValue {
        switch self {
        case .text(let rule): rule.schema
        case .integer(let rule): rule.schema
        case .number(let rule): rule.schema
        case .choice(let words): .object([("enum", .array(words.map { .string($0) }))])
        case .nullable(let rule): Self.orNull(rule.schema)
        }
    }

    /// `schema` that also admits `null`: its `type` becomes `[type, "null"]` (an `enum` gains `null`).
    static func orNull(_ schema: JSONValue) -> JSONValue {
        guard case .object(let members) = schema else { return schema }
        return .object(members.map { key, value in
            switch (key, value) {
            case ("type", .string(let type)): (key, .array([.string(type), "null"]))
            case ("enum", .array(let words)): (key, .array(words + [.null]))
            default: (key, value)
            }
        })
    }
}

extension FieldRule {
    /// Why `value` breaks the rule (`must be between 1 and 16`, `must be a number`), or `nil`.
    public func problem(_ value: JSONValue) -> String? {
        switch (self, value) {
        case (.nullable, .null): return nil
        case (.nullable(let rule), _): return rule.problem(value)
        case (.integer(let rule), .number(let number)):
            let double = number.doubleValue
            guard double.rounded() == double else { return "must be a whole number" }
            guard let whole = Int(exactly: double) else { return "must be \(rule.bounds)" }
            return rule.problem(whole)
        case (.number(let rule), .number(let number)): return rule.problem(number.doubleValue)
        case (.integer, _), (.number, _): return "must be a number"
        case (.choice(let words), .string(let word)) where words.contains(word): return nil
        case (.choice(let words), _): return "must be one of \(words.joined(separator: ", "))"
        case (.text(let rule), .string(let text)): return rule.problem(text).map(rule.describe)
        case (.text, _): return "must be a string"
        }
    }

    /// A query parameter's text as the JSON value this rule reads: a number for a numeric rule when the text is one,
    /// `null` for `null` or `off` where the rule allows it, else the text.
    public func value(ofText text: String) -> JSONValue {
        switch self {
        case .nullable(let rule): text == "null" || text == "off" ? .null : rule.value(ofText: text)
        case .integer, .number: Number(text: text).map { .number($0) } ?? .string(text)
        case .text, .choice: .string(text)
        }
    }
}
