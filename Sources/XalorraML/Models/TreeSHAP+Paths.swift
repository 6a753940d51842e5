/// TreeSHAP by leaf tables indexed by the row's path outcomes: the same values as ``TreeSHAPTables``, with a row's
/// work per tree cut to one comparison per split and, per leaf entry, one look-up and `d` adds.
///
/// A leaf's contributions depend only on the set `A` of its path's distinct features whose splits all send the row
/// toward it (see ``TreeSHAPTables``). Here a table is indexed not by `A` but by the row's outcomes at the `D` splits
/// of the path (bit `D − 1 − i` is 1 when the row goes left at the path's `i`-th split): that index is a node's code,
/// `code(children of s) = code(children of s's parent) << 1 | goesLeft(s)`, one comparison and one shift per split,
/// the same for both children. Each of a table's `2^D` rows holds the `d` contributions of the set its outcomes give
/// (a feature split on twice maps several outcomes to one set). Two sibling leaves are one entry indexed by their
/// parent's code, both leaves' contributions summed in each row.
///
/// Rows are explained in blocks, tree by tree: a split compares the whole block's values of its feature (the block is
/// stored feature by feature), then an entry adds its values to every row of the block, its features in registers and
/// its table in cache.
struct TreeSHAPPathTables: Sendable {
    /// A split: its feature and threshold, the scratch row of codes it reads (its parent's) and the one it writes.
    struct Split: Sendable {
        var threshold: Double
        var feature: Int32
        /// The parent's row of codes (row 0, always zero, for the root).
        var parent: Int32
        /// This split's row of codes: its children's index.
        var code: Int32
        var defaultLeft: Bool
    }

    /// One leaf, or two sibling leaves: the row of codes that indexes its table, its path's distinct features
    /// (`depth` of them from `pathStart`) and its table from `tableStart`, `depth` values for each of the `2^D` codes.
    struct Entry: Sendable {
        var code: Int32
        var depth: Int32
        var pathStart: Int32
        var tableStart: Int
    }

    /// What a tabled tree occupies.
    struct Tree: Sendable {
        var splits: Range<Int>
        var entries: Range<Int>
    }

    /// The most splits on a path for its tree to be tabled here (a table has `2^D` rows).
    static let maxPathSplits = 12
    /// Up to this many splits on every path a tree's tables are small whatever its features; past it, the tree is
    /// tabled here only when its tables hold at most ``maxGrowth`` times what tables by sets (``TreeSHAPTables``)
    /// would.
    static let smallPathSplits = 8
    /// See ``smallPathSplits``.
    static let maxGrowth = 4

    private(set) var splits: [Split] = []
    private(set) var entries: [Entry] = []
    /// The distinct features of each entry's path.
    private(set) var path: [Int32] = []
    private(set) var table: [Double] = []
    /// One per tree of the ensemble: `nil` for a tree left to the other methods.
    private(set) var trees: [Tree?] = []
    /// The most splits of one tabled tree (the scratch of codes has one row more).
    private(set) var widest = 0
    /// The fewest rows for which every tree tabled here passes the cost test: tables made for that many rows or
    /// more hold the same trees as these (``TreeSHAP/Tables/neededRows``).
    private(set) var neededRows = 0

    /// Tables for the trees at `ranges` of `nodes`, for explaining `rows` rows, within `budget` table values: a tree
    /// whose tables would cost more to build than the recursive algorithm spends on those rows is left out.
    init(_ nodes: [TreeSHAP.Node], ranges: [Range<Int>], rows: Int, budget: Int) {
        var scratch = Scratch()
        for range in ranges {
            let mark = (splits.count, entries.count, path.count, table.count)
            if add(nodes[range], root: range.lowerBound, rows: rows, budget: budget, scratch: &scratch) {
                trees.append(Tree(splits: mark.0..<splits.count, entries: mark.1..<entries.count))
                widest = max(widest, splits.count - mark.0)
            } else {
                splits.removeSubrange(mark.0...)
                entries.removeSubrange(mark.1...)
                path.removeSubrange(mark.2...)
                table.removeSubrange(mark.3...)
                trees.append(nil)
            }
        }
    }

    /// A node's path from the root, what a split passes to its children while a tree is built.
    private struct NodePath {
        /// The splits on the path.
        var length = 0
        /// Bit `length − 1 − i` is 1 when the node lies left of the path's `i`-th split.
        var directions = 0
        /// Four bits per split, the root's lowest: the position of the split's feature in `features`.
        var positions: UInt64 = 0
        /// The path's distinct features with their zero fractions (the product of their splits' cover ratios).
        var features: [(feature: Int32, zero: Double)] = []
        /// The row of codes of the node's parent split (0 for the root).
        var parentCode: Int32 = 0
    }

