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
    /// The rows as the store keeps them: ``PredictionBlock``s of at most ``PredictionBlock/maxRows`` rows each.
    let blocks: [[UInt8]]
    /// The rows' lines of the seed's text log, newline-terminated; empty when the text log is off.
    let logLines: [UInt8]

    /// Creates a batch; `inputs` and `predictions` must have the same number of rows.
    ///
    /// What the store and the text log will write is made here, on the caller's task, rather than when the batch is
    /// committed: the group committer is one writer for every request of the process, and whatever it does per row
    /// is done on one core.
    /// - Parameter textLog: format the text log's lines (the setting `XALORRA_PREDICTION_LOG`).
    public init(
        timestamp: Timestamp, tenant: String, userID: String, model: String, version: String,
        inputs: FeatureMatrix, predictions: [Number], latencyMicros: Int64, textLog: Bool = true
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
        self.blocks = PredictionBlock.encode(inputs: inputs, predictions: predictions)
        self.logLines = textLog ? Self.logLines(timestamp: timestamp, model: model, inputs: inputs, predictions: predictions) : []
    }

    /// The features of row `index`, a missing value (`nil`) in its place.
    func input(_ index: Int) -> [Number?] { Array(inputs.row(index)) }

    /// One seed-format line per row (`[time] model=m input=[1, null, 3] prediction=6`), each ending in a newline.
    private static func logLines(
        timestamp: Timestamp, model: String, inputs: FeatureMatrix, predictions: [Number]
    ) -> [UInt8] {
        // Every row of a batch shares its time stamp and model: that prefix is formatted once.
        var prefix: [UInt8] = []
        PredictionRecord.appendLogPrefix(timestamp: timestamp, model: model, into: &prefix)
        var out: [UInt8] = []
        for index in predictions.indices {
            out.append(contentsOf: prefix)
            PredictionRecord.appendLogFields(input: inputs.row(index), prediction: predictions[index], into: &out)
            out.append(0x0A)
            // The first row tells how long the others are likely to be.
            if index == 0, predictions.count > 1 { out.reserveCapacity(out.count * predictions.count + 64) }
        }
        return out
    }
}
