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
    }

    /// Adds one tree; `false` when it cannot be tabled here or is not worth it.
    private mutating func add(
        _ tree: ArraySlice<TreeSHAP.Node>, root: Int, rows: Int, budget: Int, scratch: inout Scratch
    ) -> Bool {
        let count = tree.count
        // Costs first, from the path lengths alone: the tables' `Σ 2^D (D + 1)` (two passes) against the recursion's
        // `rows × Σ (D + 1)²`.
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
        let firstSplit = splits.count, firstValue = table.count
        var setValues = 0
        var paths = [NodePath?](repeating: nil, count: count)
        paths[0] = NodePath()
        for index in 0..<count {
            let node = tree[root + index]
            guard node.feature >= 0, let nodePath = paths[index] else { continue }
            paths[index] = nil
            let code = Int32(splits.count - firstSplit + 1)
            splits.append(Split(
                threshold: node.threshold, feature: node.feature, parent: nodePath.parentCode, code: code,
                defaultLeft: node.defaultLeft))
            // The children's path: this split appended, its feature new or already on the path.
            let known = nodePath.features.firstIndex { $0.feature == node.feature }
            guard known != nil || nodePath.features.count < TreeSHAPTables.maxPathFeatures else { return false }
            let position = known ?? nodePath.features.count
            var childPath = nodePath
            if known == nil { childPath.features.append((node.feature, 1)) }
            childPath.positions |= UInt64(position) << (4 * UInt64(nodePath.length))
            childPath.length += 1
            childPath.parentCode = code
            let children = [Int(node.left) - root, Int(node.right) - root]
            var leaves: [(path: NodePath, value: Double)] = []
            for (side, child) in children.enumerated() {
                let fraction = node.cover > 0 ? tree[root + child].cover / node.cover : 0
                guard fraction > 0 else { return false }
                var path = childPath
                path.features[position].zero *= fraction
                path.directions = nodePath.directions << 1 | (side == 0 ? 1 : 0)
                if tree[root + child].feature < 0 {
                    leaves.append((path, tree[root + child].value))
                } else {
                    paths[child] = path
                }
            }
            // Sibling leaves share one entry; a leaf whose sibling is a split has its own.
            let depth = childPath.features.count
            if leaves.count == 2 {
                append(code: code, leaves: leaves, scratch: &scratch)
                setValues += (2 << depth) * depth
            } else {
                for leaf in leaves {
                    append(code: code, leaves: [leaf], scratch: &scratch)
                    setValues += (1 << depth) * depth
                }
            }
            guard table.count <= budget else { return false }
        }
        return longest <= Self.smallPathSplits || table.count - firstValue <= Self.maxGrowth * setValues
    }

    /// Appends the entry of one leaf or two sibling leaves (left first), indexed by row `code` of the codes.
    private mutating func append(code: Int32, leaves: [(path: NodePath, value: Double)], scratch: inout Scratch) {
        let shape = leaves[0].path
        let depth = shape.features.count, length = shape.length, outcomes = 1 << length
        entries.append(Entry(code: code, depth: Int32(depth), pathStart: Int32(path.count), tableStart: table.count))
        for element in shape.features { path.append(element.feature) }
        // The set each pattern of splits left "away" from the leaf gives (the leaves share their path's features):
        // every feature but those of such a split. A row's pattern is its outcomes XOR the leaf's directions.
        if scratch.sets.count < outcomes { scratch.sets = [Int](repeating: 0, count: outcomes) }
        scratch.sets[0] = (1 << depth) - 1
        for away in 1..<max(outcomes, 1) {
            let split = length - 1 - away.trailingZeroBitCount
            let position = Int((shape.positions >> (4 * UInt64(split))) & 15)
            scratch.sets[away] = scratch.sets[away & (away - 1)] & ~(1 << position)
        }
        let start = table.count
        table += repeatElement(0, count: outcomes * depth)
        for leaf in leaves {
            Self.contributions(value: leaf.value, path: leaf.path.features, into: &scratch)
            let directions = leaf.path.directions
            table.withUnsafeMutableBufferPointer { table in
                scratch.contributions.withUnsafeBufferPointer { values in
                    scratch.sets.withUnsafeBufferPointer { sets in
                        for outcome in 0..<outcomes {
                            let row = table.baseAddress! + start + outcome * depth
                            let source = values.baseAddress! + sets[outcome ^ directions] * depth
                            for position in 0..<depth { row[position] += source[position] }
                        }
                    }
                }
            }
        }
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
        let weights = Self.weights[depth]
        let zeros = path.map(\.zero)
        scratch.polynomials.withUnsafeMutableBufferPointer { polynomials in
            scratch.shares.withUnsafeMutableBufferPointer { shares in
                scratch.contributions.withUnsafeMutableBufferPointer { table in
                    let polynomials = polynomials.baseAddress!
                    polynomials[0] = 1
                    for set in 1..<size {
                        // Π_{j∈A} (x + z_j) from A without its lowest feature; the degree is |A|.
                        let zero = zeros[set.trailingZeroBitCount]
                        let previous = polynomials + (set & (set - 1)) * stride, current = polynomials + set * stride
                        let members = set.nonzeroBitCount
                        current[0] = previous[0] * zero
                        for power in Swift.stride(from: 1, to: members, by: 1) {
                            current[power] = previous[power] * zero + previous[power - 1]
                        }
                        current[members] = previous[members - 1]
                    }
                    for set in 0..<size {
                        let coefficients = polynomials + set * stride
                        var total = 0.0
                        for members in 0...min(set.nonzeroBitCount, depth - 1) {
                            total += weights[members] * coefficients[members]
                        }
                        // Π_{j∉A} z_j: the constant term of the complement's polynomial.
                        shares[set] = value * polynomials[(size - 1 - set) * stride] * total
                    }
                    for set in 0..<size {
                        for position in 0..<depth {
                            let bit = 1 << position
                            let zero = zeros[position]
                            table[set * depth + position] =
                                set & bit != 0 ? (1 - zero) / zero * shares[set ^ bit] : -shares[set]
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` with the tables' buffers.
    func withBuffers<Result>(_ body: (Buffers) -> Result) -> Result {
        splits.withUnsafeBufferPointer { splits in
            entries.withUnsafeBufferPointer { entries in
                path.withUnsafeBufferPointer { path in
                    table.withUnsafeBufferPointer { table in
                        body(Buffers(splits: splits, entries: entries, path: path, table: table))
                    }
                }
            }
        }
    }

    /// The tables' storage, held once per explanation call.
    struct Buffers {
        let splits: UnsafeBufferPointer<Split>
        let entries: UnsafeBufferPointer<Entry>
        let path: UnsafeBufferPointer<Int32>
        let table: UnsafeBufferPointer<Double>

        /// Adds `tree`'s contributions for a block of `rows` rows to their `phis` (one row every `stride` values).
        /// - Parameters:
        ///   - block: the rows' values feature by feature, `blockSize` apart (rounded already for float32 models).
        ///   - codes: scratch of `(widest + 1) × blockSize` codes whose first `blockSize` are zero.
        @inline(__always)
        func add(
            _ tree: Tree, block: UnsafePointer<Double>, rows: Int, blockSize: Int, codes: UnsafeMutablePointer<UInt32>,
            phis: UnsafeMutablePointer<Double>, stride: Int
        ) {
            for index in tree.splits {
                let split = splits[index]
                let values = block + Int(split.feature) &* blockSize
                let parent = codes + Int(split.parent) &* blockSize
                let code = codes + Int(split.code) &* blockSize
                let threshold = split.threshold
                // A missing value fails both comparisons: `!(x >= t)` sends it left, `x < t` right.
                if split.defaultLeft {
                    for row in 0..<rows { code[row] = parent[row] &<< 1 | (values[row] >= threshold ? 0 : 1) }
                } else {
                    for row in 0..<rows { code[row] = parent[row] &<< 1 | (values[row] < threshold ? 1 : 0) }
                }
            }
            let table = self.table.baseAddress!, path = self.path.baseAddress!
            for index in tree.entries {
                let entry = entries[index]
                let code = UnsafePointer(codes + Int(entry.code) &* blockSize)
                let values = table + entry.tableStart
                let features = path + Int(entry.pathStart)
                Self.accumulate(
                    depth: Int(entry.depth), values: values, features: features, code: code, rows: rows, phis: phis,
                    stride: stride)
            }
        }

        /// Adds, to each row's `phis`, the `depth` values of its code's row of one entry's table; unrolled for the
        /// common path lengths, so the features stay in registers across the block.
        @inline(__always)
        static func accumulate(
            depth: Int, values: UnsafePointer<Double>, features: UnsafePointer<Int32>, code: UnsafePointer<UInt32>,
            rows: Int, phis: UnsafeMutablePointer<Double>, stride: Int
        ) {
            switch depth {
            case 1:
                let f0 = Int(features[0])
                for row in 0..<rows {
                    let value = values + Int(code[row])
                    phis[row &* stride &+ f0] += value[0]
                }
            case 2:
                let f0 = Int(features[0]), f1 = Int(features[1])
                for row in 0..<rows {
                    let value = values + Int(code[row]) &* 2, phi = phis + row &* stride
                    phi[f0] += value[0]
                    phi[f1] += value[1]
                }
            case 3:
                let f0 = Int(features[0]), f1 = Int(features[1]), f2 = Int(features[2])
                for row in 0..<rows {
                    let value = values + Int(code[row]) &* 3, phi = phis + row &* stride
                    phi[f0] += value[0]
                    phi[f1] += value[1]
                    phi[f2] += value[2]
                }
            case 4:
                let f0 = Int(features[0]), f1 = Int(features[1]), f2 = Int(features[2]), f3 = Int(features[3])
                for row in 0..<rows {
                    let value = values + Int(code[row]) &* 4, phi = phis + row &* stride
                    phi[f0] += value[0]
                    phi[f1] += value[1]
                    phi[f2] += value[2]
                    phi[f3] += value[3]
                }
            case 5:
                let f0 = Int(features[0]), f1 = Int(features[1]), f2 = Int(features[2]), f3 = Int(features[3])
                let f4 = Int(features[4])
                for row in 0..<rows {
                    let value = values + Int(code[row]) &* 5, phi = phis + row &* stride
                    phi[f0] += value[0]
                    phi[f1] += value[1]
                    phi[f2] += value[2]
                    phi[f3] += value[3]
                    phi[f4] += value[4]
                }
            case 6:
                let f0 = Int(features[0]), f1 = Int(features[1]), f2 = Int(features[2]), f3 = Int(features[3])
                let f4 = Int(features[4]), f5 = Int(features[5])
                for row in 0..<rows {
                    let value = values + Int(code[row]) &* 6, phi = phis + row &* stride
                    phi[f0] += value[0]
                    phi[f1] += value[1]
                    phi[f2] += value[2]
                    phi[f3] += value[3]
                    phi[f4] += value[4]
                    phi[f5] += value[5]
                }
            default:
                for row in 0..<rows {
                    let value = values + Int(code[row]) &* depth, phi = phis + row &* stride
                    for position in 0..<depth { phi[Int(features[position])] += value[position] }
                }
            }
        }
    }
}
