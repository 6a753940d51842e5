/// Ridge least squares: minimises `Σ (y − b − w·x)² + l2 · ‖w‖²`, the intercept `b` unpenalised (as scikit-learn's
/// `Ridge(alpha: l2)`).
///
/// The features and the target are centred, which takes the intercept out of the system, and each feature is
/// scaled by the norm of its centred column before the normal equations are solved, so that their diagonal is about
/// 1 whatever the features' units (the penalty is rescaled to match, so it still applies to the raw weights). The
/// system is solved by Cholesky; see ``solvePositiveDefinite(_:_:size:)`` for what happens when it is singular.
enum LinearRegression {
    /// Fits `data`; the model's weights follow its feature order.
    /// - Parameters:
    ///   - data: training rows; every feature value must be present (no NaN).
    ///   - l2: the ridge penalty on the weights, at least 0.
    static func fit(_ data: Dataset, l2: Double) throws(TrainingError) -> LinearModel {
        let width = data.featureCount
        let count = data.rowCount
        guard count > 0 else { throw TrainingError("there are no training rows") }
        try requireComplete(data)
        let standardized = Standardized(data)
        let scales = standardized.scales

        // Centred cross-products X̃ᵀX̃ and X̃ᵀỹ of the scaled features, upper triangle only.
        var gram = [Double](repeating: 0, count: width * width)
        var moment = [Double](repeating: 0, count: width)
        let targetMean = data.target.reduce(0, +) / Double(count)
        var centred = [Double](repeating: 0, count: width)
        for row in 0..<count {
            standardized.row(row, into: &centred)
            let y = data.target[row] - targetMean
            for i in 0..<width {
                let xi = centred[i]
                if xi == 0 { continue }
                moment[i] += xi * y
                for j in i..<width { gram[i * width + j] += xi * centred[j] }
            }
        }
        // A constant column carries no information: its weight is 0, and it is left out of the system (with
        // l2 = 0 it would make it singular for no reason).
        let active = (0..<width).filter { scales[$0] > 0 }
        let size = active.count
        var system = [Double](repeating: 0, count: size * size)
        var rightSide = [Double](repeating: 0, count: size)
        for (a, i) in active.enumerated() {
            rightSide[a] = moment[i]
            for (b, j) in active.enumerated() where b >= a {
                system[a * size + b] = gram[i * width + j]
            }
            // In scaled units the penalty on the raw weight w = β / s is (l2 / s²) · β².
            system[a * size + a] += l2 / (scales[i] * scales[i])
        }
        guard let solution = solvePositiveDefinite(system, rightSide, size: size) else {
            throw TrainingError("the least-squares system could not be solved; try a larger --l2")
        }
        var weights = [Double](repeating: 0, count: width)
        var intercept = targetMean
        for (a, i) in active.enumerated() {
            weights[i] = solution[a] / scales[i]
            intercept -= weights[i] * standardized.means[i]
        }
        guard intercept.isFinite, weights.allSatisfy(\.isFinite) else {
            throw TrainingError("the fit overflowed; the features or the target are too large to fit")
        }
        return LinearModel(weights: weights, intercept: intercept, link: .identity, means: standardized.means)
    }

    /// Throws, naming the first feature that has a missing value: linear models cannot route them as trees do.
    static func requireComplete(_ data: Dataset) throws(TrainingError) {
        let width = data.featureCount
        guard let position = data.values.firstIndex(where: \.isNaN) else { return }
        let name = data.featureNames[position % width]
        throw TrainingError(
            "linear models need every value; column '\(name)' has missing values; fill them or use --kind gbdt"
        )
    }

