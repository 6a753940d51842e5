/// TreeSHAP by leaf tables (Yang, "Fast TreeSHAP", 2021, algorithm v2), for many rows: the same values as the
/// recursive algorithm, several times faster on depth-6 trees.
///
/// For one leaf `l` of value `v` whose path from the root tests the distinct features `P` (`d` of them), feature
/// `j ∈ P` has a zero fraction `z_j` (the product of the cover ratios of the path's splits on `j`) and a one
/// fraction `o_j` (1 when the row takes every one of those splits' branches toward `l`, else 0). The leaf's
/// Shapley contribution depends only on the set `A = {j : o_j = 1}`: with
/// `s(M) = v Σ_{S⊆M} |S|!(d−|S|−1)!/d! Π_{j∈P∖S} z_j`, a feature outside `A` gets `−s(A)` and one inside gets
/// `(1 − z_j)/z_j · s(A∖{j})`. The `2^d` values of `s` are computed once per leaf, and from them the `d`
/// contributions of every `A` (`2^d · d` values); a row then needs one pass over each tree's splits (the set `A` at
/// every node) and, per leaf, `d` consecutive values added to its path's features.
struct TreeSHAPTables: Sendable {
    /// A split, with the tree-local slots of itself and its children in the row's scratch of sets.
    struct Split: Sendable {
        var threshold: Double
        var feature: Int32
        var slot: Int32
        var left: Int32
        var right: Int32
        /// The bit of the split's feature among its path's distinct features.
        var bit: UInt32
        /// `bit` when the split is the first on its path to test its feature (the bit is set here, then only
        /// cleared), else 0.
        var first: UInt32
        var defaultLeft: Bool
    }

    /// One leaf, or two sibling leaves read as one: the slot(s), the path's features (`depth` of them from
    /// `pathStart`; siblings share them) and the contributions table from `tableStart`: `depth` values for each of
    /// the `1 << depth` sets of a single leaf; for siblings, for each union of their two sets and which of them holds
    /// the parent's feature (`2 << depth` entries), both leaves' values summed, so a row adds `depth` values for the
    /// pair instead of `2 × depth`.
    struct Leaf: Sendable {
        var slot: Int32
        /// The right sibling's slot, or -1 for a single leaf.
        var sibling: Int32
        /// The parent's feature bit (siblings only).
        var bit: UInt32
        var depth: Int32
        var pathStart: Int32
        var tableStart: Int32
    }

    /// What a tabled tree occupies.
    struct Tree: Sendable {
        var splits: Range<Int>
        var leaves: Range<Int>
    }

    /// The most distinct features a path may test for its tree to be tabled (`3^d` work and `2^d` values a leaf).
    static let maxPathFeatures = 10

    private(set) var splits: [Split] = []
    private(set) var leaves: [Leaf] = []
    /// The distinct features of each leaf's path.
    private(set) var path: [Int32] = []
    private(set) var table: [Double] = []
    /// One per tree of the ensemble: `nil` for a tree left to the recursive algorithm (a path testing more than
    /// ``maxPathFeatures`` features, a branch no training row reached, children stored before their parent).
    private(set) var trees: [Tree?] = []
    /// The fewest rows for which every tree tabled here passes the cost test (see ``TreeSHAPPathTables``).
    private(set) var neededRows = 0

    /// The most table values, all trees together (8 bytes each): past it, trees are left to the recursive algorithm.
    static let maxTableValues = 1 << 24

    /// Tables for the trees at `ranges` of `nodes`, for explaining `rows` rows: a tree whose tables would cost more to
    /// build than the recursive algorithm spends on those rows keeps the recursive algorithm.
    /// - Parameters:
    ///   - skip: per tree, `true` for one explained otherwise (by ``TreeSHAPPathTables``): left out.
    ///   - budget: the most table values, all trees together.
    init(_ nodes: [TreeSHAP.Node], ranges: [Range<Int>], rows: Int, skip: [Bool] = [], budget: Int = maxTableValues) {
        for (tree, range) in ranges.enumerated() {
            if tree < skip.count, skip[tree] {
                trees.append(nil)
                continue
            }
            let mark = (splits.count, leaves.count, path.count, table.count)
            if add(nodes[range], root: range.lowerBound, rows: rows, budget: budget) {
                trees.append(Tree(splits: mark.0..<splits.count, leaves: mark.1..<leaves.count))
            } else {
                splits.removeSubrange(mark.0...)
                leaves.removeSubrange(mark.1...)
                path.removeSubrange(mark.2...)
                table.removeSubrange(mark.3...)
                trees.append(nil)
            }
        }
    }

