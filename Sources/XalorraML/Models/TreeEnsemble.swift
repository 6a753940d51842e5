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
        /// Multi-class log-loss: tree `i` adds to class `i mod K`'s margin, the class probabilities are the softmax
        /// of the K margins, and the prediction is the label of the most probable class (the first on a tie).
        case softmax
    }

    /// How the margin becomes the prediction.
    public var objective: Objective {
        didSet { relayoutClasses() }
    }
    /// The starting margin every tree adds to.
    public var baseMargin: Double
    /// How many features a row must have.
    public var featureCount: Int
    /// Compare features as 32-bit floats, as XGBoost does (its thresholds are `Float`); off for trees trained here.
    public var float32: Bool {
        didSet { relayout() }
    }
    /// The trees, in boosting order.
    public var trees: [DecisionTree] {
        didSet { relayout() }
    }
    /// `.softmax` only: the label of each class, in class order (K = its count); empty for the other objectives.
    public var classLabels: [Double] {
        didSet { relayoutClasses() }
    }
    /// `.softmax` only: each class's starting margin (`baseMargin` is not used); empty for the other objectives.
    public var classMargins: [Double]
    /// The trees flattened for prediction (TreeEnsemble+Prediction.swift); derived from `trees` and `float32`.
    private(set) var layout: ForestLayout
    /// `.softmax` only: one layout per class, of the trees `i` with `i mod K` = the class.
    private(set) var classLayouts: [ForestLayout]

    /// Creates an ensemble; a `.softmax` one also needs its `classLabels` and `classMargins` (K each).
    public init(
        objective: Objective, baseMargin: Double, featureCount: Int, float32: Bool, trees: [DecisionTree],
        classLabels: [Double] = [], classMargins: [Double] = []
    ) {
        self.objective = objective
        self.baseMargin = baseMargin
        self.featureCount = featureCount
        self.float32 = float32
        self.trees = trees
        self.classLabels = classLabels
        self.classMargins = classMargins
        self.layout = ForestLayout(trees: trees, float32: float32)
        self.classLayouts = Self.classLayouts(
            trees, classCount: objective == .softmax ? classLabels.count : 0, float32: float32)
    }

    /// The number of classes K of a `.softmax` ensemble, 0 otherwise.
    public var classCount: Int { objective == .softmax ? classLabels.count : 0 }

    /// What makes a `.softmax` ensemble unusable (fewer than 2 or more than ``maxClasses`` classes, labels repeated or
    /// not finite, a margin per class missing, a tree count that is not a multiple of K), or `nil` when it is sound
    /// or not multi-class.
    public var classProblem: String? {
        guard objective == .softmax else { return nil }
        let count = classLabels.count
        guard (2...Self.maxClasses).contains(count) else {
            return "a multi-class model needs 2 to \(Self.maxClasses) classes, not \(count)"
        }
        guard classLabels.allSatisfy(\.isFinite), Set(classLabels).count == count else {
            return "the class labels must be distinct finite numbers"
        }
        guard classMargins.count == count, classMargins.allSatisfy(\.isFinite) else {
            return "a multi-class model needs one finite starting margin per class (\(count))"
        }
        guard trees.count % count == 0 else {
            return "\(trees.count) trees are not a whole number of rounds of \(count) classes (one tree per class)"
        }
        return nil
    }

    /// The most classes a multi-class model may have.
    public static let maxClasses = 256

    private mutating func relayout() {
        layout = ForestLayout(trees: trees, float32: float32)
        relayoutClasses()
    }

    private mutating func relayoutClasses() {
        classLayouts = Self.classLayouts(trees, classCount: classCount, float32: float32)
    }

    private static func classLayouts(_ trees: [DecisionTree], classCount: Int, float32: Bool) -> [ForestLayout] {
        guard classCount > 0 else { return [] }
        return (0..<classCount).map { index in
            ForestLayout(trees: Swift.stride(from: index, to: trees.count, by: classCount).map { trees[$0] },
                         float32: float32)
        }
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
