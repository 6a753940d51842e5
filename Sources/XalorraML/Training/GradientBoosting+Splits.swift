extension GradientBoosting {
    /// The gradient statistics of a set of rows.
    struct Totals {
        var gradient = 0.0
        var hessian = 0.0
        var count = 0.0
    }

    /// A candidate split of a node: rows in bins `0...bin` go left, the missing bin by `defaultLeft`.
    struct Split {
        /// The loss reduction `G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)`; only a positive gain is taken.
        var gain = 0.0
        /// The feature, or -1 when no split is allowed or none reduces the loss.
        var feature = -1
        /// The last bin going left; the last value bin means "every value left, missing values right".
        var bin = 0
        /// Where missing values go.
        var defaultLeft = true
        /// The left child's statistics.
        var left = Totals()
        /// LightGBM's arithmetic (``SplitRules/scansFromTheTop``): the right child's statistics, and the hessian
        /// sums each child's leaf value is computed with (a hair above its statistics' by LightGBM's ε's); nil
        /// otherwise (the right child is the node minus the left, and values come from the statistics).
        var lightGBMChildren: (right: Totals, leftOutputHessian: Double, rightOutputHessian: Double)?

        /// Whether there is a split to make.
        var isValid: Bool { feature >= 0 }
    }

    /// What limits a split and how a leaf's weight is computed.
    struct SplitRules {
        /// The fewest rows a child may hold.
        var minSamplesLeaf: Double
        /// The smallest hessian sum a child may have (LightGBM's `min_sum_hessian_in_leaf`).
        var minHessian: Double
        /// L2 penalty on leaf weights.
        var l2: Double
        /// Count a child's rows for ``minSamplesLeaf`` as LightGBM does: from the hessians, each bin's
        /// `round(hessian × rows / hessian sum)` of the node, rather than its exact rows (the same when the hessian is
        /// constant). Off unless the objective asks for it.
        var hessianCounts = false
        /// Try a feature at a node only if it had an admissible split with a positive gain at every ancestor, as
        /// LightGBM does (a `FeatureHistogram`'s `is_splittable`, inherited by the children's histograms): a feature
        /// that cannot improve a node is not searched below it. Off unless the objective asks for it.
        var inheritsUnsplittable = false
        /// Scan a feature without missing values from its last bin down, as LightGBM does: the right side's sums
        /// are accumulated and the left's are the node's minus them, and among equal gains the highest threshold
        /// wins. Where a node has no row in some bins, the cut then sits just below the right side's lowest value
        /// rather than just above the left side's highest, which decides where unseen values between them go.
        /// The sums follow LightGBM's arithmetic to the bit (its ε = 10⁻¹⁵ added to hessian sums, the children's
        /// sums derived as it derives them), so that splits of equal gain on different features (frequent on
        /// small integer features) are decided as LightGBM decides them. Off unless the objective asks for it.
        var scansFromTheTop = false

        /// The structure score `G²/(H+λ)` a split's gain is made of.
        @inline(__always)
        func score(_ gradient: Double, _ hessian: Double) -> Double { gradient * gradient / (hessian + l2) }

        /// The best split of one feature from its histogram slice (`stride` doubles per bin: gradient, hessian or
        /// count, count) for a node with `totals`.
        ///
        /// Missing values are learned per split: when the node has some, each threshold is tried with them on the
        /// left and on the right. When it has none (always so for a feature with no missing value in training),
        /// they go to the side with more rows, the left on a tie, so an unseen missing value follows the majority.
        func bestSplit(
            feature: Int, bins: FeatureBins, histogram: UnsafePointer<Double>, stride: Int,
            constantHessian: Bool, totals: Totals
        ) -> Split {
            let hessianSlot = 1
            let countSlot = constantHessian ? 1 : 2
            // Rows as the minimum-rows rule counts them (``hessianCounts``): per bin, exact or from its hessian,
            // rounded as LightGBM's `RoundInt`.
            let estimated = hessianCounts && !constantHessian && totals.hessian > 0
            let rowsPerHessian = estimated ? totals.count / totals.hessian : 0
            @inline(__always)
            func rulesCount(_ slot: UnsafePointer<Double>) -> Double {
                estimated ? Self.roundInt(slot[hessianSlot] * rowsPerHessian) : slot[countSlot]
            }
            var missing = Totals()
            var missingRules = 0.0
            if bins.hasMissing {
                let slot = histogram + stride * bins.missingBin
                missing = Totals(gradient: slot[0], hessian: slot[hessianSlot], count: slot[countSlot])
                missingRules = rulesCount(slot)
            }
            if scansFromTheTop, missing.count == 0 {
                return bestSplitFromTheTop(feature: feature, lastBin: bins.valueBinCount - 1, histogram: histogram,
                                           stride: stride, hessianSlot: hessianSlot, countSlot: countSlot,
                                           estimated: estimated, totals: totals)
            }
            // LightGBM counts the right side's rows bin by bin and gives the left the rest of the node's.
            var allRules = missingRules
            if estimated {
                for bin in 0..<bins.valueBinCount { allRules += rulesCount(histogram + stride * bin) }
            }
            let parentScore = score(totals.gradient, totals.hessian)
            var best = Split()
            var prefix = Totals()
            var prefixRules = 0.0

            @inline(__always)
            func consider(_ left: Totals, rulesCount prefixRules: Double, bin: Int, defaultLeft: Bool) {
                let rightRules = estimated ? allRules - prefixRules : totals.count - prefixRules
                let leftRules = totals.count - rightRules
                let rightHessian = totals.hessian - left.hessian
                guard leftRules >= minSamplesLeaf, rightRules >= minSamplesLeaf,
                    left.hessian >= minHessian, rightHessian >= minHessian
                else { return }
                let gain = score(left.gradient, left.hessian)
                    + score(totals.gradient - left.gradient, rightHessian) - parentScore
                if gain > best.gain {
                    best = Split(gain: gain, feature: feature, bin: bin, defaultLeft: defaultLeft, left: left)
                }
            }

            let lastValueBin = bins.valueBinCount - 1
            for bin in 0...lastValueBin {
                let slot = histogram + stride * bin
                prefix.gradient += slot[0]
                prefix.hessian += slot[hessianSlot]
                prefix.count += slot[countSlot]
                prefixRules += rulesCount(slot)
                if missing.count > 0 {
                    consider(prefix, rulesCount: prefixRules, bin: bin, defaultLeft: false)
                    guard bin < lastValueBin else { break }  // all values left, missing right: tried just now
                    let withMissing = Totals(
                        gradient: prefix.gradient + missing.gradient, hessian: prefix.hessian + missing.hessian,
                        count: prefix.count + missing.count
                    )
                    consider(withMissing, rulesCount: prefixRules + missingRules, bin: bin, defaultLeft: true)
                } else {
                    guard bin < lastValueBin else { break }
                    if !estimated, prefix.count >= totals.count - minSamplesLeaf + 1 { break }  // the right is too small
                    consider(prefix, rulesCount: prefixRules,
                             bin: bin, defaultLeft: prefix.count >= totals.count - prefix.count)
                }
            }
            return best
        }

        /// LightGBM's `Common::RoundInt` of a non-negative `x`, `(int)(x + 0.5)`: a truncating conversion, not a
        /// call to `round` (a library call on the x86-64 baseline); huge or NaN values take the slow way.
        @inline(__always)
        static func roundInt(_ x: Double) -> Double {
            let shifted = x + 0.5
            return shifted < 1e15 && shifted > -1e15 ? Double(Int(shifted)) : shifted.rounded(.towardZero)
        }

        /// LightGBM's ε (`kEpsilon`), added to hessian sums in its split search.
        static let epsilon = 1e-15

        /// LightGBM's reverse scan of a feature without missing values (`FindBestThresholdSequentially` with
        /// `REVERSE`), in its arithmetic: bins `b + 1...lastBin` go right for the split at bin `b`, the right side's
        /// sums are accumulated from the top (its hessian from ε), the left's are the node's (its hessian plus 2ε)
        /// minus them, and the first of equal gains, the highest threshold, is kept.
        func bestSplitFromTheTop(
            feature: Int, lastBin: Int, histogram: UnsafePointer<Double>, stride: Int, hessianSlot: Int, countSlot: Int,
            estimated: Bool, totals: Totals
        ) -> Split {
            let epsilon = Self.epsilon
            let sumHessian = totals.hessian + 2 * epsilon
            let rowsPerHessian = totals.count / sumHessian
            let parentScore = score(totals.gradient, sumHessian)
            var rightGradient = 0.0
            var rightHessian = epsilon
            var rightCount = 0.0
            var rightRules = 0.0
            var best: (score: Double, bin: Int, gradient: Double, hessian: Double, count: Double)?
            var bestScore = -Double.infinity
            for bin in Swift.stride(from: lastBin, through: 1, by: -1) {
                let slot = histogram + stride * bin
                rightGradient += slot[0]
                rightHessian += slot[hessianSlot]
                rightCount += slot[countSlot]
                rightRules += estimated ? Self.roundInt(slot[hessianSlot] * rowsPerHessian) : slot[countSlot]
                guard rightRules >= minSamplesLeaf, rightHessian >= minHessian else { continue }
                guard totals.count - rightRules >= minSamplesLeaf else { break }
                let leftHessian = sumHessian - rightHessian
                guard leftHessian >= minHessian else { break }
                let leftGradient = totals.gradient - rightGradient
                let current = score(leftGradient, leftHessian) + score(rightGradient, rightHessian)
                guard current > parentScore, current > bestScore else { continue }
                bestScore = current
                best = (current, bin - 1, leftGradient, leftHessian, totals.count - rightCount)
            }
            guard let best else { return Split() }
            let left = Totals(gradient: best.gradient, hessian: best.hessian - epsilon, count: best.count)
            let right = Totals(gradient: totals.gradient - best.gradient, hessian: sumHessian - best.hessian - epsilon,
                               count: totals.count - best.count)
            // The node has no missing value; where an unseen one goes is decided from the partition's row counts
            // (the histograms may have none).
            var split = Split(gain: best.score - parentScore, feature: feature, bin: best.bin, defaultLeft: true,
                              left: left)
            split.lightGBMChildren = (right, best.hessian, sumHessian - best.hessian)
            return split
        }
    }
}