    /// Buffers reused from leaf to leaf while tables are built.
    private struct Scratch {
        /// Per set `A`, the coefficients of `Π_{j∈A} (x + z_j)`, `maxPathFeatures + 1` each.
        var polynomials: [Double] = []
        /// `s(A)` per set `A`.
        var shares: [Double] = []
        /// A leaf's contributions, `d` per set.
        var contributions: [Double] = []
        /// Per pattern of splits a row leaves a leaf's path by, the set of features left.
        var sets: [Int] = []
        /// The path `sets` was computed for: its positions, splits and distinct features.
        var setsShape: (UInt64, Int, Int) = (0, -1, 0)
    }

    /// A leaf on its way into an entry: its path and value. Its path's outcomes are the top bits of the entry's index,
    /// in path order, except that with a `gap` the last of them sits below that bit of the index (the second pair of
    /// four leaves: the first pair's outcome at bit 1, its own at bit 0).
    private struct Leaf {
        var path: NodePath
        var value: Double
        var gap: Int? = nil
    }

    /// Adds one tree; `false` when it cannot be tabled here or is not worth it.
    ///
    /// Entries: two sibling leaves, indexed by their parent's code; four leaves under two such parents that are
    /// siblings, indexed by a chain of codes (the second parent reads the first's code instead of their parent's, so
    /// its code holds the outcomes of the path and of both); and a leaf whose sibling is a split joins the first entry
    /// found below that sibling (whose index starts with the leaf's outcomes and whose features include the leaf's),
    /// adding nothing to a row's work.
    private mutating func add(
        _ tree: ArraySlice<TreeSHAP.Node>, root: Int, rows: Int, budget: Int, scratch: inout Scratch
    ) -> Bool {
        let count = tree.count
        // Costs first, from the path lengths alone: the tables' `Σ 2^(D+1) (D + 1)` against the recursion's
        // `rows × Σ (D + 1)²` (on 100 trees of depth 6, building them took what the recursion spends on 15 rows).
        var lengths = [Int](repeating: 0, count: count)
        var build = 0, recursive = 0, longest = 0
        for index in 0..<count {
            let node = tree[root + index]
            guard node.feature >= 0 else {
                let length = lengths[index]
                guard length <= Self.maxPathSplits else { return false }
                longest = max(longest, length)
                build += (2 << length) * (length + 1)
                recursive += (length + 1) * (length + 1)
                continue
            }
            for child in [Int(node.left) - root, Int(node.right) - root] {
                guard child > index, child < count else { return false }  // children after parents, as trees store them
                lengths[child] = lengths[index] + 1
            }
        }
        guard build <= rows.multipliedReportingOverflow(by: recursive).partialValue || rows > 1 << 20 else {
            return false
        }
        let needed = (build + recursive - 1) / max(recursive, 1)
        let firstSplit = splits.count, firstValue = table.count
        func node(_ index: Int) -> TreeSHAP.Node { tree[root + index] }
        func children(_ index: Int) -> (Int, Int) { (Int(node(index).left) - root, Int(node(index).right) - root) }
        func isLeaf(_ index: Int) -> Bool { node(index).feature < 0 }
        /// A split whose children are both leaves.
        func holdsTwoLeaves(_ index: Int) -> Bool {
            !isLeaf(index) && isLeaf(children(index).0) && isLeaf(children(index).1)
        }
        var setValues = 0
        var paths = [NodePath?](repeating: nil, count: count)
        paths[0] = NodePath()
        // Leaves waiting, at a split below their sibling, for an entry to join.
        var waiting = [[Leaf]](repeating: [], count: count)
        for index in 0..<count {
            guard !isLeaf(index), let nodePath = paths[index] else { continue }
            paths[index] = nil
            var leaves = waiting[index]
            waiting[index] = []
            let (left, right) = children(index)
            guard let (row, sides) = appendSplit(index, node(index), path: nodePath, covers: (node(left), node(right)),
                                                 firstSplit: firstSplit)
            else { return false }
            if isLeaf(left) && isLeaf(right) {
                leaves += [Leaf(path: sides[0], value: node(left).value), Leaf(path: sides[1], value: node(right).value)]
                setValues += append(code: row, length: nodePath.length + 1, leaves: leaves, scratch: &scratch)
            } else if holdsTwoLeaves(left) && holdsTwoLeaves(right) && nodePath.length + 3 <= Self.maxPathSplits {
                var first = sides[0], second = sides[1]
                first.parentCode = row
                second.parentCode = row
                guard let (firstRow, firstSides) = appendSplit(
                        left, node(left), path: first, covers: (node(children(left).0), node(children(left).1)),
                        firstSplit: firstSplit),
                    let (secondRow, secondSides) = appendSplit(
                        right, node(right), path: second, covers: (node(children(right).0), node(children(right).1)),
                        chainedTo: firstRow, firstSplit: firstSplit)
                else { return false }
                let length = nodePath.length + 3
                // The first pair's outcome sits at bit 1 (where its path puts it), the second's at bit 0.
                leaves += [Leaf(path: firstSides[0], value: node(children(left).0).value),
                           Leaf(path: firstSides[1], value: node(children(left).1).value),
                           Leaf(path: secondSides[0], value: node(children(right).0).value, gap: 1),
                           Leaf(path: secondSides[1], value: node(children(right).1).value, gap: 1)]
                setValues += append(code: secondRow, length: length, leaves: leaves, scratch: &scratch)
            } else {
                // A leaf child waits below its sibling; with two split children, the waiting leaves go left.
                var target: Int?
                for (side, child) in [left, right].enumerated() {
                    if isLeaf(child) {
                        leaves.append(Leaf(path: sides[side], value: node(child).value))
                    } else {
                        var childPath = sides[side]
                        childPath.parentCode = row
                        paths[child] = childPath
                        target = target ?? child
                    }
                }
                if let target { waiting[target] = leaves }
            }
            guard table.count <= budget else { return false }
        }
        guard longest <= Self.smallPathSplits || table.count - firstValue <= Self.maxGrowth * setValues else { return false }
        neededRows = max(neededRows, needed)
        return true
    }

