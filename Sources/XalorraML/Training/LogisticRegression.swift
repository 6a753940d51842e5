#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Binary logistic regression: minimises `Σ log-loss + l2/2 · ‖w‖²` (scikit-learn's `LogisticRegression` with
/// `C = 1/l2`), the intercept unpenalised, by Newton's method (iteratively reweighted least squares).
///
/// Features are centred and scaled as for ``LinearRegression`` so that one tolerance fits every unit. Each Newton
/// step is halved until the penalised loss does not increase. It stops when the largest gradient entry, per row,
/// falls below 1e-10, when a step lowers the loss by less than 1e-10 of it (or of 1 when the loss is below 1), or
/// after ``maxIterations``. On perfectly separable data with `l2 = 0` the optimum is at infinity: the loss then
/// shrinks geometrically until the change criterion stops it near a loss of 1e-10, with large but finite weights
/// (and the singular Hessian is handled by the solver's jitter).
enum LogisticRegression {
    /// The most Newton iterations; well-posed problems converge in under 15.
    static let maxIterations = 100

    /// Fits `data`, whose target must hold only 0 and 1, both present.
    /// - Parameters:
    ///   - valid: rows whose mean log-loss is reported to `observer` after each iteration.
    ///   - observer: return `false` to cancel.
    /// - Returns: the model and the iterations taken.
    static func fit(
        _ data: Dataset, valid: Dataset?, l2: Double, observer: (TrainingProgress) -> Bool
    ) throws(TrainingError) -> (model: LinearModel, iterations: Int) {
        guard data.rowCount > 0 else { throw TrainingError("there are no training rows") }
        try LinearRegression.requireComplete(data)
        try requireBinary(
            data.target, kind: "logistic regression", hint: "; use --kind linear or gbdt for a numeric target"
        )
        let width = data.featureCount
        let count = data.rowCount
        let standardized = Standardized(data)
        // Coordinate 0 is the intercept (on centred features), 1... the scaled weights β with w = β / s.
        let size = width + 1
        var penalty = [Double](repeating: 0, count: size)
        for j in 0..<width where standardized.scales[j] > 0 {
            penalty[j + 1] = l2 / (standardized.scales[j] * standardized.scales[j])
        }
        var design = [Double](repeating: 0, count: count * size)
        var centred = [Double](repeating: 0, count: width)
        for row in 0..<count {
            standardized.row(row, into: &centred)
            design[row * size] = 1
            for j in 0..<width { design[row * size + j + 1] = centred[j] }
        }
        let problem = Problem(design: design, target: data.target, penalty: penalty, size: size)

        var coefficients = [Double](repeating: 0, count: size)
        let mean = data.target.reduce(0, +) / Double(count)
        coefficients[0] = log(mean / (1 - mean))
        var loss = problem.loss(coefficients)
        var iterations = 0
        while iterations < maxIterations {
            let (gradient, hessian) = problem.derivatives(coefficients)
            let largest = gradient.map(abs).max() ?? 0
            if largest <= 1e-10 * Double(count) { break }
            guard let step = LinearRegression.solvePositiveDefinite(hessian, gradient, size: size) else {
                throw TrainingError("the logistic fit could not be solved; try a larger --l2")
            }
            var scale = 1.0
            var candidate = coefficients
            var candidateLoss = Double.infinity
            for _ in 0..<40 {
                for k in 0..<size { candidate[k] = coefficients[k] - scale * step[k] }
                candidateLoss = problem.loss(candidate)
                if candidateLoss <= loss { break }
                scale /= 2
            }
            iterations += 1
            guard candidateLoss <= loss else { break }  // no step lowers the loss at working precision
            let decrease = loss - candidateLoss
            coefficients = candidate
            loss = candidateLoss
            let model = Self.model(coefficients, standardized)
            let progress = TrainingProgress(
                done: iterations, total: maxIterations, validationLoss: valid.map { validationLoss(model, $0) }
            )
            guard observer(progress) else { throw .cancelledByObserver }
            if decrease <= 1e-10 * max(loss, 1) { break }
        }
        let model = model(coefficients, standardized)
        guard model.intercept.isFinite, model.weights.allSatisfy(\.isFinite) else {
            throw TrainingError("the logistic fit overflowed; the features are too large to fit")
        }
        return (model, iterations)
    }