    /// Solves `A x = b` for a symmetric positive semi-definite `A` given by its upper triangle (row-major,
    /// `size × size`).
    ///
    /// Cholesky is tried first. A pivot below 1e-10 of its diagonal entry means `A` is singular to working
    /// precision (collinear columns with no penalty, or a Hessian whose rows have all saturated): the diagonal is
    /// then lifted by a jitter of 1e-10 of its largest entry, growing a hundredfold on each failure, which picks the
    /// nearly minimum-norm solution among the equivalent ones. `nil` when even that fails (non-finite input).
    static func solvePositiveDefinite(_ matrix: [Double], _ rightSide: [Double], size: Int) -> [Double]? {
        guard size > 0 else { return [] }
        let largest = (0..<size).map { matrix[$0 * size + $0] }.max() ?? 0
        guard largest.isFinite, rightSide.allSatisfy(\.isFinite) else { return nil }
        var jitter = 0.0
        for _ in 0..<8 {
            if let factor = cholesky(matrix, size: size, jitter: jitter) {
                return substitute(factor, rightSide, size: size)
            }
            jitter = jitter == 0 ? 1e-10 * (largest > 0 ? largest : 1) : jitter * 100
        }
        return nil
    }

    /// The upper-triangular `R` with `Rᵀ R = A + jitter·I`, or `nil` when a pivot is not clearly positive.
    private static func cholesky(_ matrix: [Double], size: Int, jitter: Double) -> [Double]? {
        var factor = matrix
        for i in 0..<size {
            factor[i * size + i] += jitter
        }
        for i in 0..<size {
            var pivot = factor[i * size + i]
            for k in 0..<i { pivot -= factor[k * size + i] * factor[k * size + i] }
            let diagonal = matrix[i * size + i] + jitter
            guard pivot.isFinite, pivot > 1e-10 * diagonal, pivot > 0 else { return nil }
            let root = pivot.squareRoot()
            factor[i * size + i] = root
            for j in (i + 1)..<size {
                var sum = factor[i * size + j]
                for k in 0..<i { sum -= factor[k * size + i] * factor[k * size + j] }
                factor[i * size + j] = sum / root
            }
        }
        return factor
    }

    /// Solves `Rᵀ R x = b` by a forward then a backward substitution.
    private static func substitute(_ factor: [Double], _ rightSide: [Double], size: Int) -> [Double] {
        var x = rightSide
        for i in 0..<size {
            var sum = x[i]
            for k in 0..<i { sum -= factor[k * size + i] * x[k] }
            x[i] = sum / factor[i * size + i]
        }
        for i in stride(from: size - 1, through: 0, by: -1) {
            var sum = x[i]
            for k in (i + 1)..<size { sum -= factor[i * size + k] * x[k] }
            x[i] = sum / factor[i * size + i]
        }
        return x
    }
}

/// A dataset's features centred on their means and divided by the norms of the centred columns, for solvers
/// whose conditioning would otherwise depend on the features' units.
struct Standardized {
    /// Each feature's mean.
    let means: [Double]
    /// Each centred column's Euclidean norm; 0 for a constant column.
    let scales: [Double]
    private let data: Dataset

    init(_ data: Dataset) {
        let width = data.featureCount
        let count = max(data.rowCount, 1)
        var means = [Double](repeating: 0, count: width)
        for row in 0..<data.rowCount {
            for j in 0..<width { means[j] += data.values[row * width + j] }
        }
        for j in 0..<width { means[j] /= Double(count) }
        var squares = [Double](repeating: 0, count: width)
        for row in 0..<data.rowCount {
            for j in 0..<width {
                let d = data.values[row * width + j] - means[j]
                squares[j] += d * d
            }
        }
        // A column whose spread is lost in rounding is treated as constant.
        self.scales = (0..<width).map { j in
            let norm = squares[j].squareRoot()
            return norm > 1e-12 * (abs(means[j]) * Double(count).squareRoot()) && norm > 0 ? norm : 0
        }
        self.means = means
        self.data = data
    }

    /// Row `index`, centred and scaled (0 for constant columns), into `output` of `featureCount` values.
    func row(_ index: Int, into output: inout [Double]) {
        let width = data.featureCount
        for j in 0..<width {
            output[j] = scales[j] > 0 ? (data.values[index * width + j] - means[j]) / scales[j] : 0
        }
    }
}
