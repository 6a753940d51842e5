public import XalorraML

/// The answer to one prediction request: the seed's body plus the version that answered.
public struct Prediction: Sendable, Equatable {
    /// The model name as requested (without any `@version`).
    public let model: String
    /// The features as given.
    public let input: [Number]
    /// The model's output.
    public let prediction: Number
    /// `baseline`, or the trained version number as a string.
    public let version: String

    /// Creates a prediction.
    public init(model: String, input: [Number], prediction: Number, version: String) {
        self.model = model
        self.input = input
        self.prediction = prediction
        self.version = version
    }
}

extension Prediction: JSONRepresentable {
    /// `{"model":"xgb-v2","input":[1,2,3],"prediction":6,"version":"baseline"}`: the seed's order, then `version`.
    public var json: JSONValue {
        .object([
            ("model", .string(model)), ("input", .numbers(input)), ("prediction", .number(prediction)),
            ("version", .string(version)),
        ])
    }

    /// Appends the compact JSON of ``json`` to `out` without building a ``JSONValue``: batch output writes millions.
    public static func writeJSON(
        model: String, input: some Collection<Number>, prediction: Number, version: String, into out: inout [UInt8]
    ) {
        out.append(contentsOf: #"{"model":"#.utf8)
        JSONWriter.write(string: model, into: &out)
        out.append(contentsOf: #","input":"#.utf8)
        JSONWriter.write(numbers: input, into: &out)
        out.append(contentsOf: #","prediction":"#.utf8)
        JSONWriter.write(number: prediction, into: &out)
        out.append(contentsOf: #","version":"#.utf8)
        JSONWriter.write(string: version, into: &out)
        out.append(UInt8(ascii: "}"))
    }
}

/// The answer to a batch: one prediction per input row, all from the same model version.
public struct BatchPrediction: Sendable, Equatable {
    /// The model name as requested.
    public let model: String
    /// The version that answered every row.
    public let version: String
    /// One output per input row, in order.
    public let predictions: [Number]

    /// Creates a batch answer.
    public init(model: String, version: String, predictions: [Number]) {
        self.model = model
        self.version = version
        self.predictions = predictions
    }
}
