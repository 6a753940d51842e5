import XalorraML

/// One LightGBM tree into a ``DecisionTree``: its arrays parsed and checked, then each split rewritten as
/// `x < threshold` splits that send every value, missing or not, where LightGBM sends it.
extension LightGBMModel.TreeBlock {
    /// The tree, with every node counted against `nodesLeft`.
    func tree(
        featureCount: Int, names: [String]?, nodesLeft: Int, limits: ModelLimits
    ) throws(ModelFormatError) -> DecisionTree {
        let context = "tree \(index)"
        let leaves = try integer("num_leaves")
        guard leaves >= 1 else { throw ModelFormatError("\(context): num_leaves \(leaves) is not a number of leaves") }
        guard leaves <= nodesLeft else { throw limits.tooManyNodes }  // 2 × leaves - 1 nodes, checked when built
        if let linear = values["is_linear"], LightGBMModel.text(linear) != "0" {
            throw ModelFormatError("linear trees (linear_tree) are not supported (\(context) is linear)")
        }
        let splits = leaves - 1
        let values = try doubles("leaf_value", count: leaves, context: context)
        let leafCounts = try self.values["leaf_count"].map { _ throws(ModelFormatError) in
            try doubles("leaf_count", count: leaves, context: context)
        }
        for (leaf, value) in values.enumerated() where !value.isFinite {
            throw ModelFormatError("\(context): leaf \(leaf)'s value is not a finite number")
        }
        guard splits > 0 else {
            return DecisionTree(
                feature: [-1], threshold: [0], left: [-1], right: [-1], defaultLeft: [false], value: [values[0]],
                cover: leafCounts ?? [], gain: leafCounts == nil ? [] : [0])
        }
        let nodes = try LightGBMModel.Nodes(block: self, splits: splits, leaves: leaves, context: context)
        try nodes.check(featureCount: featureCount, names: names, numCat: try integer("num_cat", default: 0))
        var builder = LightGBMModel.Builder(
            nodes: nodes, leafValues: values, leafCounts: leafCounts, nodesLeft: nodesLeft)
        guard let tree = builder.build() else { throw limits.tooManyNodes }
        return tree
    }

    /// An integer member, or `fallback` when the block has none.
    private func integer(_ key: String, default fallback: Int? = nil) throws(ModelFormatError) -> Int {
        guard let line = values[key] else {
            if let fallback { return fallback }
            throw ModelFormatError("tree \(index) has no \(key)")
        }
        return try LightGBMModel.integer(LightGBMModel.text(line), "tree \(index): \(key)")
    }

    /// The `count` numbers of member `key`.
    func doubles(_ key: String, count: Int, context: String) throws(ModelFormatError) -> [Double] {
        guard let line = values[key] else { throw ModelFormatError("\(context) has no \(key)") }
        let total = LightGBMModel.tokenCount(line)
        guard total == count else {
            throw ModelFormatError("\(context): \(key) has \(total) values; num_leaves makes it \(count)")
        }
        var numbers: [Double] = []
        numbers.reserveCapacity(count)
        try LightGBMModel.forEachToken(line) { token throws(ModelFormatError) in
            guard let number = Double(LightGBMModel.text(token)) else {
                throw ModelFormatError("\(context): \(key)[\(numbers.count)] is not a number")
            }
            numbers.append(number)
        }
        return numbers
    }

    /// The `count` integers of member `key`, each in `range`.
    func integers(
        _ key: String, count: Int, in range: ClosedRange<Int>, context: String
    ) throws(ModelFormatError) -> [Int] {
        let numbers = try doubles(key, count: count, context: context)
        var integers: [Int] = []
        integers.reserveCapacity(count)
        for (position, number) in numbers.enumerated() {
            guard number.rounded() == number, number >= Double(range.lowerBound), number <= Double(range.upperBound)
            else {
                throw ModelFormatError("\(context): \(key)[\(position)] is not an integer in \(range)")
            }
            integers.append(Int(number))
        }
        return integers
    }
}

extension LightGBMModel {
    /// A tree's split nodes as LightGBM stores them; a child `c < 0` is leaf `~c`.
    struct Nodes {
        var feature: [Int]
        var threshold: [Double]
        var decision: [Int]
        var left: [Int]
        var right: [Int]
        var gain: [Double]?
        var count: [Double]?
        var leaves: Int
        var context: String

        init(block: TreeBlock, splits: Int, leaves: Int, context: String) throws(ModelFormatError) {
            let maxFeature = ModelLimits.maxFeatures - 1
            feature = try block.integers("split_feature", count: splits, in: 0...maxFeature, context: context)
            threshold = try block.doubles("threshold", count: splits, context: context)
            decision = try block.integers("decision_type", count: splits, in: 0...255, context: context)
            left = try block.integers("left_child", count: splits, in: -leaves...(splits - 1), context: context)
            right = try block.integers("right_child", count: splits, in: -leaves...(splits - 1), context: context)
            if block.values["split_gain"] != nil {
                gain = try block.doubles("split_gain", count: splits, context: context)
            }
            if block.values["internal_count"] != nil {
                count = try block.doubles("internal_count", count: splits, context: context)
            }
            self.leaves = leaves
            self.context = context
        }

