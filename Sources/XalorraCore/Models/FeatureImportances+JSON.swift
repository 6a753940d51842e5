public import XalorraML

extension FeatureImportances {
    /// `{"gain": {"<feature>": g, …}, "splits": {"<feature>": n, …}}`, features in the model's order (`gain` is
    /// `null` for trees stored without gains).
    public func json(features: [String]) -> JSONValue {
        func named<T>(_ values: [T], _ value: (T) -> JSONValue) -> JSONValue {
            .object(zip(features, values).map { ($0.0, value($0.1)) })
        }
        return .object([
            ("gain", gain.map { named($0) { .number(.double($0)) } } ?? .null),
            ("splits", named(splits) { .int($0) }),
        ])
    }

    /// Reads ``json(features:)`` back for `features`.
    public init(json: JSONValue, features: [String]) throws(XalorraError) {
        func values(_ key: String) throws(XalorraError) -> [Double]? {
            guard let member = json[key], member != .null else { return nil }
            guard case .object(let members) = member, members.map(\.0) == features else {
                throw JSONValue.unexpectedResponse("importances.\(key) does not name the model's features")
            }
            var result: [Double] = []
            for (name, value) in members {
                guard case .number(let number) = value else {
                    throw JSONValue.unexpectedResponse("importances.\(key).\(name) is not a number")
                }
                result.append(number.doubleValue)
            }
            return result
        }
        guard let splits = try values("splits") else {
            throw JSONValue.unexpectedResponse("importances has no \"splits\"")
        }
        self.init(gain: try values("gain"), splits: splits.map { Int($0) })
    }
}