    /// Adds one tree; `false` when it cannot be tabled or is not worth it.
    private mutating func add(_ tree: ArraySlice<TreeSHAP.Node>, root: Int, rows: Int, budget: Int) -> Bool {
        let count = tree.count
        // Costs first, from the depths alone: the tables' `Σ 3^d` against the recursion's `rows × Σ (d + 1)²`.
        var depths = [Int](repeating: 0, count: count)
        var build = 0, recursive = 0, values = 0
        for index in 0..<count {
            let node = tree[root + index]
            guard node.feature >= 0 else {
                let depth = depths[index]
                guard depth <= Self.maxPathFeatures else { return false }
                build += Self.powersOfThree[depth]
                values += (1 << depth) * depth
                recursive += (depth + 1) * (depth + 1)
                continue
            }
            for child in [Int(node.left) - root, Int(node.right) - root] {
                guard child > index, child < count else { return false }  // children after parents, as trees store them
                depths[child] = depths[index] + 1
            }
        }
        guard build <= rows.multipliedReportingOverflow(by: recursive).partialValue || rows > 1 << 20,
            table.count + values <= budget
        else { return false }
        let needed = (build + recursive - 1) / max(recursive, 1)
        // Each node's path: its distinct features with their zero fractions, built parent to child.
        var paths = [[(feature: Int32, zero: Double)]](repeating: [], count: count)
        // Leaves whose sibling is a leaf too, by their parent's slot: the first of the two waits for the second.
        var waiting: [Int: (slot: Int, values: [Double])] = [:]
        var parents = [(slot: Int, bit: UInt32, twoLeaves: Bool)](repeating: (0, 0, false), count: count)
        for index in 0..<count {
            let node = tree[root + index]
            let nodePath = paths[index]
            paths[index] = []
            guard node.feature >= 0 else {
                guard nodePath.count <= Self.maxPathFeatures else { return false }
                let values = Self.contributions(value: node.value, path: nodePath)
                let parent = parents[index]
                guard index > 0, parent.twoLeaves else {
                    append(slot: index, sibling: -1, bit: 0, path: nodePath, values: values)
                    continue
                }
                guard let first = waiting.removeValue(forKey: parent.slot) else {
                    waiting[parent.slot] = (index, values)
                    continue
                }
                let second: (slot: Int, values: [Double]) = (index, values)
                let firstIsLeft = Int(tree[root + parent.slot].left) - root == first.slot
                appendSiblings(
                    left: firstIsLeft ? first : second, right: firstIsLeft ? second : first, bit: parent.bit,
                    path: nodePath)
                continue
            }
            let left = Int(node.left) - root, right = Int(node.right) - root
            let position = nodePath.firstIndex { $0.feature == node.feature }
            let bit = UInt32(position ?? nodePath.count)
            guard bit < 32 else { return false }
            let twoLeaves = tree[Int(node.left)].feature < 0 && tree[Int(node.right)].feature < 0
            parents[left] = (index, 1 << bit, twoLeaves)
            parents[right] = (index, 1 << bit, twoLeaves)
            splits.append(Split(
                threshold: node.threshold, feature: node.feature, slot: Int32(index), left: Int32(left),
                right: Int32(right), bit: 1 << bit, first: position == nil ? 1 << bit : 0,
                defaultLeft: node.defaultLeft))
            for child in [left, right] {
                let fraction = node.cover > 0 ? tree[root + child].cover / node.cover : 0
                guard fraction > 0 else { return false }
                var childPath = nodePath
                if let position {
                    childPath[position].zero *= fraction
                } else {
                    guard nodePath.count < Self.maxPathFeatures else { return false }
                    childPath.append((node.feature, fraction))
                }
                paths[child] = childPath
            }
        }
        neededRows = max(neededRows, needed)
        return true
    }

    private mutating func append(
        slot: Int, sibling: Int, bit: UInt32, path nodePath: [(feature: Int32, zero: Double)], values: [Double]
    ) {
        leaves.append(Leaf(slot: Int32(slot), sibling: Int32(sibling), bit: bit, depth: Int32(nodePath.count),
                           pathStart: Int32(path.count), tableStart: Int32(table.count)))
        for element in nodePath { path.append(element.feature) }
        table += values
    }

