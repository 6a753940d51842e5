extension GradientBoosting {
    /// A leaf of a grown tree: its rows (a range of the grower's `rows`) and its value, already shrunk.
    struct Leaf {
        var begin: Int
        var end: Int
        var value: Double
    }

    /// Grows one depth-limited tree per call on the binned training rows, reusing its buffers across trees.
    ///
    /// Each node owns a range of `rows`, which a split partitions stably in place. A node's histogram is built for
    /// the smaller child only; the larger child's is the parent's minus it, computed in the parent's buffer. Nodes
    /// are grown depth first, so at most `maxDepth + 2` histograms are alive at once. Beside each histogram lie its
    /// node's per-feature "splittable" flags (``SplitRules/inheritsUnsplittable``), read when its children are
    /// evaluated.
    final class TreeGrower<Bin: FixedWidthInteger & UnsignedInteger> {
        let data: BinnedColumns<Bin>
        let rules: SplitRules
        let maxDepth: Int
        let learningRate: Double
        let threads: Int
        let constantHessian: Bool
        /// Doubles per histogram bin: gradient and count (also the hessian when that is constant), or gradient,
        /// hessian and count.
        let stride: Int
        /// The training rows, partitioned by node; valid as leaf ranges until the next `grow`.
        let rows: UnsafeMutablePointer<UInt32>
        private let scratch: UnsafeMutablePointer<UInt32>
        private let orderedGradients: UnsafeMutablePointer<Double>
        private let orderedHessians: UnsafeMutablePointer<Double>
        /// The smaller child's gradient and hessian side by side, row after row, when some feature's histograms hold
        /// no row counts (``FeatureLayout/withoutCounts``): one 16-byte addition per row then updates a bin.
        private let orderedPairs: UnsafeMutablePointer<Double>
        /// Whether some feature reads `orderedPairs`, and whether some reads `orderedGradients` and `orderedHessians`.
        private let usesPairs: Bool
        private let usesSeparate: Bool
        /// Per-feature best splits of the two children being evaluated.
        private let candidates: UnsafeMutablePointer<Split>
        private var histograms: [UnsafeMutablePointer<Double>] = []
        /// Per feature, what the histogram loops ask of its bins, copied out once: reading a ``FeatureBins`` from
        /// `data.features` per node would retain and release its cuts.
        let layout: UnsafeMutablePointer<FeatureLayout>
        /// Per histogram buffer: whether each feature had a split at the node owning it (all true when
        /// ``SplitRules/inheritsUnsplittable`` is off).
        private var splittable: [UnsafeMutablePointer<Bool>] = []
        private var freeHistograms: [Int] = []

        init(data: BinnedColumns<Bin>, rules: SplitRules, maxDepth: Int, learningRate: Double, threads: Int,
             constantHessian: Bool) {
            self.data = data
            self.rules = rules
            self.maxDepth = maxDepth
            self.learningRate = learningRate
            self.threads = threads
            self.constantHessian = constantHessian
            self.stride = constantHessian ? 2 : 3
            let count = max(data.rowCount, 1)
            rows = .allocate(capacity: count)
            scratch = .allocate(capacity: count)
            orderedGradients = .allocate(capacity: count)
            orderedHessians = .allocate(capacity: count)
            layout = .allocate(capacity: max(data.features.count, 1))
            for (feature, bins) in data.features.enumerated() {
                (layout + feature).initialize(to: FeatureLayout(
                    binCount: bins.binCount, fixedBin: bins.fixedBin,
                    withoutCounts: rules.scansFromTheTop && rules.hessianCounts && !constantHessian && !bins.hasMissing))
            }
            let layout = self.layout
            usesPairs = (0..<data.features.count).contains { layout[$0].withoutCounts }
            usesSeparate = data.features.isEmpty || (0..<data.features.count).contains { !layout[$0].withoutCounts }
            orderedPairs = .allocate(capacity: usesPairs ? 2 * count : 1)
            candidates = .allocate(capacity: 2 * max(data.features.count, 1))
            candidates.initialize(repeating: Split(), count: 2 * max(data.features.count, 1))
        }

        deinit {
            rows.deallocate()
            scratch.deallocate()
            orderedGradients.deallocate()
            orderedHessians.deallocate()
            orderedPairs.deallocate()
            candidates.deallocate()
            layout.deallocate()
            for histogram in histograms { histogram.deallocate() }
            for flags in splittable { flags.deallocate() }
        }

        /// A feature's bins as the histogram loops see them.
        struct FeatureLayout {
            /// Value bins plus the missing bin.
            var binCount: Int
            /// ``FeatureBins/fixedBin``.
            var fixedBin: Int
            /// Whether its histograms hold gradient and hessian sums only (LightGBM's reverse scan with estimated
            /// counts, no missing value): no row counts, and bin 0's sums too when `fixedBin` is -1.
            var withoutCounts: Bool
        }

        /// A node being grown.
        private struct Node {
            var begin: Int
            var end: Int
            var depth: Int
            var totals: Totals
            /// Its index in the tree's node arrays.
            var index: Int
            /// Its histogram buffer while it may still be split, else -1.
            var histogram = -1
            var split = Split()
            /// The hessian sum its leaf value is computed with: its statistics' unless LightGBM's arithmetic gave
            /// another (``Split/lightGBMChildren``).
            var outputHessian: Double?
        }

        /// Grows a tree for `gradients` and `hessians` (ignored when constant) over the bin `columns`; `pairs`, when
        /// given, holds the same gradients and hessians side by side (`pairs[2 row]`, `pairs[2 row + 1]`), which the
        /// features without row counts read (``FeatureLayout/withoutCounts``).
        func grow(
            columns: UnsafePointer<Bin>, gradients: UnsafePointer<Double>, hessians: UnsafePointer<Double>,
            pairs: UnsafePointer<Double>? = nil
        ) -> (tree: DecisionTree, leaves: [Leaf]) {
            let count = data.rowCount
            var totals = Totals(count: Double(count))
            for row in 0..<count {
                rows[row] = UInt32(truncatingIfNeeded: row)
                totals.gradient += gradients[row]
            }
            if constantHessian {
                totals.hessian = totals.count
            } else {
                for row in 0..<count { totals.hessian += hessians[row] }
            }
            var tree = TreeBuilder()
            var root = Node(begin: 0, end: count, depth: 0, totals: totals, index: tree.addNode())
            if isSplittable(root) {
                root.histogram = takeHistogram()
                root.split = evaluate(columns: columns, rows: nil, count: count, gradients: gradients,
                                      hessians: hessians, pairs: usesPairs ? pairs : nil, into: root.histogram,
                                      totals: totals)
            }
            var leaves: [Leaf] = []
            var stack = [root]
            while let node = stack.popLast() {
                tree.cover[node.index] = node.totals.hessian
                guard node.split.isValid else {
                    let value = -node.totals.gradient / ((node.outputHessian ?? node.totals.hessian) + rules.l2)
                        * learningRate
                    tree.value[node.index] = value
                    leaves.append(Leaf(begin: node.begin, end: node.end, value: value))
                    releaseHistogram(node.histogram)
                    continue
                }
                let split = node.split
                tree.gain[node.index] = split.gain
                let middle = partition(node, by: split, columns: columns)
                let bins = data.features[split.feature]
                // A reverse-scan split's node has no missing value, and its histograms may hold no row counts:
                // unseen missing values follow the side with more rows, counted here.
                let defaultLeft = split.lightGBMChildren == nil
                    ? split.defaultLeft : middle - node.begin >= node.end - middle
                let (leftIndex, rightIndex) = tree.setSplit(
                    node.index, feature: split.feature, defaultLeft: defaultLeft,
                    threshold: split.bin < bins.cuts.count ? bins.cuts[split.bin] : Self.aboveEveryValue
                )
                var leftTotals = split.left
                leftTotals.count = Double(middle - node.begin)
                if constantHessian { leftTotals.hessian = leftTotals.count }
                var rightTotals = node.totals
                rightTotals.gradient -= split.left.gradient
                rightTotals.hessian -= leftTotals.hessian
                rightTotals.count = Double(node.end - middle)
                var leftOutput: Double?
                var rightOutput: Double?
                if let exact = split.lightGBMChildren {
                    rightTotals.gradient = exact.right.gradient
                    rightTotals.hessian = exact.right.hessian
                    (leftOutput, rightOutput) = (exact.leftOutputHessian, exact.rightOutputHessian)
                }
                var leftChild = Node(begin: node.begin, end: middle, depth: node.depth + 1, totals: leftTotals,
                                     index: leftIndex, outputHessian: leftOutput)
                var rightChild = Node(begin: middle, end: node.end, depth: node.depth + 1, totals: rightTotals,
                                      index: rightIndex, outputHessian: rightOutput)
                evaluateChildren(&leftChild, &rightChild, parentHistogram: node.histogram, columns: columns,
                                 gradients: gradients, hessians: hessians, pairs: pairs)
                stack.append(rightChild)
                stack.append(leftChild)
            }
            return (tree.tree, leaves)
        }

        /// The threshold of a split sending every value left and missing values right: finite, so a model stays
        /// plain JSON, and above any finite value but the largest `Double`.
        static var aboveEveryValue: Double { .greatestFiniteMagnitude }

        private func isSplittable(_ node: Node) -> Bool {
            node.depth < maxDepth && Double(node.end - node.begin) >= 2 * rules.minSamplesLeaf
        }

        /// Finds both children's best splits, building the smaller one's histogram and deriving the larger's.
        private func evaluateChildren(
            _ first: inout Node, _ second: inout Node, parentHistogram: Int, columns: UnsafePointer<Bin>,
            gradients: UnsafePointer<Double>, hessians: UnsafePointer<Double>, pairs source: UnsafePointer<Double>?
        ) {
            // LightGBM builds the left child's histogram only when it has fewer rows (the right's on a tie).
            let firstIsSmall = rules.scansFromTheTop
                ? first.end - first.begin < second.end - second.begin
                : first.end - first.begin <= second.end - second.begin
            var small = firstIsSmall ? first : second
            var large = firstIsSmall ? second : first
            let smallSplittable = isSplittable(small)
            let largeSplittable = isSplittable(large)
            guard smallSplittable || largeSplittable else { return releaseHistogram(parentHistogram) }
            if !largeSplittable { releaseHistogram(parentHistogram) }
            let smallHistogram = takeHistogram()
            let largeHistogram = largeSplittable ? parentHistogram : -1
            let count = small.end - small.begin
            let smallRows = rows + small.begin
            if usesSeparate {
                for index in 0..<count { orderedGradients[index] = gradients[Int(smallRows[index])] }
                if !constantHessian {
                    for index in 0..<count { orderedHessians[index] = hessians[Int(smallRows[index])] }
                }
            }
            if usesPairs, let source {
                let from = UnsafeRawPointer(source)
                let to = UnsafeMutableRawPointer(orderedPairs)
                for index in 0..<count {
                    let pair = from.loadUnaligned(fromByteOffset: Int(smallRows[index]) &* 16, as: SIMD2<Double>.self)
                    to.storeBytes(of: pair, toByteOffset: index &* 16, as: SIMD2<Double>.self)
                }
            } else if usesPairs {
                for index in 0..<count {
                    let row = Int(smallRows[index])
                    orderedPairs[2 &* index] = gradients[row]
                    orderedPairs[2 &* index &+ 1] = hessians[row]
                }
            }
            let pairs = usesPairs ? UnsafePointer(orderedPairs) : nil
            let featureCount = data.features.count
            let smallBase = histograms[smallHistogram]
            let largeBase = largeSplittable ? histograms[largeHistogram] : smallBase
            // The parent's flags; the small child's buffer may be the parent's own (when the large child is not
            // split), and the large child's is: each feature's flag is read before it is written.
            let parentFlags = splittable[parentHistogram]
            let smallFlags = splittable[smallHistogram]
            let inherits = rules.inheritsUnsplittable
            let candidates = self.candidates
            parallelFor(featureCount, threads: threads, minimumWork: count * featureCount, budget: 1 << 15) { range in
                for feature in range {
                    guard !inherits || parentFlags[feature], self.layout[feature].binCount > 1 else {
                        // Not searched in either child nor below (or a single bin): its histogram slices are left
                        // stale, unread.
                        candidates[feature] = Split()
                        candidates[featureCount + feature] = Split()
                        smallFlags[feature] = false
                        parentFlags[feature] = false
                        continue
                    }
                    self.accumulate(feature: feature, columns: columns, rows: UnsafePointer(smallRows), count: count,
                                    gradients: self.orderedGradients, hessians: self.orderedHessians, pairs: pairs,
                                    into: smallBase)
                    self.fixHistogram(feature: feature, smallBase, totals: small.totals)
                    if largeSplittable { self.subtract(feature: feature, from: largeBase, smallBase) }
                    candidates[feature] = smallSplittable
                        ? self.bestSplit(feature: feature, histogram: smallBase, totals: small.totals) : Split()
                    candidates[featureCount + feature] = largeSplittable
                        ? self.bestSplit(feature: feature, histogram: largeBase, totals: large.totals) : Split()
                    smallFlags[feature] = !inherits || candidates[feature].isValid
                    if largeSplittable {
                        parentFlags[feature] = !inherits || candidates[featureCount + feature].isValid
                    }
                }
            }
            small.split = Self.best(of: UnsafeBufferPointer(start: candidates, count: featureCount))
            large.split = Self.best(of: UnsafeBufferPointer(start: candidates + featureCount, count: featureCount))
            if smallSplittable {
                small.histogram = smallHistogram
            } else {
                releaseHistogram(smallHistogram)
            }
            large.histogram = largeHistogram
            if firstIsSmall {
                (first, second) = (small, large)
            } else {
                (first, second) = (large, small)
            }
        }

        /// Builds a node's histogram into `histogram` and returns its best split (used for the root).
        private func evaluate(
            columns: UnsafePointer<Bin>, rows: UnsafePointer<UInt32>?, count: Int, gradients: UnsafePointer<Double>,
            hessians: UnsafePointer<Double>, pairs: UnsafePointer<Double>?, into histogram: Int, totals: Totals
        ) -> Split {
            let featureCount = data.features.count
            let base = histograms[histogram]
            let flags = splittable[histogram]
            let inherits = rules.inheritsUnsplittable
            let candidates = self.candidates
            parallelFor(featureCount, threads: threads, minimumWork: count * featureCount, budget: 1 << 15) { range in
                for feature in range {
                    guard self.layout[feature].binCount > 1 else {
                        // A single bin (a constant feature, or one LightGBM's pre-filter dropped): nothing to split.
                        candidates[feature] = Split()
                        flags[feature] = false
                        continue
                    }
                    self.accumulate(feature: feature, columns: columns, rows: rows, count: count,
                                    gradients: gradients, hessians: hessians, pairs: pairs, into: base)
                    self.fixHistogram(feature: feature, base, totals: totals)
                    candidates[feature] = self.bestSplit(feature: feature, histogram: base, totals: totals)
                    flags[feature] = !inherits || candidates[feature].isValid
                }
            }
            return Self.best(of: UnsafeBufferPointer(start: candidates, count: featureCount))
        }

        /// LightGBM's `FixHistogram` under its arithmetic (``SplitRules/scansFromTheTop``): a feature's
        /// ``FeatureBins/fixedBin`` gets the node's gradient and hessian sums minus every other bin's, in bin order,
        /// as LightGBM computes that bin (its rows are not added), so that the same rounding reaches the split search.
        @inline(__always)
        private func fixHistogram(feature: Int, _ histogram: UnsafeMutablePointer<Double>, totals: Totals) {
            let bins = layout[feature]
            guard rules.scansFromTheTop, !constantHessian, bins.fixedBin >= 0 else { return }
            let slots = histogram + stride * data.offsets[feature]
            var gradient = totals.gradient
            var hessian = totals.hessian
            for bin in 0..<bins.binCount where bin != bins.fixedBin {
                gradient -= slots[stride * bin]
                hessian -= slots[stride * bin + 1]
            }
            slots[stride * bins.fixedBin] = gradient
            slots[stride * bins.fixedBin + 1] = hessian
        }

        private func bestSplit(feature: Int, histogram: UnsafeMutablePointer<Double>, totals: Totals) -> Split {
            rules.bestSplit(
                feature: feature, bins: data.features[feature], histogram: histogram + stride * data.offsets[feature],
                stride: stride, constantHessian: constantHessian, totals: totals
            )
        }

        /// The highest gain; the lowest feature on a tie, so the choice does not depend on how features were shared.
        private static func best(of candidates: UnsafeBufferPointer<Split>) -> Split {
            var best = Split()
            for candidate in candidates where candidate.isValid && candidate.gain > best.gain { best = candidate }
            return best
        }

        /// Moves the node's rows going left to the front of its range, keeping their order; returns where the right
        /// child starts. Branch-free: each row is written to both sides and only the matching cursor advances.
        private func partition(_ node: Node, by split: Split, columns: UnsafePointer<Bin>) -> Int {
            let column = columns + split.feature * data.rowCount
            let missingBin = data.features[split.feature].missingBin
            let lastLeft = split.bin
            let missingLeft = split.defaultLeft ? 1 : 0
            var leftEnd = node.begin
            var rightCount = 0
            for index in node.begin..<node.end {
                let row = rows[index]
                let bin = Int(column[Int(row)])
                let goesLeft = bin == missingBin ? missingLeft : (bin <= lastLeft ? 1 : 0)
                rows[leftEnd] = row
                scratch[rightCount] = row
                leftEnd += goesLeft
                rightCount += 1 - goesLeft
            }
            (rows + leftEnd).update(from: scratch, count: rightCount)
            return leftEnd
        }

        private func takeHistogram() -> Int {
            if let free = freeHistograms.popLast() { return free }
            histograms.append(.allocate(capacity: max(stride * data.totalBins, 1)))
            let flags = UnsafeMutablePointer<Bool>.allocate(capacity: max(data.features.count, 1))
            flags.initialize(repeating: true, count: max(data.features.count, 1))
            splittable.append(flags)
            return histograms.count - 1
        }

        private func releaseHistogram(_ index: Int) {
            if index >= 0 { freeHistograms.append(index) }
        }
    }
}
