/// Exact path-dependent TreeSHAP (Lundberg, Erion and Lee, "Consistent Individualized Feature Attribution for Tree
/// Ensembles", 2018, Algorithm 2; the algorithm behind XGBoost's `pred_contribs`): each feature's Shapley value for
/// one row's margin, where a feature left out of a coalition is integrated out along the tree by its nodes' covers.
///
/// Built once per ensemble (the trees flattened, each tree's expected value computed), then used for any number of
/// rows; it allocates nothing per row. A missing value (NaN) follows its split's default direction, and a float32
/// (imported XGBoost) model compares the row's values rounded to `Float`, exactly as prediction does.
public struct TreeSHAP: Sendable {
    /// One node, children as absolute indices into `nodes`; `feature` is -1 in a leaf.
    struct Node: Sendable {
        var threshold: Double
        var value: Double
        var cover: Double
        var feature: Int32
        var left: Int32
        var right: Int32
        var defaultLeft: Bool
    }

    /// One element of the path of unique features from the root: Algorithm 2's `m`.
    struct PathElement {
        var feature: Int32
        /// The fraction of "feature absent" paths that flow through this branch (the covers' ratio).
        var zero: Double
        /// 1 when the row's value takes this branch, else 0.
        var one: Double
        /// The permutation weight.
        var weight: Double
    }

    /// The deepest tree explained: the path buffer grows with the square of the depth.
    public static let maxDepth = 256
    /// The most work one row may take, in path steps (`Σ (leaf depth + 1)²` over every leaf): about a tenth of a
    /// second. Explaining costs up to `depth²` times what predicting does per leaf, so a model far past this (millions
    /// of deep leaves) is refused rather than letting one request hold a core for minutes.
    public static let maxRowWork = 50_000_000

    let nodes: [Node]
    private let roots: [Int32]
    /// Each tree's nodes in `nodes`.
    let ranges: [Range<Int>]
    private let featureCount: Int
    private let float32: Bool
    private let pathCapacity: Int
    /// The base margin plus every tree's expected value: what the contributions are measured from.
    public let bias: Double
    /// The work of explaining one row, in path steps (at most ``maxRowWork``).
    let work: Int
    /// Tables built once for every call (``prepared()``), instead of per call for calls of ``tableRows`` rows or more.
    var prebuilt: Tables?

    /// Prepares `ensemble`, or says why it cannot be explained (no covers, or a tree deeper than ``maxDepth``).
    /// A multi-class ensemble is explained one class at a time (``init(_:class:)``).
    public init(_ ensemble: TreeEnsemble) throws(ExplanationError) {
        try self.init(
            ensemble.trees, indices: Array(ensemble.trees.indices), baseMargin: ensemble.baseMargin,
            featureCount: ensemble.featureCount, float32: ensemble.float32)
    }

    /// Prepares class `index` of a multi-class ensemble: its margin is the class's starting margin plus its own trees
    /// (tree `i` belongs to class `i mod K`), so the contributions and bias sum to that class's margin, as XGBoost's
    /// `pred_contribs` gives them per class.
    public init(_ ensemble: TreeEnsemble, class index: Int) throws(ExplanationError) {
        let classes = ensemble.classCount
        precondition(classes > 0 && (0..<classes).contains(index), "class \(index) of a \(classes)-class ensemble")
        try self.init(
            ensemble.trees, indices: Array(Swift.stride(from: index, to: ensemble.trees.count, by: classes)),
            baseMargin: ensemble.classMargins[index], featureCount: ensemble.featureCount, float32: ensemble.float32)
    }