        /// Refuses categorical splits (naming the feature), bad features, thresholds and missing types, and
        /// children that do not form one tree from node 0.
        func check(featureCount: Int, names: [String]?, numCat: Int) throws(ModelFormatError) {
            for node in feature.indices {
                let feature = self.feature[node]
                guard feature < featureCount else {
                    throw ModelFormatError(
                        "\(context): node \(node) splits on feature \(feature), but the model has \(featureCount)")
                }
                if decision[node] & 1 != 0 {
                    let name = names?[feature] ?? "Column_\(feature)"
                    throw ModelFormatError(
                        "categorical splits are not supported: feature \"\(name)\" is categorical (\(context), "
                            + "node \(node)); retrain with it as a numerical feature")
                }
                guard (decision[node] >> 2) & 3 != 3 else {
                    throw ModelFormatError("\(context): node \(node) has an unknown missing type")
                }
                guard !threshold[node].isNaN else {
                    throw ModelFormatError("\(context): node \(node) has no threshold")
                }
            }
            guard numCat == 0 else { throw ModelFormatError("categorical splits are not supported (\(context))") }
            if let gain, !gain.allSatisfy(\.isFinite) {
                throw ModelFormatError("\(context): a split_gain is not a finite number")
            }
            if let count, !count.allSatisfy({ $0.isFinite && $0 >= 0 }) {
                throw ModelFormatError("\(context): an internal_count is not a count")
            }
            // Every child reached once from the root: no loop, no shared subtree.
            var seenSplits = [Bool](repeating: false, count: feature.count)
            var seenLeaves = [Bool](repeating: false, count: leaves)
            seenSplits[0] = true
            var stack = [0]
            while let node = stack.popLast() {
                for child in [left[node], right[node]] {
                    if child < 0 {
                        guard !seenLeaves[~child] else {
                            throw ModelFormatError("\(context): leaf \(~child) is reached twice (not a tree)")
                        }
                        seenLeaves[~child] = true
                    } else {
                        guard !seenSplits[child] else {
                            throw ModelFormatError("\(context): node \(child) is reached twice (not a tree)")
                        }
                        seenSplits[child] = true
                        stack.append(child)
                    }
                }
            }
        }
    }

    /// One LightGBM split as a chain of `x < bound` splits: the real line cut at `bounds` (ascending) into
    /// `bounds.count + 1` segments, segment `i` holding the values below `bounds[i]` (and at or above the bound
    /// before), each sent to LightGBM's left child or not, and the segment a missing value joins.
    struct Splits: Equatable {
        var bounds: [Double]
        var left: [Bool]
        var missingSegment: Int
    }

    /// LightGBM's `kZeroThreshold` (`1e-35f`): a value within it of 0 is 0 (in the predictor and in `IsZero`).
    static let zeroThreshold = Double(Float(1e-35))

    /// How LightGBM's `NumericalDecision` splits: a value within ``zeroThreshold`` of 0 is 0, which goes by the
    /// default direction for missing type `Zero` and by the threshold otherwise; NaN goes by the default direction
    /// for missing type `NaN` and where 0 goes otherwise; any other value goes left when `x <= threshold`. Exact
    /// for every input but the largest double at a threshold of `+inf` or the largest double (sent right, as no
    /// finite threshold lies above it). No bounds: every value, NaN included, goes to `left[0]`.
    static func splits(threshold: Double, decision: Int) -> Splits {
        let defaultLeft = decision & 2 != 0
        let missingType = (decision >> 2) & 3  // 0 None, 1 Zero, 2 NaN
        let zeroLeft = missingType == 1 ? defaultLeft : 0 <= threshold
        let missingLeft = missingType == 2 ? defaultLeft : zeroLeft
        func goesLeft(_ x: Double) -> Bool {
            -zeroThreshold <= x && x <= zeroThreshold ? zeroLeft : x <= threshold
        }
        // `x <= threshold` is `x < threshold.nextUp` for every double; the zero band's edges are the other cuts.
        let cuts = Set([threshold.nextUp, -zeroThreshold, zeroThreshold.nextUp]).sorted()
        var result = Splits(bounds: [], left: [goesLeft(-.infinity)], missingSegment: 0)
        for cut in cuts where goesLeft(cut) != result.left.last {  // constant between cuts: test each at its start
            result.bounds.append(cut)
            result.left.append(goesLeft(cut))
        }
        // LightGBM's last bin ends at +inf: a threshold there sends every number left and only NaN can go right.
        // The store keeps finite thresholds only, so that cut is the largest double (which alone then goes right).
        if result.bounds.isEmpty, missingLeft != result.left[0] {
            result.bounds = [.greatestFiniteMagnitude]
            result.left.append(missingLeft)
        }
        result.bounds = result.bounds.map { $0 == .infinity ? .greatestFiniteMagnitude : $0 }
        result.missingSegment = result.left.firstIndex(of: missingLeft) ?? 0
        return result
    }

