import XalorraCore

/// Reads the typed fields of a JSON object body and collects every problem, so that one 422 names each bad field
/// with the Aksara API's messages (`Username is required`, `Email must be a string`).
struct BodyFields {
    private let body: JSONValue
    private var problems: [XalorraError.FieldError] = []

    /// The body of `input`: 400 when it is not JSON, 422 when it is not an object.
    init(_ input: HTTPInput) throws(XalorraError) {
        body = try input.json()
        guard case .object = body else {
            throw XalorraError.invalidFields([.init(field: "body", message: "Expected a JSON object, got \(body.typeName)")])
        }
    }

    /// A string field; a required one must be present and, unless `allowBlank`, not blank.
    mutating func string(_ name: String, required: Bool = false, allowBlank: Bool = false) -> String? {
        switch body[name] {
        case .string(let value)?:
            if required, !allowBlank, value.allSatisfy(\.isWhitespace) { problem(name, "is required") }
            return value
        case nil, .null?:
            if required { problem(name, "is required") }
            return nil
        case let other?:
            problem(name, "must be a string, got \(other.typeName)")
            return nil
        }
    }

    /// A boolean field.
    mutating func bool(_ name: String) -> Bool? {
        switch body[name] {
        case .bool(let value)?: return value
        case nil, .null?: return nil
        case let other?:
            problem(name, "must be true or false, got \(other.typeName)")
            return nil
        }
    }

    /// `admin` or `user`.
    mutating func role(_ name: String) -> Role? {
        guard let text = string(name) else { return nil }
        guard let role = Role(rawValue: text) else {
            problem(name, "must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return role
    }

    /// Runs the domain validation too (`NewUser`, `UserChanges`), merging its problems with these, a field
    /// named once; throws one 422 for all of them.
    mutating func validate<T>(_ make: () throws(XalorraError) -> T) throws(XalorraError) -> T {
        var made: T?
        do {
            made = try make()
        } catch where error.code == .validation {
            let named = Set(problems.map(\.field))
            problems += error.details.filter { !named.contains($0.field) }
        }
        guard problems.isEmpty, let made else {
            throw XalorraError.invalidFields(problems)
        }
        return made
    }

    private mutating func problem(_ field: String, _ message: String) {
        let label = field.prefix(1).uppercased() + field.dropFirst().replacingUnderscores()
        problems.append(.init(field: field, message: "\(label) \(message)"))
    }
}

extension Substring {
    fileprivate func replacingUnderscores() -> String { String(map { $0 == "_" ? " " : $0 }) }
}
