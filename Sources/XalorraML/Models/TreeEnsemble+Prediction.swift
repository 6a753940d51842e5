#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension TreeEnsemble {
    /// The margin of one row of `featureCount` values (NaN = missing): the base margin plus every tree's leaf,
    /// before the objective's transformation.
    /// For `.softmax`, the margin of the most probable class.
    public func margin(_ row: UnsafeBufferPointer<Double>) -> Double {
        if objective == .softmax { return classMarginOfPrediction(row) }
        precondition(row.count >= featureCount, "a row has \(row.count) values; the model needs \(featureCount)")
        precondition(layout.width <= row.count, "the trees test feature \(layout.width - 1); the row is shorter")
        guard let values = row.baseAddress else { return baseMargin + layout.constant }
        guard float32 else { return layout.margin(values, start: baseMargin) }
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(layout.width, 1)) { rounded in
            for index in 0..<layout.width { rounded[index] = Double(Float(values[index])) }
            return layout.margin(UnsafePointer(rounded.baseAddress!), start: baseMargin)
        }
    }

    /// Predicts one row of `featureCount` values (NaN = missing): the margin through the objective; for `.softmax`,
    /// the label of the most probable class.
    public func predict(_ row: UnsafeBufferPointer<Double>) -> Double {
        precondition(row.count >= featureCount, "a row has \(row.count) values; the model needs \(featureCount)")
        precondition(layout.width <= row.count, "the trees test feature \(layout.width - 1); the row is shorter")
        if objective == .softmax {
            return withUnsafeTemporaryAllocation(of: Double.self, capacity: 1) { label in
                predict(rows: UnsafeBufferPointer(rebasing: row[0..<featureCount]), into: label)
                return label[0]
            }
        }
        guard let values = row.baseAddress else { return transform(baseMargin + layout.constant) }
        guard float32 else { return transform(layout.margin(values, start: baseMargin)) }
        // Float32 models compare features rounded to Float: round the row once rather than at every node.
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(layout.width, 1)) { rounded in
            for index in 0..<layout.width { rounded[index] = Double(Float(values[index])) }
            return transform(layout.margin(UnsafePointer(rounded.baseAddress!), start: baseMargin))
        }
    }

    /// Predicts `rows.count / featureCount` rows stored one after another into `output` (for `.softmax`, each row's
    /// most probable class label).
    public func predict(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        if objective == .softmax { return classify(rows: rows, into: output) }
        margins(layout, start: baseMargin, rows: rows, into: output)
        for index in 0..<output.count { output[index] = transform(output[index]) }
    }

    /// Fills `output` with `start` plus the leaves of `layout` for each of the `output.count` rows at `rows`.
    ///
    /// Rows go through the trees in blocks: each tree walks the whole block one level at a time, so the tree stays
    /// in the L1 cache and the block's independent walks overlap in the pipeline.
    func margins(
        _ layout: ForestLayout, start: Double, rows: UnsafeBufferPointer<Double>,
        into output: UnsafeMutableBufferPointer<Double>
    ) {
        let width = featureCount
        precondition(rows.count >= output.count * width, "\(rows.count) values do not fill \(output.count) rows")
        precondition(layout.width <= width, "the trees test feature \(layout.width - 1); rows are \(width) wide")
        guard let outputBase = output.baseAddress, output.count > 0 else { return }
        guard let rowBase = rows.baseAddress else {
            for index in 0..<output.count { output[index] = start + layout.constant }
            return
        }
        let blockSize = ForestLayout.blockSize
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: blockSize) { cursor in
            // Float32 models compare features rounded to Float; the block is rounded once, not at every node.
            let roundedCount = float32 ? blockSize * width : 0
            withUnsafeTemporaryAllocation(of: Double.self, capacity: max(roundedCount, 1)) { rounded in
                var first = 0
                while first < output.count {
                    let count = min(blockSize, output.count - first)
                    var block = rowBase + first * width
                    if float32, let scratch = rounded.baseAddress {
                        for index in 0..<(count * width) { scratch[index] = Double(Float(block[index])) }
                        block = UnsafePointer(scratch)
                    }
                    let margins = outputBase + first
                    for index in 0..<count { margins[index] = start }  // as `margin(_:start:)` begins
                    layout.addMargins(block: block, width: width, count: count, cursor: cursor.baseAddress!,
                                      into: margins)
                    first += count
                }
            }
        }
    }

    /// The prediction for `margin`: itself for regression, its probability for the logistic objective.
    @inline(__always)
    func transform(_ margin: Double) -> Double {
        switch objective {
        case .regression: margin
        case .logistic: 1 / (1 + exp(-margin))
        case .softmax: margin  // never called: a softmax ensemble classifies its rows (TreeEnsemble+Classes.swift)
        }
    }
}

