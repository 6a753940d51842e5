#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GradientBoosting {
    /// What boosting minimises: its gradients, its starting margin and the validation loss reported each round.
    enum Loss {
        /// `(margin - y)² / 2` for `.regression`: gradient `margin - y`, hessian 1.
        case squaredError
        /// Binary log-loss on the logit margin: gradient `p - y`, hessian `p(1 - p)`.
        case logLoss

        /// The loss of `objective` (`.auto` resolved as the trainer does, should a caller pass it through).
        init(_ objective: Hyperparameters.Objective, target: [Double]) {
            self = Trainer.resolve(objective, target: target) == .binary ? .logLoss : .squaredError
        }

        /// How the ensemble turns the margin into a prediction.
        var ensembleObjective: TreeEnsemble.Objective {
            self == .squaredError ? .regression : .logistic
        }

        /// Every hessian is 1, so a histogram's row count is its hessian sum and need not be accumulated twice.
        var hasConstantHessian: Bool { self == .squaredError }

        /// The best constant margin (LightGBM's `boost_from_average`): the mean, or the logit of the mean.
        func baseMargin(_ target: [Double]) -> Double {
            var sum = 0.0
            for value in target { sum += value }
            let mean = sum / Double(target.count)
            switch self {
            case .squaredError: return mean
            case .logLoss:
                let p = min(max(mean, 1e-15), 1 - 1e-15)
                return log(p / (1 - p))
            }
        }

        /// Fills `gradients` (and `hessians` unless constant) for the current `margins`.
        func computeGradients(
            margins: UnsafePointer<Double>, target: UnsafePointer<Double>, count: Int,
            gradients: UnsafeMutablePointer<Double>, hessians: UnsafeMutablePointer<Double>
        ) {
            switch self {
            case .squaredError:
                for row in 0..<count { gradients[row] = margins[row] - target[row] }
            case .logLoss:
                for row in 0..<count {
                    let p = 1 / (1 + exp(-margins[row]))
                    gradients[row] = p - target[row]
                    hessians[row] = max(p * (1 - p), 1e-16)
                }
            }
        }

        /// The validation loss of `margins`: RMSE, or mean log-loss with probabilities clipped to [1e-15, 1 - 1e-15].
        func validationLoss(margins: [Double], target: [Double]) -> Double {
            var total = 0.0
            switch self {
            case .squaredError:
                for (margin, y) in zip(margins, target) { total += (margin - y) * (margin - y) }
                return (total / Double(target.count)).squareRoot()
            case .logLoss:
                for (margin, y) in zip(margins, target) {
                    let p = min(max(1 / (1 + exp(-margin)), 1e-15), 1 - 1e-15)
                    total -= y * log(p) + (1 - y) * log(1 - p)
                }
                return total / Double(target.count)
            }
        }
    }
}
