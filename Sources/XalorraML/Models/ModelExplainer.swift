/// Explains a model's predictions: each feature's contribution to a row's margin (the score before the logistic
/// function) and the bias they are measured from, summing to the margin.
///
/// Trees use exact TreeSHAP (``TreeSHAP``); a linear or logistic model gives `weight × (x − training mean)` per
/// feature and `intercept + Σ weight × mean` as the bias (the Shapley values of a linear score against the training
/// means). Prepared once per model, then used for any number of rows.
///
/// A multi-class model is explained per class, as XGBoost's `pred_contribs` does: class `k`'s contributions come from
/// class `k`'s trees only and, with its bias, sum to class `k`'s margin (the value its softmax takes). A row's
/// explanation then holds K blocks of `featureCount + 1` values, in class order.
public struct ModelExplainer: Sendable {
    private enum Method: Sendable {
        case trees(TreeSHAP)
        /// One per class, in class order.
        case classes([TreeSHAP])
        case linear(LinearModel)
    }

    private var method: Method
    /// How many features a row has; each row's explanation has one more value, the bias (per class).
    public let featureCount: Int
    /// A multi-class model's class count K (each row's explanation has one block per class), 0 for other models.
    public let classCount: Int

    /// How many values one row's explanation has: `featureCount + 1`, times K for a multi-class model.
    public var rowWidth: Int { (featureCount + 1) * max(classCount, 1) }

    /// Prepares `model`, or says why it cannot be explained (a model stored before covers or training means were
    /// kept: retraining or re-importing it gives them).
    public init(_ model: TrainedModel) throws(ExplanationError) {
        switch model {
        case .trees(let ensemble) where ensemble.objective == .softmax:
            if let problem = ensemble.classProblem { throw ExplanationError(problem) }
            var classes: [TreeSHAP] = []
            var work = 0
            for index in 0..<ensemble.classCount {
                let shap = try TreeSHAP(ensemble, class: index)
                work += shap.work
                guard work <= TreeSHAP.maxRowWork else {
                    throw ExplanationError(
                        "the model is too large to explain (its leaves and depths take more than "
                            + "\(TreeSHAP.maxRowWork) path steps a row)")
                }
                classes.append(shap)
            }
            method = .classes(classes)
        case .trees(let ensemble):
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
        classCount = model.classLabels.count
    }

    /// This explainer with its trees' tables built now, for every later call (``TreeSHAP/prepared()``): what a server
    /// keeps per model version (``ExplainerCache``). A linear model has nothing to prepare.
    public func prepared() -> ModelExplainer {
        var copy = self
        copy.isPrepared = true
        switch method {
        case .trees(let shap): copy.method = .trees(shap.prepared())
        case .classes(let classes): copy.method = .classes(classes.map { $0.prepared() })
        case .linear: break
        }
        return copy
    }

    /// Whether ``prepared()`` made this explainer.
    public private(set) var isPrepared = false

    /// What this explainer holds, in 8-byte words: its copy of the trees and their tables, or a linear model's
    /// weights and means.
    public var footprint: Int {
        switch method {
        case .trees(let shap): shap.footprint
        case .classes(let classes): classes.reduce(0) { $0 + $1.footprint }
        case .linear(let model): 2 * model.weights.count + 1
        }
    }

    /// Explains `output.count / rowWidth` rows of `featureCount` values stored one after another into `output`: each
    /// row's contributions in feature order, then its bias (for a multi-class model, that for each class in turn).
    public func explain(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        switch method {
        case .trees(let shap):
            shap.explain(rows: rows, into: output)
        case .classes(let classes):
            let width = featureCount + 1
            let count = output.count / rowWidth
            let rows = UnsafeBufferPointer(rebasing: rows[0..<(count * featureCount)])
            withUnsafeTemporaryAllocation(of: Double.self, capacity: max(count * width, 1)) { scratch in
                let scratch = UnsafeMutableBufferPointer(rebasing: scratch[0..<(count * width)])
                for (index, shap) in classes.enumerated() {
                    shap.explain(rows: rows, into: scratch)
                    for row in 0..<count {
                        let target = row * rowWidth + index * width
                        for value in 0..<width { output[target + value] = scratch[row * width + value] }
                    }
                }
            }
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

    /// The explanations of `rows` (`featureCount` values each, one row after another), ``rowWidth`` values per row.
    public func explain(_ rows: [Double]) -> [Double] {
        let count = featureCount == 0 ? 0 : rows.count / featureCount
        var output = [Double](repeating: 0, count: count * rowWidth)
        rows.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { output in explain(rows: rows, into: output) }
        }
        return output
    }
}

extension TrainedModel {
    /// The margin of one row: the score before the logistic function, what an explanation's values sum to (for a
    /// multi-class model, the most probable class's margin; each class's explanation sums to its own margin).
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