    /// Throws unless every target is 0 or 1 and both occur.
    /// - Parameters:
    ///   - kind: what needs the 0/1 target, for the message (“logistic regression”).
    ///   - hint: appended to the message about a value other than 0 and 1.
    static func requireBinary(_ target: [Double], kind: String, hint: String) throws(TrainingError) {
        if let other = target.first(where: { $0 != 0 && $0 != 1 }) {
            let value = other == other.rounded() && abs(other) < 1e15 ? String(Int64(other)) : Number.format(other)
            throw TrainingError("\(kind) needs a target of 0 and 1, but it has \(value)\(hint)")
        }
        let ones = target.count(where: { $0 == 1 })
        if ones == 0 || ones == target.count {
            let only = ones == 0 ? "0" : "1"
            throw TrainingError("\(kind) needs both classes, but every training target is \(only)")
        }
    }

    /// The model in the features' own units.
    private static func model(_ coefficients: [Double], _ standardized: Standardized) -> LinearModel {
        var weights = [Double](repeating: 0, count: coefficients.count - 1)
        var intercept = coefficients[0]
        for j in weights.indices where standardized.scales[j] > 0 {
            weights[j] = coefficients[j + 1] / standardized.scales[j]
            intercept -= weights[j] * standardized.means[j]
        }
        return LinearModel(weights: weights, intercept: intercept, link: .logistic, means: standardized.means)
    }

    /// The mean log-loss of `model` on `data`.
    private static func validationLoss(_ model: LinearModel, _ data: Dataset) -> Double {
        guard data.rowCount > 0 else { return 0 }
        var total = 0.0
        data.values.withUnsafeBufferPointer { values in
            for row in 0..<data.rowCount {
                let width = data.featureCount
                let score = model.intercept
                    + zip(model.weights, values[row * width..<(row + 1) * width]).reduce(0) { $0 + $1.0 * $1.1 }
                total += Problem.rowLoss(score: score, target: data.target[row])
            }
        }
        return total / Double(data.rowCount)
    }
}

/// The penalised log-loss over a design matrix whose first column is all ones.
private struct Problem {
    /// Rows of `size` values: 1, then the scaled features.
    let design: [Double]
    let target: [Double]
    /// The L2 penalty of each coordinate (0 for the intercept).
    let penalty: [Double]
    let size: Int

    /// `log(1 + eᶻ) − y·z`, computed without overflow for any score.
    static func rowLoss(score: Double, target: Double) -> Double {
        max(score, 0) + log1p(exp(-abs(score))) - target * score
    }

    func score(_ row: Int, _ coefficients: [Double]) -> Double {
        var score = 0.0
        for k in 0..<size { score += design[row * size + k] * coefficients[k] }
        return score
    }

    func loss(_ coefficients: [Double]) -> Double {
        var total = 0.0
        for row in target.indices { total += Self.rowLoss(score: score(row, coefficients), target: target[row]) }
        for k in 0..<size { total += 0.5 * penalty[k] * coefficients[k] * coefficients[k] }
        return total
    }

    /// The gradient and the Hessian (upper triangle) of ``loss(_:)``.
    func derivatives(_ coefficients: [Double]) -> (gradient: [Double], hessian: [Double]) {
        var gradient = [Double](repeating: 0, count: size)
        var hessian = [Double](repeating: 0, count: size * size)
        for row in target.indices {
            let probability = 1 / (1 + exp(-score(row, coefficients)))
            let residual = probability - target[row]
            let weight = probability * (1 - probability)
            let base = row * size
            for i in 0..<size {
                let xi = design[base + i]
                gradient[i] += residual * xi
                let weighted = weight * xi
                if weighted == 0 { continue }
                for j in i..<size { hessian[i * size + j] += weighted * design[base + j] }
            }
        }
        for k in 0..<size {
            gradient[k] += penalty[k] * coefficients[k]
            hessian[k * size + k] += penalty[k]
        }
        return (gradient, hessian)
    }
}