    /// Prepares the trees at `indices` of `trees` (an index names its tree in a refusal), measured from `baseMargin`.
    private init(
        _ trees: [DecisionTree], indices: [Int], baseMargin: Double, featureCount: Int, float32: Bool
    ) throws(ExplanationError) {
        var nodes: [Node] = []
        nodes.reserveCapacity(indices.reduce(0) { $0 + trees[$1].nodeCount })
        var roots: [Int32] = []
        var ranges: [Range<Int>] = []
        var bias = baseMargin
        var deepest = 0
        var work = 0
        for index in indices {
            let tree = trees[index]
            guard tree.cover.count == tree.nodeCount else {
                throw ExplanationError(
                    "the model's trees have no covers (it was stored before xalorra kept them): retrain or re-import "
                        + "it to explain its predictions")
            }
            let root = nodes.count
            roots.append(Int32(root))
            for node in 0..<tree.nodeCount {
                let leaf = tree.feature[node] < 0
                nodes.append(Node(
                    threshold: tree.threshold[node], value: leaf ? tree.value[node] : 0, cover: tree.cover[node],
                    feature: leaf ? -1 : tree.feature[node],
                    left: leaf ? -1 : Int32(root) + tree.left[node], right: leaf ? -1 : Int32(root) + tree.right[node],
                    defaultLeft: tree.defaultLeft[node]))
            }
            let (expected, depth, treeWork) = Self.expectedValue(nodes, Int(root), maxDepth: Self.maxDepth)
            guard depth <= Self.maxDepth else {
                throw ExplanationError("tree \(index) is deeper than \(Self.maxDepth) levels; it cannot be explained")
            }
            work += treeWork
            guard work <= Self.maxRowWork else {
                throw ExplanationError(
                    "the model is too large to explain (its leaves and depths take more than \(Self.maxRowWork) path "
                        + "steps a row)")
            }
            bias += expected
            deepest = max(deepest, depth)
            ranges.append(root..<nodes.count)
        }
        self.nodes = nodes
        self.roots = roots
        self.ranges = ranges
        self.bias = bias
        self.work = work
        self.featureCount = featureCount
        self.float32 = float32
        pathCapacity = (deepest + 2) * (deepest + 3) / 2 + 1
    }

    /// The cover-weighted mean of the leaves under `root` (XGBoost's node mean value) and the subtree's depth,
    /// computed without recursion, and the work of explaining it (`Σ (leaf depth + 1)²`); stops descending past
    /// `maxDepth`.
    private static func expectedValue(_ nodes: [Node], _ root: Int, maxDepth: Int) -> (Double, Int, Int) {
        var work = 0
        // Post-order over an explicit stack; `means` holds each visited node's mean.
        var means: [Int: Double] = [:]
        var stack: [(node: Int, depth: Int, expanded: Bool)] = [(root, 0, false)]
        var deepest = 0
        while let (node, depth, expanded) = stack.popLast() {
            deepest = max(deepest, depth)
            let item = nodes[node]
            if item.feature < 0 {
                means[node] = item.value
                work += (depth + 1) * (depth + 1)
                continue
            }
            if depth > maxDepth { return (0, depth, work) }
            if expanded {
                let left = Int(item.left), right = Int(item.right)
                let weighted = means[left]! * nodes[left].cover + means[right]! * nodes[right].cover
                means[node] = item.cover > 0 ? weighted / item.cover : (means[left]! + means[right]!) / 2
                means[left] = nil
                means[right] = nil
            } else {
                stack.append((node, depth, true))
                stack.append((Int(item.left), depth + 1, false))
                stack.append((Int(item.right), depth + 1, false))
            }
        }
        return (means[root] ?? 0, deepest, work)
    }

    /// From this many rows on, leaf tables (``TreeSHAPPathTables``, else ``TreeSHAPTables``) are built first, for the
    /// trees where they cost less than the recursion on these rows: on 100 trees of depth 6, building them took what
    /// the recursion spends on 15 rows (5 ms), and each row then took 5 µs instead of 350.
    public static let tableRows = 16

