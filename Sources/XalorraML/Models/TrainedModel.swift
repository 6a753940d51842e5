/// A model that can predict: what a stored model version holds, whichever kind made it.
public enum TrainedModel: Sendable, Equatable {
    /// A linear or logistic model.
    case linear(LinearModel)
    /// A tree ensemble (trained `gbdt` or imported `xgboost`).
    case trees(TreeEnsemble)

    /// How many features a row must have.
    public var featureCount: Int {
        switch self {
        case .linear(let model): model.weights.count
        case .trees(let ensemble): ensemble.featureCount
        }
    }

    /// Whether a missing value (NaN) in a row can be predicted (trees route it by the split's default direction).
    public var acceptsMissing: Bool {
        if case .trees = self { return true }
        return false
    }

    /// A multi-class model's class labels in class order (its predictions are one of them), else empty.
    public var classLabels: [Double] {
        if case .trees(let ensemble) = self, ensemble.classCount > 0 { return ensemble.classLabels }
        return []
    }

    /// Fills `output` with the class probabilities of a multi-class model, ``classLabels``' count per row in class
    /// order, for the `output.count / classLabels.count` rows at `rows`; does nothing for other models.
    public func probabilities(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        if case .trees(let ensemble) = self, ensemble.classCount > 0 {
            ensemble.probabilities(rows: rows, into: output)
        }
    }

    /// Predicts one row of `featureCount` values (NaN = missing); a multi-class model answers a class label.
    public func predict(_ row: UnsafeBufferPointer<Double>) -> Double {
        switch self {
        case .linear(let model): model.predict(row)
        case .trees(let ensemble): ensemble.predict(row)
        }
    }

    /// Predicts `rows.count / featureCount` rows stored one after another into `output`.
    public func predict(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .linear(let model):
            let width = model.weights.count
            for index in 0..<output.count {
                output[index] = model.predict(UnsafeBufferPointer(rebasing: rows[index * width..<(index + 1) * width]))
            }
        case .trees(let ensemble): ensemble.predict(rows: rows, into: output)
        }
    }
}
