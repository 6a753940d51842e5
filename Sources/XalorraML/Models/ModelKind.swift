/// What produced a model version, as stored with it and shown by `xalorra models`.
public enum ModelKind: String, Sendable, CaseIterable, Codable {
    /// Ridge least squares.
    case linear
    /// Binary logistic regression with L2.
    case logistic
    /// Histogram gradient-boosted trees trained here.
    case gbdt
    /// A gradient-boosted tree model imported from XGBoost's JSON format.
    case xgboost
    /// A gradient-boosted tree model imported from LightGBM's text format.
    case lightgbm

    /// The kinds `xalorra train --kind` accepts.
    public static let trainable: [ModelKind] = [.gbdt, .linear, .logistic]
}
