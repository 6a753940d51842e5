public import XalorraML

/// A JSON document whose objects keep their key order, so bodies come out exactly as the seed APIs show them.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Number)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// The value of `key` when this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The name JSON Schema gives this value's type, for error messages (`"string"`, `"array"`).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a.doubleValue == b.doubleValue
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

/// A type that has one JSON form, shared by `--json` output and the HTTP bodies.
public protocol JSONRepresentable {
    /// This value as JSON.
    var json: JSONValue { get }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .number(.int(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }

    /// A JSON string, or `null` for `nil`.
    public static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    /// A JSON integer.
    public static func int(_ value: some BinaryInteger) -> JSONValue { .number(.int(Int64(value))) }

    /// A JSON array of numbers.
    public static func numbers(_ values: some Sequence<Number>) -> JSONValue { .array(values.map { .number($0) }) }
}

extension JSONValue {
    /// The numbers of an array, as doubles; `nil` when this is not an array or holds anything but numbers. Model
    /// files are mostly such arrays.
    var doubles: [Double]? {
        guard case .array(let items) = self else { return nil }
        var result: [Double] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .number(let number) = item else { return nil }
            result.append(number.doubleValue)
        }
        return result
    }
}
