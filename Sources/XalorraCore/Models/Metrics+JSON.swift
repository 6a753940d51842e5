public import XalorraML

extension Metrics: JSONRepresentable {
    /// `{"rows", "rmse"?, "mae"?, "r2"?, "log_loss"?, "accuracy"?, "auc"?}`: only the measures the kind has.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("rows", .int(rows))]
        for (name, value) in Self.fields(self) {
            if let value { members.append((name, .number(.double(value)))) }
        }
        return .object(members)
    }

    /// Reads what ``json`` wrote.
    public init(json: JSONValue) throws(XalorraError) {
        guard case .object = json, case .number(let rows)? = json["rows"] else {
            throw XalorraError.invalid("metrics", "expected an object with rows")
        }
        // An exported file is not trusted: `rows` becomes an `Int`, so it must be one (1e19 would trap).
        guard case .int(let count) = rows, count >= 0 else {
            throw XalorraError.invalid("metrics.rows", "must be a whole number, at least 0")
        }
        func value(_ name: String) -> Double? {
            if case .number(let number)? = json[name] { return number.doubleValue }
            return nil
        }
        self.init(
            rows: Int(count), rmse: value("rmse"), mae: value("mae"), r2: value("r2"),
            logLoss: value("log_loss"), accuracy: value("accuracy"), auc: value("auc"))
    }

    /// The measures by their JSON names, in display order.
    public static func fields(_ metrics: Metrics) -> [(String, Double?)] {
        [
            ("rmse", metrics.rmse), ("mae", metrics.mae), ("r2", metrics.r2), ("log_loss", metrics.logLoss),
            ("accuracy", metrics.accuracy), ("auc", metrics.auc),
        ]
    }
}
