/// The knobs of training (DESIGN §4); the defaults are the documented ones.
public struct Hyperparameters: Sendable, Equatable {
    /// What a `gbdt` model minimises.
    public enum Objective: String, Sendable, CaseIterable {
        /// Log-loss if the target is 0 and 1, multi-class log-loss if it has 3 to 256 distinct whole numbers, else
        /// squared error.
        case auto
        /// Squared error.
        case regression
        /// Log-loss on a 0/1 target.
        case binary
        /// Multi-class log-loss (softmax, one tree per class and round) on whole-number class labels, at most 256.
        case multiclass
    }

    /// Boosting rounds (gbdt).
    public var trees = 100
    /// The deepest a tree grows (gbdt).
    public var maxDepth = 6
    /// Shrinkage of each tree's leaf values (gbdt).
    public var learningRate = 0.1
    /// The fewest training rows a leaf may hold (gbdt).
    public var minSamplesLeaf = 20
    /// L2 penalty: on leaf weights (gbdt), on the coefficients (linear, logistic; never on the intercept).
    public var l2 = 1.0
    /// The most histogram bins per feature (gbdt), 2...65535.
    public var bins = 255
    /// The share of rows held out for metrics and early stopping, `0..<1` (0: no validation split, no metrics).
    public var validFraction = 0.2
    /// Stop when the validation loss has not improved for this many rounds, keeping the best round (gbdt).
    public var earlyStopping: Int?
    /// Seeds the train/validation split (and anything else random), so training is reproducible.
    public var seed: UInt64 = 0
    /// What gbdt minimises.
    public var objective = Objective.auto
    /// Threads training may use (1: single-threaded); results do not depend on it.
    public var threads = 1

    /// The defaults.
    public init() {}

    /// Every value out of range, as `(name, problem)` pairs; empty when all are valid.
    public var problems: [(name: String, problem: String)] {
        var problems: [(String, String)] = []
        if !(1...10_000).contains(trees) { problems.append(("trees", "must be between 1 and 10000")) }
        if !(1...16).contains(maxDepth) { problems.append(("max_depth", "must be between 1 and 16")) }
        if !(learningRate > 0 && learningRate <= 1) {
            problems.append(("learning_rate", "must be greater than 0 and at most 1"))
        }
        if minSamplesLeaf < 1 { problems.append(("min_samples_leaf", "must be at least 1")) }
        if !(l2 >= 0 && l2.isFinite) { problems.append(("l2", "must be a finite number, at least 0")) }
        if !(2...65_535).contains(bins) { problems.append(("bins", "must be between 2 and 65535")) }
        if !(validFraction >= 0 && validFraction < 1) {
            problems.append(("valid_fraction", "must be at least 0 and below 1"))
        }
        if let earlyStopping, earlyStopping < 1 { problems.append(("early_stopping", "must be at least 1")) }
        if !(1...256).contains(threads) { problems.append(("threads", "must be between 1 and 256")) }
        return problems
    }
}
