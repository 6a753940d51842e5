/// Gradient-boosted regression trees: the model of the `gbdt` kind and of imported XGBoost models.
///
/// The prediction is `baseMargin + Σ leaf values` (the margin), then the objective's transformation. A node sends a
/// row left when `x < threshold` and a missing value (NaN) by its default direction, as XGBoost does.
public struct TreeEnsemble: Sendable, Equatable {
    /// How the margin becomes the prediction.
    public enum Objective: String, Sendable, Equatable {
        /// Squared error: the prediction is the margin.
        case regression
        /// Log-loss: the prediction is the probability `1 / (1 + e^-margin)`.
        case logistic
    }

    /// How the margin becomes the prediction.
    public var objective: Objective
    /// The starting margin every tree adds to.
    public var baseMargin: Double
    /// How many features a row must have.
    public var featureCount: Int
    /// Compare features as 32-bit floats, as XGBoost does (its thresholds are `Float`); off for trees trained here.
    public var float32: Bool {
        didSet { layout = ForestLayout(trees: trees, float32: float32) }
    }
    /// The trees, in boosting order.
    public var trees: [DecisionTree] {
        didSet { layout = ForestLayout(trees: trees, float32: float32) }
    }
    /// The trees flattened for prediction (TreeEnsemble+Prediction.swift); derived from `trees` and `float32`.
    private(set) var layout: ForestLayout

    /// Creates an ensemble.
    public init(objective: Objective, baseMargin: Double, featureCount: Int, float32: Bool, trees: [DecisionTree]) {
        self.objective = objective
        self.baseMargin = baseMargin
        self.featureCount = featureCount
        self.float32 = float32
        self.trees = trees
        self.layout = ForestLayout(trees: trees, float32: float32)
    }
}

/// One tree stored as parallel arrays indexed by node; node 0 is the root.
public struct DecisionTree: Sendable, Equatable {
    /// The feature a split node tests, or -1 for a leaf.
    public var feature: [Int32]
    /// A split node sends `x < threshold` left.
    public var threshold: [Double]
    /// The left child of a split node.
    public var left: [Int32]
    /// The right child of a split node.
    public var right: [Int32]
    /// Where a split node sends a missing value.
    public var defaultLeft: [Bool]
    /// A leaf's value (already scaled by the learning rate); 0 for split nodes.
    public var value: [Double]
    /// Each node's cover: the hessian sum of the training rows that reached it (the row count for squared error),
    /// which TreeSHAP weighs paths by. Empty when unknown (models stored before covers were kept).
    public var cover: [Double]
    /// Each split node's gain (the loss reduction it made; 0 at leaves), summed into the gain importances. Empty when
    /// unknown.
    public var gain: [Double]

    /// Creates a tree from its node arrays, which must all have the same length (`cover` and `gain` may be empty:
    /// unknown).
    public init(
        feature: [Int32], threshold: [Double], left: [Int32], right: [Int32], defaultLeft: [Bool], value: [Double],
        cover: [Double] = [], gain: [Double] = []
    ) {
        self.feature = feature
        self.threshold = threshold
        self.left = left
        self.right = right
        self.defaultLeft = defaultLeft
        self.value = value
        self.cover = cover
        self.gain = gain
    }

    /// The number of nodes.
    public var nodeCount: Int { feature.count }
}

extension DecisionTree {
    /// What makes the tree unusable for an ensemble of `featureCount` features, or `nil` when it is sound: equal
    /// array lengths, split features and children in range, and no node reachable twice from the root (so walking
    /// it always ends at a leaf).
    public func problem(featureCount: Int) -> String? {
        let count = feature.count
        guard count > 0 else { return "a tree needs at least one node" }
        guard threshold.count == count, left.count == count, right.count == count, defaultLeft.count == count,
            value.count == count, cover.isEmpty || cover.count == count, gain.isEmpty || gain.count == count
        else { return "its node arrays have different lengths" }
        guard cover.allSatisfy({ $0.isFinite && $0 >= 0 }) else { return "a cover is negative or not a finite number" }
        guard gain.allSatisfy(\.isFinite) else { return "a gain is not a finite number" }
        var seen = [Bool](repeating: false, count: count)
        var stack = [0]
        while let node = stack.popLast() {
            guard !seen[node] else { return "node \(node) is reached twice" }
            seen[node] = true
            if feature[node] < 0 {
                guard value[node].isFinite else { return "leaf \(node) has a value that is not a finite number" }
                continue
            }
            guard Int(feature[node]) < featureCount else {
                return "node \(node) splits on feature \(feature[node]), but the model has \(featureCount)"
            }
            guard !threshold[node].isNaN else { return "node \(node) has no threshold" }
            for child in [Int(left[node]), Int(right[node])] {
                guard child >= 0, child < count else { return "node \(node) has a child out of range" }
                stack.append(child)
            }
        }
        return nil
    }
}