    /// Appends the split at `index` (reading its parent's codes, or `chainedTo`'s) and returns its row of codes and
    /// its children's paths (left, right): `nil` when the tree cannot be tabled here (a child with no cover, a path
    /// with too many features).
    private mutating func appendSplit(
        _ index: Int, _ node: TreeSHAP.Node, path nodePath: NodePath, covers: (TreeSHAP.Node, TreeSHAP.Node),
        chainedTo: Int32? = nil, firstSplit: Int
    ) -> (row: Int32, sides: [NodePath])? {
        let row = Int32(splits.count - firstSplit + 1)
        splits.append(Split(
            threshold: node.threshold, feature: node.feature, parent: chainedTo ?? nodePath.parentCode, code: row,
            defaultLeft: node.defaultLeft))
        // The children's path: this split appended, its feature new or already on the path.
        let known = nodePath.features.firstIndex { $0.feature == node.feature }
        guard known != nil || nodePath.features.count < TreeSHAPTables.maxPathFeatures else { return nil }
        let position = known ?? nodePath.features.count
        var childPath = nodePath
        if known == nil { childPath.features.append((node.feature, 1)) }
        childPath.positions |= UInt64(position) << (4 * UInt64(nodePath.length))
        childPath.length += 1
        childPath.parentCode = row
        var sides: [NodePath] = []
        for (side, child) in [covers.0, covers.1].enumerated() {
            let fraction = node.cover > 0 ? child.cover / node.cover : 0
            guard fraction > 0 else { return nil }
            var path = childPath
            path.features[position].zero *= fraction
            path.directions = nodePath.directions << 1 | (side == 0 ? 1 : 0)
            sides.append(path)
        }
        return (row, sides)
    }