    /// Writes a checked tree out as a ``DecisionTree``, breadth first; a split whose segments alternate sides
    /// (a `Zero` missing type whose default is not where the threshold sends 0) copies the child subtree it needs
    /// twice, so the number of nodes is counted as they are made.
    struct Builder {
        let nodes: Nodes
        let leafValues: [Double]
        let leafCounts: [Double]?
        let nodesLeft: Int
        var tree = DecisionTree(feature: [], threshold: [], left: [], right: [], defaultLeft: [], value: [])
        var cover: [Double] = []
        var gain: [Double] = []

        init(nodes: Nodes, leafValues: [Double], leafCounts: [Double]?, nodesLeft: Int) {
            self.nodes = nodes
            self.leafValues = leafValues
            self.leafCounts = leafCounts
            self.nodesLeft = nodesLeft
        }

        /// The tree, or `nil` when it would need more than `nodesLeft` nodes.
        ///
        /// Covers: a child a split reaches from `k` segments is copied `k` times, each copy's covers scaled by
        /// `1 / k` (with its ancestors' factors), and a chain node's cover is the sum of the segments below it. Then
        /// every leaf's copies weigh, together, what the leaf weighs in LightGBM's tree whether the split's feature
        /// is known or not, so TreeSHAP gives LightGBM's contributions.
        mutating func build() -> DecisionTree? {
            // (LightGBM child reference, slot to fill, factor on its covers); the root is split 0.
            var queue: [(source: Int, slot: Int, weight: Double)] = [(0, allocate(), 1)]
            var head = 0
            while head < queue.count {
                let (source, slot, weight) = queue[head]
                head += 1
                if source < 0 {
                    let leaf = ~source
                    fill(slot, feature: -1, threshold: 0, defaultLeft: false, value: leafValues[leaf],
                         cover: (leafCounts?[leaf] ?? 0) * weight, gain: 0)
                    continue
                }
                let splits = LightGBMModel.splits(threshold: nodes.threshold[source], decision: nodes.decision[source])
                let (left, right) = (nodes.left[source], nodes.right[source])
                guard !splits.bounds.isEmpty else {  // everything goes one way: the node is its child
                    queue.append((splits.left[0] ? left : right, slot, weight))
                    continue
                }
                let copies = (left: splits.left.filter { $0 }.count, right: splits.left.filter { !$0 }.count)
                let segments = splits.left.map { goesLeft in
                    (source: goesLeft ? left : right,
                     weight: weight / Double(goesLeft ? copies.left : copies.right))
                }
                var below = segments.map { cover(of: $0.source) * $0.weight }
                for index in below.indices.dropLast().reversed() { below[index] += below[index + 1] }
                var chain = slot
                for (position, bound) in splits.bounds.enumerated() {
                    fill(chain, feature: Int32(nodes.feature[source]), threshold: bound,
                         defaultLeft: position == splits.missingSegment, value: 0, cover: below[position],
                         gain: position == 0 ? nodes.gain?[source] ?? 0 : 0)
                    let segment = allocate()
                    queue.append((segments[position].source, segment, segments[position].weight))
                    tree.left[chain] = Int32(segment)
                    let next = allocate()
                    tree.right[chain] = Int32(next)
                    if position == splits.bounds.count - 1 {
                        queue.append((segments[position + 1].source, next, segments[position + 1].weight))
                    }
                    chain = next
                }
                guard tree.nodeCount <= nodesLeft else { return nil }
            }
            guard tree.nodeCount <= nodesLeft else { return nil }
            // LightGBM's own TreeSHAP (`pred_contrib`) and shap's reader weigh paths by `internal_count` and
            // `leaf_count`, not the hessian sums (`internal_weight`): the counts are the cover that reproduces them.
            if leafCounts != nil, nodes.count != nil { tree.cover = cover }
            if nodes.gain != nil { tree.gain = gain }
            return tree
        }

        /// The row count of a LightGBM child reference (0 when the file has none).
        private func cover(of source: Int) -> Double {
            source < 0 ? leafCounts?[~source] ?? 0 : nodes.count?[source] ?? 0
        }

        /// Adds a placeholder node and returns its index.
        private mutating func allocate() -> Int {
            tree.feature.append(-1)
            tree.threshold.append(0)
            tree.left.append(-1)
            tree.right.append(-1)
            tree.defaultLeft.append(false)
            tree.value.append(0)
            cover.append(0)
            gain.append(0)
            return tree.nodeCount - 1
        }

        private mutating func fill(
            _ slot: Int, feature: Int32, threshold: Double, defaultLeft: Bool, value: Double, cover: Double,
            gain: Double
        ) {
            tree.feature[slot] = feature
            tree.threshold[slot] = threshold
            tree.defaultLeft[slot] = defaultLeft
            tree.value[slot] = value
            self.cover[slot] = cover
            self.gain[slot] = gain
        }
    }
}
