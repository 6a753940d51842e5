import XalorraML

/// The report's one JSON form (the envelope's `data` in `GET /models/{name}/drift` and `models drift --json`), and
/// reading it back so `RemoteAPI` returns what `LocalAPI` does.
extension DriftReport: JSONRepresentable, JSONDecodable {
    /// `{"model","version","since","until","rows","training_rows","verdict","drifted","thresholds","features",
    /// "prediction"}`; a PSI or missing share is `null` when no rows were logged (never NaN).
    public var json: JSONValue {
        .object([
            ("model", .string(model)), ("version", .string(String(version))), ("since", .string(since.iso8601)),
            ("until", .string(until.iso8601)), ("rows", .int(rows)), ("training_rows", .int(trainingRows)),
            ("verdict", .string(verdict.rawValue)), ("drifted", .array(drifted.map { .string($0) })),
            ("thresholds", .object([
                ("moderate", .number(.double(PopulationStability.moderate))),
                ("drifted", .number(.double(PopulationStability.drifted))),
            ])),
            ("features", .array(features.map(\.json))),
            ("prediction", prediction.json),
        ])
    }

    public init(json: JSONValue) throws(XalorraError) {
        let versionText = try json.text("version")
        guard let version = Int(versionText) else { throw JSONValue.unexpectedResponse("version '\(versionText)'") }
        self.init(
            model: try json.text("model"), version: version, since: try json.time("since"), until: try json.time("until"),
            rows: Int(try json.integer("rows")), trainingRows: Int(try json.integer("training_rows")),
            features: try json.list("features").map { item throws(XalorraError) in try Column(json: item) },
            prediction: try Column(json: try json.member("prediction")))
    }

    /// The envelope's message: the verdict in words.
    public var message: String {
        guard rows > 0 else {
            // No time in the sentence: it is the same whoever computed the window a second later (the times are in
            // the JSON form).
            return "no predictions of \(reference) were logged in the window: nothing to compare"
        }
        let noun = rows == 1 ? "row" : "rows"
        switch verdict {
        case .drifted:
            let names = drifted.isEmpty ? "the predictions" : drifted.joined(separator: ", ")
            return "\(reference) has drifted over \(rows) logged \(noun): PSI >= 0.2 for \(names)"
        case .moderate: return "\(reference) shifted moderately over \(rows) logged \(noun) (a PSI >= 0.1)"
        case .stable, .noData: return "\(reference) is stable over \(rows) logged \(noun) (every PSI < 0.1)"
        }
    }
}

extension DriftReport.Column: JSONRepresentable, JSONDecodable {
    /// `{"name","psi","missing_share","training_missing_share","verdict"}`.
    public var json: JSONValue {
        .object([
            ("name", .string(name)), ("psi", psi.map { .number(.double($0)) } ?? .null),
            ("missing_share", missingShare.map { .number(.double($0)) } ?? .null),
            ("training_missing_share", .number(.double(trainingMissingShare))), ("verdict", .string(verdict.rawValue)),
        ])
    }

    public init(json: JSONValue) throws(XalorraError) {
        func optional(_ key: String) throws(XalorraError) -> Double? {
            let value = try json.member(key)
            if value == .null { return nil }
            guard case .number(let number) = value else { throw JSONValue.unexpectedResponse("'\(key)' is not a number") }
            return number.doubleValue
        }
        self.init(
            name: try json.text("name"), psi: try optional("psi"), missingShare: try optional("missing_share"),
            trainingMissingShare: try json.numberField("training_missing_share").doubleValue)
    }
}