    /// Appends an entry of `leaves`, its index `length` outcomes from row `code` of the codes; returns the values
    /// tables by sets would hold for these leaves (`2^d · d` each).
    private mutating func append(code: Int32, length: Int, leaves: [Leaf], scratch: inout Scratch) -> Int {
        var features: [Int32] = []
        for leaf in leaves {
            for element in leaf.path.features where !features.contains(element.feature) { features.append(element.feature) }
        }
        let depth = features.count, outcomes = 1 << length
        entries.append(Entry(code: code, depth: Int32(depth), pathStart: Int32(path.count), tableStart: table.count))
        path += features
        let start = table.count
        table += repeatElement(0, count: outcomes * depth)
        var setValues = 0
        for leaf in leaves {
            let own = leaf.path
            let leafDepth = own.features.count, splitCount = own.length
            setValues += (1 << leafDepth) * leafDepth
            Self.contributions(value: leaf.value, path: own.features, into: &scratch)
            // The set each pattern of splits the row leaves the leaf's path by gives (bit `splitCount − 1 − i` for the
            // path's `i`-th split): every feature but those of such a split.
            // Sibling leaves share their path's shape, so the sets of the last leaf often serve.
            let patterns = 1 << splitCount
            if scratch.setsShape != (own.positions, splitCount, leafDepth) {
                if scratch.sets.count < patterns { scratch.sets = [Int](repeating: 0, count: patterns) }
                scratch.sets[0] = (1 << leafDepth) - 1
                for away in 1..<max(patterns, 1) {
                    let split = splitCount - 1 - away.trailingZeroBitCount
                    let position = Int((own.positions &>> (4 &* UInt64(split))) & 15)
                    scratch.sets[away] = scratch.sets[away & (away &- 1)] & ~(1 &<< position)
                }
                scratch.setsShape = (own.positions, splitCount, leafDepth)
            }
            let targets = own.features.map { element in features.firstIndex(of: element.feature)! }
            // Each of the leaf's own outcome patterns, then each value of the index bits off its path.
            let free = length - splitCount, gap = leaf.gap ?? 0
            table.withUnsafeMutableBufferPointer { table in
                scratch.contributions.withUnsafeBufferPointer { values in
                    scratch.sets.withUnsafeBufferPointer { sets in
                        targets.withUnsafeBufferPointer { targets in
                            for pattern in 0..<patterns {
                                let source = values.baseAddress! + sets[pattern ^ own.directions] &* leafDepth
                                let high = (pattern &>> gap) &<< (free &+ gap), low = pattern & ((1 &<< gap) &- 1)
                                for other in 0..<(1 &<< free) {
                                    let outcome = high | other &<< gap | low
                                    let row = table.baseAddress! + (start &+ outcome &* depth)
                                    for position in 0..<leafDepth { row[targets[position]] += source[position] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return setValues
    }

    /// The number of features in each set of up to ``TreeSHAPTables/maxPathFeatures`` (a table: `nonzeroBitCount`
    /// counts bit by bit where the target has no popcount instruction).
    private static let memberCounts: [UInt8] = (0..<(1 << TreeSHAPTables.maxPathFeatures)).map {
        UInt8($0.nonzeroBitCount)
    }

    /// `k!(d−k−1)!/d!`, the Shapley weight of a coalition of `k` of `d` features, by `d` then `k`.
    private static let weights: [[Double]] = (0...TreeSHAPTables.maxPathFeatures).map { depth in
        func factorial(_ n: Int) -> Double { n < 2 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }
        return (0..<depth).map { factorial($0) * factorial(depth - $0 - 1) / factorial(depth) }
    }

    /// A single leaf's contributions into `scratch.contributions`: `d` values for each of its path's `2^d` sets `A`
    /// (a feature outside `A` gets `−s(A)`, one inside `(1 − z_j)/z_j · s(A∖{j})`, see ``TreeSHAPTables``), where
    /// `s(A) = v Π_{j∉A} z_j Σ_k w_k c_k(A)`, `c_k(A)` the coefficients of `Π_{j∈A} (x + z_j)` (over the subsets `S`
    /// of `A` of size `k`, the zero fractions of `A∖S` multiplied) and `w_k = k!(d−k−1)!/d!`: `2^d · d` steps, where
    /// summing over every subset of every set takes `3^d`.
    private static func contributions(
        value: Double, path: [(feature: Int32, zero: Double)], into scratch: inout Scratch
    ) {
        let depth = path.count, size = 1 << depth, stride = depth + 1
        if scratch.polynomials.count < size * stride {
            scratch.polynomials = [Double](repeating: 0, count: size * stride)
        }
        if scratch.shares.count < size { scratch.shares = [Double](repeating: 0, count: size) }
        if scratch.contributions.count < size * depth {
            scratch.contributions = [Double](repeating: 0, count: size * depth)
        }
        let weights = Self.weights[depth], memberCounts = Self.memberCounts
        scratch.polynomials.withUnsafeMutableBufferPointer { polynomials in
            scratch.shares.withUnsafeMutableBufferPointer { shares in
                scratch.contributions.withUnsafeMutableBufferPointer { table in
                    weights.withUnsafeBufferPointer { weights in
                        let polynomials = polynomials.baseAddress!, shares = shares.baseAddress!
                        let table = table.baseAddress!, weights = weights.baseAddress!
                        polynomials[0] = 1
                        for set in 1..<size {
                            // Π_{j∈A} (x + z_j) from A without its lowest feature; its degree is |A|.
                            let zero = path[set.trailingZeroBitCount].zero
                            let previous = polynomials + (set & (set - 1)) &* stride
                            let current = polynomials + set &* stride
                            let members = Int(memberCounts[set])
                            current[0] = previous[0] * zero
                            var power = 1
                            while power < members {
                                current[power] = previous[power] * zero + previous[power - 1]
                                power += 1
                            }
                            current[members] = previous[members - 1]
                        }
                        for set in 0..<size {
                            let coefficients = polynomials + set &* stride
                            var total = 0.0
                            for members in 0...min(Int(memberCounts[set]), depth - 1) {
                                total += weights[members] * coefficients[members]
                            }
                            // Π_{j∉A} z_j: the constant term of the complement's polynomial.
                            shares[set] = value * polynomials[(size - 1 - set) &* stride] * total
                        }
                        for position in 0..<depth {
                            let bit = 1 &<< position
                            let zero = path[position].zero, ratio = (1 - zero) / zero
                            for set in 0..<size {
                                table[set &* depth + position] =
                                    set & bit != 0 ? ratio * shares[set ^ bit] : -shares[set]
                            }
                        }
                    }
                }
            }
        }
    }
}
