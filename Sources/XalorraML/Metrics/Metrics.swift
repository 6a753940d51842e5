/// Quality on the validation split, stored with a model version. Regression fills `rmse`/`r2`/`mae`,
/// classification `logLoss`/`accuracy`/`auc`; `rows` is the size of the split.
public struct Metrics: Sendable, Equatable {
    /// Validation rows the metrics were computed on.
    public var rows: Int
    /// Root mean squared error.
    public var rmse: Double?
    /// Mean absolute error.
    public var mae: Double?
    /// Coefficient of determination.
    public var r2: Double?
    /// Mean binary or multi-class log-loss (probabilities clipped to [1e-15, 1 - 1e-15]).
    public var logLoss: Double?
    /// Share of rows whose probability is on the right side of 0.5 (multi-class: whose most probable class is right).
    public var accuracy: Double?
    /// Area under the ROC curve (ties counted half).
    public var auc: Double?

    /// Creates metrics for `rows` validation rows.
    public init(rows: Int, rmse: Double? = nil, mae: Double? = nil, r2: Double? = nil,
                logLoss: Double? = nil, accuracy: Double? = nil, auc: Double? = nil) {
        self.rows = rows
        self.rmse = rmse
        self.mae = mae
        self.r2 = r2
        self.logLoss = logLoss
        self.accuracy = accuracy
        self.auc = auc
    }
}
