import XalorraML

/// A type that can be read back from the JSON body the API answers with: how `RemoteAPI` turns responses into
/// the same values `LocalAPI` returns, so both print the same.
public protocol JSONDecodable {
    /// Reads the value from `json`, or fails naming the field that does not fit.
    init(json: JSONValue) throws(XalorraError)
}

extension JSONValue {
    /// The member `key`, or a failure naming it.
    public func member(_ key: String) throws(XalorraError) -> JSONValue {
        guard let value = self[key] else { throw JSONValue.unexpectedResponse("no '\(key)' in the response") }
        return value
    }

    public func text(_ key: String) throws(XalorraError) -> String {
        guard case .string(let value) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not a string") }
        return value
    }

    public func numberField(_ key: String) throws(XalorraError) -> Number {
        guard case .number(let value) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not a number") }
        return value
    }

    public func integer(_ key: String) throws(XalorraError) -> Int64 {
        guard case .int(let value) = try numberField(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not an integer") }
        return value
    }

    public func numberList(_ key: String) throws(XalorraError) -> [Number] {
        guard case .array(let items) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not an array") }
        return try items.map { item throws(XalorraError) in
            guard case .number(let value) = item else { throw JSONValue.unexpectedResponse("'\(key)' holds a non-number") }
            return value
        }
    }

    public func list(_ key: String) throws(XalorraError) -> [JSONValue] {
        guard case .array(let items) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not an array") }
        return items
    }

    public static func unexpectedResponse(_ message: String) -> XalorraError {
        XalorraError(.internal, "unexpected response from the server: \(message)")
    }

    /// The ISO time in `key`.
    func time(_ key: String) throws(XalorraError) -> Timestamp {
        let text = try self.text(key)
        guard let time = Timestamp(iso: text) else { throw JSONValue.unexpectedResponse("\(key) '\(text)'") }
        return time
    }
}
