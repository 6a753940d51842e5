public import XalorraML

/// The answers of `POST /predict/{model}`, both directions: the server writes them, `RemoteAPI` reads them back into
/// the same values `LocalAPI` returns.
extension Prediction: JSONRepresentable, JSONDecodable {
    /// `{"model":"xgb-v2","input":[1,2,3],"prediction":6,"version":"baseline"}`: the seed's order, then `version`;
    /// a multi-class model's answer adds `"probabilities":{"<label>":p,…}`.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("model", .string(model)), ("input", .numbers(input)), ("prediction", .number(prediction)),
            ("version", .string(version)),
        ]
        if let probabilities { members.append(("probabilities", probabilities.json)) }
        return .object(members)
    }

    /// Appends the compact JSON of ``json`` for one row of a batch to `out` without building a ``JSONValue``: batch
    /// output writes millions. A missing value of the row is `null` in its place, as the log has it.
    public static func writeJSON(
        model: String, input: some Collection<Number?>, prediction: Number, version: String, into out: inout [UInt8]
    ) {
        out.append(contentsOf: #"{"model":"#.utf8)
        JSONWriter.write(string: model, into: &out)
        out.append(contentsOf: #","input":"#.utf8)
        JSONWriter.write(cells: input, into: &out)
        out.append(contentsOf: #","prediction":"#.utf8)
        JSONWriter.write(number: prediction, into: &out)
        out.append(contentsOf: #","version":"#.utf8)
        JSONWriter.write(string: version, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Reads ``json`` back.
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            model: try json.text("model"), input: try json.numberList("input"), prediction: try json.numberField("prediction"),
            version: try json.text("version"),
            probabilities: try json["probabilities"].map { value throws(XalorraError) in try ClassProbabilities(json: value) })
    }
}

extension BatchPrediction: JSONRepresentable, JSONDecodable {
    /// `{"model":"m","version":"3","predictions":[…]}`: one prediction per row, in order; a multi-class model's
    /// answer adds `"probabilities":[{"<label>":p,…},…]`, one per row.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("model", .string(model)), ("version", .string(version)), ("predictions", .numbers(predictions)),
        ]
        if let probabilities { members.append(("probabilities", .array(probabilities.map(\.json)))) }
        return .object(members)
    }

    /// Reads ``json`` back.
    public init(json: JSONValue) throws(XalorraError) {
        var probabilities: [ClassProbabilities]?
        if json["probabilities"] != nil {
            probabilities = try json.list("probabilities").map { row throws(XalorraError) in
                try ClassProbabilities(json: row)
            }
        }
        self.init(
            model: try json.text("model"), version: try json.text("version"),
            predictions: try json.numberList("predictions"), probabilities: probabilities)
    }
}
