public import XalorraML

/// Predictions to store together, in one transaction: a single request is a batch of one.
public struct PredictionBatch: Sendable {
    public let timestamp: Timestamp
    public let tenant: String
    public let userID: String
    public let model: String
    public let version: String
    /// One input row per prediction, in the model's order; a `nil` cell is a missing value, logged as one.
    public let inputs: FeatureMatrix
    /// One output per row.
    public let predictions: [Number]
    /// Compute time per row, in microseconds.
    public let latencyMicros: Int64
    /// Each row's input and prediction as text, formatted once here for both the store and the text log.
    let formatted: FormattedRows

    /// Creates a batch; `inputs` and `predictions` must have the same number of rows.
    public init(
        timestamp: Timestamp, tenant: String, userID: String, model: String, version: String,
        inputs: FeatureMatrix, predictions: [Number], latencyMicros: Int64
    ) {
        precondition(inputs.rowCount == predictions.count, "one prediction per input row")
        self.timestamp = timestamp
        self.tenant = tenant
        self.userID = userID
        self.model = model
        self.version = version
        self.inputs = inputs
        self.predictions = predictions
        self.latencyMicros = latencyMicros
        self.formatted = FormattedRows(inputs: inputs, predictions: predictions)
    }

    /// The features of row `index`, a missing value (`nil`) in its place.
    func input(_ index: Int) -> [Number?] { Array(inputs.row(index)) }
}