    /// Explains `output.count / (featureCount + 1)` rows of `featureCount` values stored one after another: each row's
    /// `featureCount` contributions followed by its bias, which together sum to the row's margin.
    /// - Parameter tables: leaf tables for `true`, the recursive algorithm for `false`, by the row count for `nil`.
    public func explain(
        rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>, tables: Bool? = nil
    ) {
        let width = featureCount
        let count = output.count / (width + 1)
        precondition(rows.count >= count * width, "\(rows.count) values do not fill \(count) rows")
        // Trees by path outcomes where they fit, by sets where their paths are too long for that, else recursively.
        let built: Tables
        if let prebuilt, tables == true || (tables == nil && count >= max(Self.tableRows, prebuilt.neededRows)) {
            built = prebuilt
        } else {
            let tabling = tables ?? (count >= Self.tableRows)
            built = Tables(self, rows: tabling ? (tables == true ? Int.max : count) : 0)
        }
        let (byPaths, bySets) = (built.paths, built.sets)
        let widest = ranges.map(\.count).max() ?? 1
        let masks = UnsafeMutablePointer<UInt32>.allocate(capacity: max(widest, 1))
        defer { masks.deallocate() }
        let path = UnsafeMutablePointer<PathElement>.allocate(capacity: pathCapacity)
        defer { path.deallocate() }
        // Rows go through the trees in blocks: each tree's tables stay in cache while it explains the whole block.
        // The block is kept row by row (for the recursion and tables by sets) and feature by feature (for tables by
        // path outcomes, whose splits compare a whole block's values at once).
        let blockSize = min(max(count, 1), Self.blockSize(width: width))
        let block = UnsafeMutablePointer<Double>.allocate(capacity: max(blockSize * width, 1))
        defer { block.deallocate() }
        let columns = UnsafeMutablePointer<Double>.allocate(capacity: max(blockSize * width, 1))
        defer { columns.deallocate() }
        let codes = UnsafeMutablePointer<UInt32>.allocate(capacity: (byPaths.widest + 1) * blockSize)
        defer { codes.deallocate() }
        codes.initialize(repeating: 0, count: (byPaths.widest + 1) * blockSize)
        byPaths.withBuffers { pathBuffers in
            bySets.withBuffers { setBuffers in
                nodes.withUnsafeBufferPointer { nodes in
                    var start = 0
                    while start < count {
                        let rowsInBlock = min(blockSize, count - start)
                        for row in 0..<rowsInBlock {
                            for feature in 0..<width {
                                let value = rows[(start + row) * width + feature]
                                let rounded = float32 ? Double(Float(value)) : value
                                block[row * width + feature] = rounded
                                columns[feature * blockSize + row] = rounded
                            }
                        }
                        let phis = output.baseAddress! + start * (width + 1)
                        for row in 0..<rowsInBlock {
                            for feature in 0..<width { phis[row * (width + 1) + feature] = 0 }
                            phis[row * (width + 1) + width] = bias
                        }
                        for (tree, root) in roots.enumerated() {
                            if tree < byPaths.trees.count, let table = byPaths.trees[tree] {
                                pathBuffers.add(
                                    table, block: columns, rows: rowsInBlock, blockSize: blockSize, codes: codes,
                                    phis: phis, stride: width + 1)
                                continue
                            }
                            if tree < bySets.trees.count, let table = bySets.trees[tree] {
                                for row in 0..<rowsInBlock {
                                    setBuffers.add(
                                        table, row: block + row * width, phi: phis + row * (width + 1), masks: masks)
                                }
                                continue
                            }
                            for row in 0..<rowsInBlock {
                                recurse(Int(root), uniqueDepth: 0, parentPath: path, parentZero: 1, parentOne: 1,
                                        parentFeature: -1, row: block + row * width, phi: phis + row * (width + 1),
                                        nodes: nodes.baseAddress!)
                            }
                        }
                        start += rowsInBlock
                    }
                }
            }
        }
    }

    /// Rows explained together, tree by tree: 256 (measured fastest of 32 to 1,024 on 20 features), fewer for wide
    /// rows, so that a block's values take at most 512 KiB (twice: by row and by feature).
    static func blockSize(width: Int) -> Int { min(256, max(16, 65_536 / max(width, 1))) }