/// The trees of an ensemble flattened into one array of 16-byte nodes, children side by side, for fast prediction.
///
/// A split node sends a row to `left` or `left + 1`. A leaf points at itself and can never send a row right (its
/// threshold is NaN, which no value reaches, and missing values stay), so every walk takes exactly `depth` steps
/// per tree whatever path it follows: no branch on "is this a leaf". Derived from the trees, it never makes two
/// ensembles differ (see `==`).
struct ForestLayout: Sendable, Equatable {
    /// One node.
    struct Node: Sendable {
        /// A split's threshold (rounded through `Float` for float32 models); NaN in a leaf.
        var threshold: Double
        /// The feature tested.
        var feature: UInt32
        /// The left child; the right child follows it. A leaf's own index.
        var left: Int32
    }

    /// Rows per block in batch prediction (`64 × width` doubles of rows plus a 2 KB tree fit in L1 for small widths).
    static let blockSize = 64

    private(set) var nodes: [Node] = []
    /// Whether a node sends a missing value right; read only for rows that have one, so it is kept out of `nodes`.
    private(set) var missingRight: [Bool] = []
    /// A leaf's value at its node index; 0 at split nodes.
    private(set) var leafValues: [Double] = []
    /// Each tree's root node.
    private(set) var roots: [Int32] = []
    /// Each tree's depth: the steps from the root to its deepest leaf.
    private(set) var depths: [Int32] = []
    /// The sum of the values of the trees that are a single leaf, which need no walk.
    private(set) var constant = 0.0
    /// The fewest features a row must have: one past the highest feature any split tests.
    private(set) var width = 0

    /// Flattens `trees`; malformed nodes (a child index out of range, a loop, a negative feature other than -1,
    /// node arrays of unequal lengths) are read as leaves, so a bad model predicts something rather than reading
    /// out of bounds.
    init(trees: [DecisionTree], float32: Bool) {
        nodes.reserveCapacity(trees.reduce(0) { $0 + $1.nodeCount })
        leafValues.reserveCapacity(nodes.capacity)
        for tree in trees { append(tree, float32: float32) }
    }

    /// The layout is a function of the trees, so equality is decided by the trees alone.
    static func == (lhs: ForestLayout, rhs: ForestLayout) -> Bool { true }

    private mutating func append(_ tree: DecisionTree, float32: Bool) {
        let count = min(tree.feature.count, tree.threshold.count, tree.left.count, tree.right.count,
                        tree.defaultLeft.count, tree.value.count)
        guard count > 0 else { return }
        func isSplit(_ node: Int, visited: Int) -> Bool {
            let left = Int(tree.left[node])
            let right = Int(tree.right[node])
            return tree.feature[node] >= 0 && visited < count && (0..<count).contains(left)
                && (0..<count).contains(right)
        }
        guard isSplit(0, visited: 0) else {
            constant += tree.value[0]
            return
        }
        // Breadth first, so a node's two children take consecutive slots.
        let root = Int32(nodes.count)
        var queue: [(source: Int, depth: Int32)] = [(0, 0)]
        appendLeaf()
        var depth: Int32 = 0
        var head = 0
        while head < queue.count {
            let (source, level) = queue[head]
            let slot = Int(root) + head
            head += 1
            depth = max(depth, level)
            guard isSplit(source, visited: queue.count) else {
                nodes[slot] = Node(threshold: .nan, feature: 0, left: Int32(slot))
                leafValues[slot] = tree.value[source]
                continue
            }
            let feature = Int(tree.feature[source])
            width = max(width, feature + 1)
            let threshold = tree.threshold[source]
            nodes[slot] = Node(
                threshold: float32 ? Double(Float(threshold)) : threshold,
                feature: UInt32(feature), left: Int32(nodes.count)
            )
            missingRight[slot] = !tree.defaultLeft[source]
            for child in [tree.left[source], tree.right[source]] {
                queue.append((Int(child), level + 1))
                appendLeaf()
            }
        }
        roots.append(root)
        depths.append(depth)
    }

    /// Adds a placeholder: a leaf of value 0 pointing at itself.
    private mutating func appendLeaf() {
        nodes.append(Node(threshold: .nan, feature: 0, left: Int32(nodes.count)))
        missingRight.append(false)
        leafValues.append(0)
    }

    /// The next node after `index` for `row`, which has no missing value: `left`, or `left + 1` when the value
    /// is at least the threshold (never in a leaf, whose threshold is NaN). Written without branches.
    @inline(__always)
    static func step(_ index: Int32, _ row: UnsafePointer<Double>, _ nodes: UnsafePointer<Node>) -> Int32 {
        let node = nodes[Int(index)]
        return node.left &+ ((row[Int(node.feature)] >= node.threshold) ? 1 : 0)
    }

