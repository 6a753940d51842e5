public import XalorraML

/// The answer to one prediction request: the seed's body plus the version that answered.
public struct Prediction: Sendable, Equatable {
    /// The model name as requested (without any `@version`).
    public let model: String
    /// The features as given: every one a number, as a single prediction's `features` must be. A batch's rows, which
    /// may miss values, are answered by ``BatchPrediction``; `writeJSON` prints each row with its gaps.
    public let input: [Number]
    /// The model's output.
    public let prediction: Number
    /// `baseline`, or the trained version number as a string.
    public let version: String
    /// A multi-class model's class probabilities (its `prediction` is the most probable class's label); `nil` for
    /// every other model.
    public let probabilities: ClassProbabilities?

    /// Creates a prediction.
    public init(
        model: String, input: [Number], prediction: Number, version: String, probabilities: ClassProbabilities? = nil
    ) {
        self.model = model
        self.input = input
        self.prediction = prediction
        self.version = version
        self.probabilities = probabilities
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
    /// A multi-class model's class probabilities, one per row in order; `nil` for every other model.
    public let probabilities: [ClassProbabilities]?

    /// Creates a batch answer.
    public init(model: String, version: String, predictions: [Number], probabilities: [ClassProbabilities]? = nil) {
        self.model = model
        self.version = version
        self.predictions = predictions
        self.probabilities = probabilities
    }
}