    /// Algorithm 2's RECURSE: extends the path with the parent's split, adds the leaf's share to each feature on
    /// the path at a leaf, else follows the row's ("hot") and the other ("cold") child.
    private func recurse(
        _ index: Int, uniqueDepth: Int, parentPath: UnsafeMutablePointer<PathElement>, parentZero: Double,
        parentOne: Double, parentFeature: Int32, row: UnsafePointer<Double>, phi: UnsafeMutablePointer<Double>,
        nodes: UnsafePointer<Node>
    ) {
        let path = parentPath + uniqueDepth + 1
        path.update(from: parentPath, count: uniqueDepth + 1)
        Self.extend(path, uniqueDepth, parentZero, parentOne, parentFeature)
        let node = nodes[index]
        guard node.feature >= 0 else {
            guard uniqueDepth > 0 else { return }
            for element in 1...uniqueDepth {
                let weight = Self.unwoundSum(path, uniqueDepth, element)
                let item = path[element]
                phi[Int(item.feature)] += weight * (item.one - item.zero) * node.value
            }
            return
        }
        let value = row[Int(node.feature)]
        let goesLeft = value.isNaN ? node.defaultLeft : value < node.threshold
        let hot = Int(goesLeft ? node.left : node.right)
        let cold = Int(goesLeft ? node.right : node.left)
        let hotZero: Double, coldZero: Double
        if node.cover > 0 {
            hotZero = nodes[hot].cover / node.cover
            coldZero = nodes[cold].cover / node.cover
        } else {
            (hotZero, coldZero) = (0.5, 0.5)
        }
        var incomingZero = 1.0, incomingOne = 1.0
        var depth = uniqueDepth
        // A feature already on the path is taken off it, its fractions carried into this split.
        var seen = 0
        while seen <= depth, path[seen].feature != node.feature { seen += 1 }
        if seen <= depth {
            incomingZero = path[seen].zero
            incomingOne = path[seen].one
            Self.unwind(path, depth, seen)
            depth -= 1
        }
        recurse(hot, uniqueDepth: depth + 1, parentPath: path, parentZero: hotZero * incomingZero,
                parentOne: incomingOne, parentFeature: node.feature, row: row, phi: phi, nodes: nodes)
        recurse(cold, uniqueDepth: depth + 1, parentPath: path, parentZero: coldZero * incomingZero,
                parentOne: 0, parentFeature: node.feature, row: row, phi: phi, nodes: nodes)
    }

    /// EXTEND: adds a feature to the path with its zero and one fractions, updating the permutation weights.
    @inline(__always)
    private static func extend(
        _ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ zero: Double, _ one: Double, _ feature: Int32
    ) {
        path[depth] = PathElement(feature: feature, zero: zero, one: one, weight: depth == 0 ? 1 : 0)
        let scale = 1 / Double(depth + 1)
        var index = depth - 1
        while index >= 0 {
            path[index + 1].weight += one * path[index].weight * Double(index + 1) * scale
            path[index].weight = zero * path[index].weight * Double(depth - index) * scale
            index -= 1
        }
    }

    /// UNWIND: takes element `at` off the path, undoing its extension of the weights.
    @inline(__always)
    private static func unwind(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ at: Int) {
        let one = path[at].one
        let zero = path[at].zero
        var next = path[depth].weight
        var index = depth - 1
        while index >= 0 {
            if one != 0 {
                let previous = path[index].weight
                path[index].weight = next * Double(depth + 1) / (Double(index + 1) * one)
                next = previous - path[index].weight * zero * Double(depth - index) / Double(depth + 1)
            } else {
                path[index].weight = path[index].weight * Double(depth + 1) / (zero * Double(depth - index))
            }
            index -= 1
        }
        var move = at
        while move < depth {
            path[move].feature = path[move + 1].feature
            path[move].zero = path[move + 1].zero
            path[move].one = path[move + 1].one
            move += 1
        }
    }

    /// The total permutation weight the path would have without element `at`, without changing the path.
    @inline(__always)
    private static func unwoundSum(_ path: UnsafeMutablePointer<PathElement>, _ depth: Int, _ at: Int) -> Double {
        let one = path[at].one
        let zero = path[at].zero
        var next = path[depth].weight
        var total = 0.0
        var index = depth - 1
        while index >= 0 {
            if one != 0 {
                let share = next * Double(depth + 1) / (Double(index + 1) * one)
                total += share
                next = path[index].weight - share * zero * (Double(depth - index) / Double(depth + 1))
            } else if zero != 0 {
                total += (path[index].weight / zero) / (Double(depth - index) / Double(depth + 1))
            }
            index -= 1
        }
        return total
    }
}

/// Why a model's predictions cannot be explained.
public struct ExplanationError: Error, Sendable, Equatable {
    /// What to tell the user.
    public let message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }
}
