/// A training set: dense numeric features (NaN = missing) and a target column, rows stored one after another.
public struct Dataset: Sendable, Equatable {
    /// The feature columns' names, in order.
    public var featureNames: [String]
    /// Every feature value, row after row (`rowCount × featureCount`); NaN is a missing value.
    public var values: [Double]
    /// The target of each row (never missing).
    public var target: [Double]

    /// Creates a dataset; `values.count` must be `target.count × featureNames.count`.
    public init(featureNames: [String], values: [Double], target: [Double]) {
        precondition(values.count == target.count * featureNames.count, "values do not fill the rows")
        self.featureNames = featureNames
        self.values = values
        self.target = target
    }

    /// The number of features.
    public var featureCount: Int { featureNames.count }
    /// The number of rows.
    public var rowCount: Int { target.count }
}