    /// Two sibling leaves as one entry: for each union `u` of their sets and `side` (1 when the right leaf's set
    /// holds the parent's feature), the left leaf's values at its set plus the right's at its own.
    private mutating func appendSiblings(
        left: (slot: Int, values: [Double]), right: (slot: Int, values: [Double]), bit: UInt32,
        path nodePath: [(feature: Int32, zero: Double)]
    ) {
        let depth = nodePath.count
        var values = [Double](repeating: 0, count: (2 << depth) * depth)
        for union in 0..<(1 << depth) {
            for side in 0..<2 {
                // The parent's bit is in exactly one leaf's set when it is in the union, else in neither.
                let leftSet = union & Int(bit) == 0 || side == 0 ? union : union & ~Int(bit)
                let rightSet = union & Int(bit) == 0 || side == 1 ? union : union & ~Int(bit)
                for position in 0..<depth {
                    values[((union << 1) | side) * depth + position] =
                        left.values[leftSet * depth + position] + right.values[rightSet * depth + position]
                }
            }
        }
        append(slot: left.slot, sibling: right.slot, bit: bit, path: nodePath, values: values)
    }

    /// A single leaf's contributions table: `depth` values for each of its path's `1 << depth` sets.
    private static func contributions(value: Double, path nodePath: [(feature: Int32, zero: Double)]) -> [Double] {
        let depth = nodePath.count
        var table: [Double] = []
        table.reserveCapacity((1 << depth) * depth)
        let size = 1 << depth
        // Π_{j∈P∖S} z_j for every S, and the Shapley weights |S|!(d−|S|−1)!/d! by |S|.
        var product = [Double](repeating: 1, count: size)
        for subset in 0..<size {
            for bit in 0..<depth where subset & (1 << bit) == 0 { product[subset] *= nodePath[bit].zero }
        }
        var weights = [Double](repeating: 0, count: max(depth, 1))
        for members in 0..<depth {
            weights[members] = factorial(members) * factorial(depth - members - 1) / factorial(depth)
        }
        var shares = [Double](repeating: 0, count: size)  // s(A) for every A
        for mask in 0..<size {
            var total = 0.0
            var subset = mask
            while true {
                if subset.nonzeroBitCount < depth { total += weights[subset.nonzeroBitCount] * product[subset] }
                if subset == 0 { break }
                subset = (subset - 1) & mask
            }
            shares[mask] = value * total
        }
        for mask in 0..<size {
            for (position, element) in nodePath.enumerated() {
                let bit = 1 << position
                table.append(mask & bit != 0 ? (1 - element.zero) / element.zero * shares[mask ^ bit] : -shares[mask])
            }
        }
        return table
    }

    private static let powersOfThree = (0...maxPathFeatures).map { Int(pow3($0)) }
    private static func pow3(_ n: Int) -> Int { n == 0 ? 1 : 3 * pow3(n - 1) }

    private static func factorial(_ n: Int) -> Double { n < 2 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }

    /// Runs `body` with the tables' buffers.
    func withBuffers<Result>(_ body: (Buffers) -> Result) -> Result {
        splits.withUnsafeBufferPointer { splits in
            leaves.withUnsafeBufferPointer { leaves in
                path.withUnsafeBufferPointer { path in
                    table.withUnsafeBufferPointer { table in
                        body(Buffers(splits: splits, leaves: leaves, path: path, table: table))
                    }
                }
            }
        }
    }

    /// The tables' storage, held once per explanation call.
    struct Buffers {
        let splits: UnsafeBufferPointer<Split>
        let leaves: UnsafeBufferPointer<Leaf>
        let path: UnsafeBufferPointer<Int32>
        let table: UnsafeBufferPointer<Double>

        /// Adds `tree`'s contributions for `row` (already rounded for float32 models) to `phi`, using `masks` (one
        /// per node of the tree) as scratch.
        @inline(__always)
        func add(
            _ tree: Tree, row: UnsafePointer<Double>, phi: UnsafeMutablePointer<Double>,
            masks: UnsafeMutablePointer<UInt32>
        ) {
            masks[0] = 0
            for index in tree.splits {
                let split = splits[index]
                let mask = masks[Int(split.slot)] | split.first
                let cleared = mask & ~split.bit
                let value = row[Int(split.feature)]
                let goesLeft = value < split.threshold || (value.isNaN && split.defaultLeft)
                masks[Int(split.left)] = goesLeft ? mask : cleared
                masks[Int(split.right)] = goesLeft ? cleared : mask
            }
            let table = self.table.baseAddress!
            let path = self.path.baseAddress!
            for index in tree.leaves {
                let leaf = leaves[index]
                let depth = Int(leaf.depth)
                var set = masks[Int(leaf.slot)]
                if leaf.sibling >= 0 {
                    let other = masks[Int(leaf.sibling)]
                    set = ((set | other) << 1) | (other & leaf.bit == 0 ? 0 : 1)
                }
                let values = table + Int(leaf.tableStart) + Int(set) * depth
                let features = path + Int(leaf.pathStart)
                for position in 0..<depth { phi[Int(features[position])] += values[position] }
            }
        }
    }
}
