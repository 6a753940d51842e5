#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A linear model: `intercept + Σ weights·x`, through the logistic function for a classifier.
public struct LinearModel: Sendable, Equatable {
    /// What the linear score is turned into.
    public enum Link: String, Sendable, Equatable {
        /// The score itself (regression).
        case identity
        /// `1 / (1 + e^-score)`: the probability of class 1.
        case logistic
    }

    /// One weight per feature, in the feature order of the training data.
    public var weights: [Double]
    /// The constant term.
    public var intercept: Double
    /// Regression or probability.
    public var link: Link
    /// Each feature's mean over the training rows, the point explanations are measured from; empty when unknown
    /// (models stored before the means were kept).
    public var means: [Double]

    /// Creates a model from its parameters.
    public init(weights: [Double], intercept: Double, link: Link, means: [Double] = []) {
        self.weights = weights
        self.intercept = intercept
        self.link = link
        self.means = means
    }

    /// Predicts one row of `weights.count` values.
    public func predict(_ row: UnsafeBufferPointer<Double>) -> Double {
        var score = intercept
        for index in 0..<weights.count { score += weights[index] * row[index] }
        switch link {
        case .identity: return score
        case .logistic: return 1 / (1 + exp(-score))
        }
    }
}