    /// `step` for a row that may have missing values: a missing value goes right where the node says so.
    @inline(__always)
    static func step(
        _ index: Int32, _ row: UnsafePointer<Double>, _ nodes: UnsafePointer<Node>, _ missingRight: UnsafePointer<Bool>
    ) -> Int32 {
        let node = nodes[Int(index)]
        let value = row[Int(node.feature)]
        let right = (value >= node.threshold) || (value.isNaN && missingRight[Int(index)])
        return node.left &+ (right ? 1 : 0)
    }

    /// Whether any of the `count` values at `values` is missing.
    @inline(__always)
    static func hasMissing(_ values: UnsafePointer<Double>, count: Int) -> Bool {
        var missing = false
        for index in 0..<count { missing = missing || values[index].isNaN }
        return missing
    }

    /// Runs `body` with the node, flag and leaf-value buffers (nil when there is no tree to walk).
    @inline(__always)
    private func withBuffers<Result>(
        _ body: (UnsafePointer<Node>, UnsafePointer<Bool>, UnsafePointer<Double>) -> Result
    ) -> Result? {
        nodes.withUnsafeBufferPointer { nodes in
            missingRight.withUnsafeBufferPointer { missingRight in
                leafValues.withUnsafeBufferPointer { leafValues in
                    guard let nodes = nodes.baseAddress, let missingRight = missingRight.baseAddress,
                        let leafValues = leafValues.baseAddress
                    else { return nil }
                    return body(nodes, missingRight, leafValues)
                }
            }
        }
    }

    /// `start` plus every leaf `row` reaches, added in the order `addMargins` adds them, so both give equal sums.
    func margin(_ row: UnsafePointer<Double>, start: Double) -> Double {
        var margin = start
        if constant != 0 { margin += constant }
        let missing = Self.hasMissing(row, count: width)
        withBuffers { nodes, missingRight, leafValues in
            if missing {
                walk(row, leafValues, into: &margin) { Self.step($0, row, nodes, missingRight) }
            } else {
                walk(row, leafValues, into: &margin) { Self.step($0, row, nodes) }
            }
        }
        return margin
    }

    /// Adds the leaves `row` reaches to `margin`, tree by tree. One walk is a chain of dependent loads (node,
    /// feature value, next node), so eight trees are walked side by side to overlap their latencies.
    @inline(__always)
    private func walk(
        _ row: UnsafePointer<Double>, _ leafValues: UnsafePointer<Double>, into margin: inout Double,
        step: (Int32) -> Int32
    ) {
        roots.withUnsafeBufferPointer { roots in
            depths.withUnsafeBufferPointer { depths in
                var tree = 0
                while tree + 8 <= roots.count {
                    var (a, b, c, d) = (roots[tree], roots[tree + 1], roots[tree + 2], roots[tree + 3])
                    var (e, f, g, h) = (roots[tree + 4], roots[tree + 5], roots[tree + 6], roots[tree + 7])
                    var depth: Int32 = 0
                    for offset in 0..<8 { depth = max(depth, depths[tree + offset]) }
                    for _ in 0..<depth {
                        (a, b, c, d) = (step(a), step(b), step(c), step(d))
                        (e, f, g, h) = (step(e), step(f), step(g), step(h))
                    }
                    margin += leafValues[Int(a)]
                    margin += leafValues[Int(b)]
                    margin += leafValues[Int(c)]
                    margin += leafValues[Int(d)]
                    margin += leafValues[Int(e)]
                    margin += leafValues[Int(f)]
                    margin += leafValues[Int(g)]
                    margin += leafValues[Int(h)]
                    tree += 8
                }
                while tree < roots.count {
                    var index = roots[tree]
                    for _ in 0..<depths[tree] { index = step(index) }
                    margin += leafValues[Int(index)]
                    tree += 1
                }
            }
        }
    }

    /// Adds every tree's leaf to `margins` for the `count` rows of `width` values at `block`, walking each tree
    /// one level at a time across the block so the rows' independent walks overlap.
    func addMargins(
        block: UnsafePointer<Double>, width: Int, count: Int, cursor: UnsafeMutablePointer<Int32>,
        into margins: UnsafeMutablePointer<Double>
    ) {
        if constant != 0 { for row in 0..<count { margins[row] += constant } }
        let missing = Self.hasMissing(block, count: count * width)
        withBuffers { nodes, missingRight, leafValues in
            roots.withUnsafeBufferPointer { roots in
                depths.withUnsafeBufferPointer { depths in
                    for tree in 0..<roots.count {
                        for row in 0..<count { cursor[row] = roots[tree] }
                        for _ in 0..<depths[tree] {
                            var row = block
                            if missing {
                                for index in 0..<count {
                                    cursor[index] = Self.step(cursor[index], row, nodes, missingRight)
                                    row += width
                                }
                            } else {
                                for index in 0..<count {
                                    cursor[index] = Self.step(cursor[index], row, nodes)
                                    row += width
                                }
                            }
                        }
                        for row in 0..<count { margins[row] += leafValues[Int(cursor[row])] }
                    }
                }
            }
        }
    }
}
