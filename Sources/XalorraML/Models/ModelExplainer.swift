/// Explains a model's predictions: each feature's contribution to a row's margin (the score before the logistic
/// function) and the bias they are measured from, summing to the margin.
///
/// Trees use exact TreeSHAP (``TreeSHAP``); a linear or logistic model gives `weight × (x − training mean)` per
/// feature and `intercept + Σ weight × mean` as the bias (the Shapley values of a linear score against the training
/// means). Prepared once per model, then used for any number of rows.
public struct ModelExplainer: Sendable {
    private enum Method: Sendable {
        case trees(TreeSHAP)
        case linear(LinearModel)
    }

    private let method: Method
    /// How many features a row has; each row's explanation has one more value, the bias.
    public let featureCount: Int

    /// Prepares `model`, or says why it cannot be explained (a model stored before covers or training means were
    /// kept: retraining or re-importing it gives them).
    public init(_ model: TrainedModel) throws(ExplanationError) {
        switch model {
        case .trees(let ensemble):
            guard ensemble.objective != .softmax else {
                throw ExplanationError(
                    "explanations of multi-class models are not supported yet; predict without explain")
            }
            method = .trees(try TreeSHAP(ensemble))
        case .linear(let linear):
            guard linear.means.count == linear.weights.count else {
                throw ExplanationError(
                    "the model has no training means (it was stored before xalorra kept them): retrain it to explain "
                        + "its predictions")
            }
            method = .linear(linear)
        }
        featureCount = model.featureCount
    }

    /// Explains `output.count / (featureCount + 1)` rows of `featureCount` values stored one after another into
    /// `output`: each row's contributions in feature order, then its bias.
    public func explain(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        switch method {
        case .trees(let shap):
            shap.explain(rows: rows, into: output)
        case .linear(let model):
            let width = model.weights.count
            var bias = model.intercept
            for index in 0..<width { bias += model.weights[index] * model.means[index] }
            for row in 0..<(output.count / (width + 1)) {
                for index in 0..<width {
                    output[row * (width + 1) + index] =
                        model.weights[index] * (rows[row * width + index] - model.means[index])
                }
                output[row * (width + 1) + width] = bias
            }
        }
    }

    /// The explanations of `rows` (`featureCount` values each, one row after another), `featureCount + 1` values
    /// per row.
    public func explain(_ rows: [Double]) -> [Double] {
        let count = featureCount == 0 ? 0 : rows.count / featureCount
        var output = [Double](repeating: 0, count: count * (featureCount + 1))
        rows.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { output in explain(rows: rows, into: output) }
        }
        return output
    }
}

extension TrainedModel {
    /// The margin of one row: the score before the logistic function, what an explanation's values sum to.
    public func margin(_ row: UnsafeBufferPointer<Double>) -> Double {
        switch self {
        case .linear(let model):
            var score = model.intercept
            for index in 0..<model.weights.count { score += model.weights[index] * row[index] }
            return score
        case .trees(let ensemble):
            return ensemble.margin(row)
        }
    }
}
