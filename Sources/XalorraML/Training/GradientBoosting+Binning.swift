extension GradientBoosting {
    /// How one feature's values map to histogram bins, computed from the training rows.
    ///
    /// A value's bin is the number of cuts at or below it, so "bins `0...b`" is exactly `x < cuts[b]`: a split on
    /// bin `b` becomes the threshold `cuts[b]`, and `x < threshold` reproduces the bin split on any data. A cut lies
    /// midway between the two neighbouring training values it separates. Missing values (NaN) get a bin of their
    /// own after the value bins, when the training rows have any.
    struct FeatureBins: Sendable {
        /// Ascending cut points.
        var cuts: [Double] = []
        /// Whether the training rows have a missing value in this feature.
        var hasMissing = false
        /// LightGBM's `most_freq_bin` when it is not bin 0, else -1: the bin whose histogram sums LightGBM takes as
        /// the node's minus every other bin's (`Dataset::FixHistogram`) instead of adding its rows. Only LightGBM's
        /// binning sets it; the split search reproduces LightGBM's rounding with it (``SplitRules/scansFromTheTop``).
        var fixedBin = -1

        /// Bins holding values.
        var valueBinCount: Int { cuts.count + 1 }
        /// Value bins plus the missing bin.
        var binCount: Int { valueBinCount + (hasMissing ? 1 : 0) }
        /// The missing values' bin, or -1 when there is none (no bin index equals it).
        var missingBin: Int { hasMissing ? valueBinCount : -1 }

        /// A feature with a single bin (no split possible) until the training values are known.
        init() {}

        /// Quantile cuts for the ascending non-missing `values` of a column, at most `maxBins` value bins; a column
        /// with fewer distinct values than that gets one bin per value.
        ///
        /// Follows LightGBM's greedy binning: a value holding at least a bin's share of the rows gets a bin to
        /// itself, and the other values fill bins of about equal row counts.
        init(sorted values: UnsafeBufferPointer<Double>, hasMissing: Bool, maxBins: Int) {
            self.hasMissing = hasMissing
            let (distinct, counts) = Self.distinctValues(values)
            guard distinct.count > 1 else { return }
            cuts = Self.greedyCuts(distinct[...], counts[...], maxBins: maxBins, minDataInBin: 0)
        }

        /// LightGBM's bins (its `BinMapper::FindBin` for a numerical feature) for the ascending non-missing `values`
        /// of a column, at most `maxBins` bins in all (the missing bin included, when there is one):
        ///
        /// * zero is a bin of its own, values in (−10⁻³⁵, 10⁻³⁵] (`FindBinWithZeroAsOneBin`); the negative values
        ///   get their share of the other bins and the positive ones the rest, each binned greedily;
        /// * a bin holds at least `rules.minDataInBin` rows (`min_data_in_bin`): rarer values join the next ones;
        /// * a feature no cut of which leaves `rules.minDataInLeaf` rows on both sides is not split at all
        ///   (`feature_pre_filter`): one bin, its missing values with the rest.
        init(sorted values: UnsafeBufferPointer<Double>, missingCount: Int, maxBins: Int, rules: LightGBMBinning) {
            hasMissing = missingCount > 0
            let (distinct, counts) = Self.distinctValues(values)
            let limit = hasMissing ? maxBins - 1 : maxBins
            let zero = Self.zeroThreshold
            let firstZero = distinct.firstIndex { $0 > -zero } ?? distinct.count
            let firstPositive = distinct[firstZero...].firstIndex { $0 > zero } ?? distinct.count
            let negativeRows = counts[..<firstZero].reduce(0, +)
            let positiveRows = counts[firstPositive...].reduce(0, +)
            // LightGBM's upper bounds (x <= bound) become cuts (x < cut) one step above them.
            if firstZero > 0, limit > 1 {
                let share = Double(negativeRows) / Double(negativeRows + positiveRows) * Double(limit - 1)
                cuts = Self.greedyCuts(distinct[..<firstZero], counts[..<firstZero], maxBins: max(1, Int(share)),
                                       minDataInBin: rules.minDataInBin, lightGBMBounds: true)
                cuts.append((-zero).nextUp)
            }
            if firstPositive < distinct.count, limit - 1 - cuts.count > 0 {
                let positive = Self.greedyCuts(distinct[firstPositive...], counts[firstPositive...],
                                               maxBins: limit - 1 - cuts.count, minDataInBin: rules.minDataInBin,
                                               lightGBMBounds: true)
                cuts.append(zero.nextUp)
                cuts += positive
            }
            // With negative and positive values the zero bin stays, even when no row is zero (as LightGBM's).
            // feature_pre_filter: some cut must leave enough rows on both sides (missing values are a last bin).
            let total = values.count + missingCount
            var below = 0
            var next = distinct.startIndex
            var useful = false
            for cut in cuts {
                while next < distinct.count, distinct[next] < cut {
                    below += counts[next]
                    next += 1
                }
                if below >= rules.minDataInLeaf, total - below >= rules.minDataInLeaf {
                    useful = true
                    break
                }
            }
            if hasMissing, values.count >= rules.minDataInLeaf, missingCount >= rules.minDataInLeaf { useful = true }
            if !useful {
                cuts = []
                hasMissing = false
                return
            }
            // most_freq_bin: the fullest bin (the first of equals, the missing bin counted last), unless it holds
            // under 70 % of the rows, then zero's bin.
            var binRows = [Int](repeating: 0, count: cuts.count + 1)
            var bin = 0
            for (value, count) in zip(distinct, counts) {
                while bin < cuts.count, cuts[bin] <= value { bin += 1 }
                binRows[bin] += count
            }
            if hasMissing { binRows.append(missingCount) }
            var fullest = 0
            for index in binRows.indices where binRows[index] > binRows[fullest] { fullest = index }
            let zeroBin = cuts.firstIndex { $0 > 0 } ?? cuts.count
            if fullest != zeroBin, Double(binRows[fullest]) / Double(total) < 0.7 { fullest = zeroBin }
            fixedBin = fullest > 0 ? fullest : -1
        }

        /// LightGBM's `kZeroThreshold`: values within it of zero are zero to its binning.
        static let zeroThreshold = 1e-35

        /// The distinct values of ascending `values` and how many times each occurs.
        private static func distinctValues(_ values: UnsafeBufferPointer<Double>) -> (values: [Double], counts: [Int]) {
            var distinct: [Double] = []
            var counts: [Int] = []
            for value in values {
                if let last = distinct.last, last == value {
                    counts[counts.count - 1] += 1
                } else {
                    distinct.append(value)
                    counts.append(1)
                }
            }
            return (distinct, counts)
        }

        /// LightGBM's `GreedyFindBin`: cuts putting ascending `distinct` values (occurring `counts` times) into at
        /// most `maxBins` bins. With few distinct values each gets a bin, but a bin closes only once it holds
        /// `minDataInBin` rows; otherwise a value holding at least a bin's share of the rows gets a bin to itself,
        /// and the other values fill bins of about equal row counts. A cut lies midway between two values, or with
        /// `lightGBMBounds` where LightGBM's bound puts it (one rounding step above the midpoint).
        static func greedyCuts(
            _ distinct: ArraySlice<Double>, _ counts: ArraySlice<Int>, maxBins: Int, minDataInBin: Int,
            lightGBMBounds: Bool = false
        ) -> [Double] {
            let distinct = Array(distinct)
            let counts = Array(counts)
            // LightGBM's bound between a and b is the double after (a + b) / 2, taken as x <= bound; a cut (x < cut)
            // one further step up splits every value the same way (unless a and b are neighbouring doubles).
            func cut(_ a: Double, _ b: Double) -> Double {
                guard lightGBMBounds else { return Self.cut(between: a, and: b) }
                let bound = ((a + b) / 2).nextUp.nextUp
                return bound > a && bound <= b ? bound : Self.cut(between: a, and: b)
            }
            var cuts: [Double] = []
            guard distinct.count > 1 else { return cuts }
            if distinct.count <= maxBins {
                var inBin = 0
                for index in 0..<(distinct.count - 1) {
                    inBin += counts[index]
                    guard inBin >= minDataInBin else { continue }
                    cuts.append(cut(distinct[index], distinct[index + 1]))
                    inBin = 0
                }
                return cuts
            }
            let rows = counts.reduce(0, +)
            var maxBins = maxBins
            if minDataInBin > 0 { maxBins = max(1, min(maxBins, rows / minDataInBin)) }
            var restRows = Double(rows)
            var restBins = Double(maxBins)
            var meanBinSize = restRows / restBins
            let isBig = counts.map { Double($0) >= meanBinSize }
            for (big, count) in zip(isBig, counts) where big {
                restBins -= 1
                restRows -= Double(count)
            }
            meanBinSize = restRows / max(restBins, 1)
            var inBin = 0.0
            for index in 0..<(distinct.count - 1) {
                if !isBig[index] { restRows -= Double(counts[index]) }
                inBin += Double(counts[index])
                let full = isBig[index] || inBin >= meanBinSize
                    || (isBig[index + 1] && inBin >= max(1, meanBinSize / 2))
                guard full else { continue }
                cuts.append(cut(distinct[index], distinct[index + 1]))
                if cuts.count >= maxBins - 1 { break }
                inBin = 0
                if !isBig[index] {
                    restBins -= 1
                    meanBinSize = restRows / max(restBins, 1)
                }
            }
            return cuts
        }

        /// A threshold `t` with `a < t <= b`: the midpoint unless rounding (or infinity) puts it outside.
        static func cut(between a: Double, and b: Double) -> Double {
            let middle = a / 2 + b / 2
            return middle > a && middle <= b ? middle : b
        }

        /// Writes the bin of each of `count` values, every `stride`-th from `values`, to `target`. A value's bin is
        /// the count of cuts at or below it, found by binary search; four searches run side by side so their loads
        /// overlap. NaN goes to the missing bin.
        func assignBins<Bin: FixedWidthInteger>(
            _ values: UnsafePointer<Double>, stride: Int, count: Int, into target: UnsafeMutablePointer<Bin>
        ) {
            let missing = Bin(truncatingIfNeeded: missingBin)
            cuts.withUnsafeBufferPointer { buffer in
                guard let cuts = buffer.baseAddress else {
                    for row in 0..<count { target[row] = values[row * stride].isNaN ? missing : 0 }
                    return
                }
                @inline(__always) func finish(_ base: Int, _ value: Double) -> Bin {
                    value.isNaN ? missing : Bin(truncatingIfNeeded: base + (cuts[base] <= value ? 1 : 0))
                }
                var row = 0
                while row + 4 <= count {
                    let (v0, v1) = (values[row * stride], values[(row + 1) * stride])
                    let (v2, v3) = (values[(row + 2) * stride], values[(row + 3) * stride])
                    var (b0, b1, b2, b3) = (0, 0, 0, 0)
                    var length = buffer.count
                    while length > 1 {
                        let half = length / 2
                        b0 = cuts[b0 + half] <= v0 ? b0 + half : b0
                        b1 = cuts[b1 + half] <= v1 ? b1 + half : b1
                        b2 = cuts[b2 + half] <= v2 ? b2 + half : b2
                        b3 = cuts[b3 + half] <= v3 ? b3 + half : b3
                        length -= half
                    }
                    (target[row], target[row + 1]) = (finish(b0, v0), finish(b1, v1))
                    (target[row + 2], target[row + 3]) = (finish(b2, v2), finish(b3, v3))
                    row += 4
                }
                while row < count {
                    let value = values[row * stride]
                    var base = 0
                    var length = buffer.count
                    while length > 1 {
                        let half = length / 2
                        base = cuts[base + half] <= value ? base + half : base
                        length -= half
                    }
                    target[row] = finish(base, value)
                    row += 1
                }
            }
        }
    }

    /// LightGBM's binning rules (``FeatureBins/init(sorted:missingCount:maxBins:rules:)``): its defaults
    /// `min_data_in_bin` 3 and `feature_pre_filter` with the training's `min_data_in_leaf`.
    struct LightGBMBinning: Sendable {
        /// The fewest rows a bin holds (LightGBM's `min_data_in_bin`).
        var minDataInBin = 3
        /// A feature is dropped when no cut leaves this many rows on both sides (LightGBM's `min_data_in_leaf`).
        var minDataInLeaf: Int
    }

    /// The training rows' features as bin indices (`UInt8` when every feature has at most 256 bins), stored one
    /// feature after another so a histogram reads a single column.
    struct BinnedColumns<Bin: FixedWidthInteger & UnsignedInteger> {
        let rowCount: Int
        let features: [FeatureBins]
        /// Where each feature's bins start in a node's histogram.
        let offsets: [Int]
        /// Bins of all features together: the length of a histogram in bins.
        let totalBins: Int
        /// `features.count × rowCount` bin indices, feature-major.
        let storage: [Bin]

        /// Bins `data` with at most `maxBins` value bins per feature (fewer when a feature's missing bin would not
        /// fit in `Bin`), spreading features over `threads`; by LightGBM's rules (at most `maxBins` bins in all)
        /// when `lightGBM` is given.
        init(_ data: Dataset, maxBins: Int, threads: Int, lightGBM: LightGBMBinning? = nil) {
            let rows = data.rowCount
            let width = data.featureCount
            var features = [FeatureBins](repeating: FeatureBins(), count: width)
            var storage = [Bin](repeating: 0, count: rows * width)
            data.values.withUnsafeBufferPointer { values in
                features.withUnsafeMutableBufferPointer { features in
                    storage.withUnsafeMutableBufferPointer { storage in
                        GradientBoosting.parallelFor(width, threads: threads, minimumWork: rows * width,
                                                     budget: 1 << 16) { range in
                            // The column is read from the row-major values once, into `raw`.
                            let raw = UnsafeMutablePointer<Double>.allocate(capacity: max(rows, 1))
                            let sorted = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(rows, 1))
                            defer {
                                raw.deallocate()
                                sorted.deallocate()
                            }
                            for feature in range {
                                var present = 0
                                for row in 0..<rows {
                                    let value = values[row * width + feature]
                                    raw[row] = value
                                    sorted[present] = value
                                    present += value.isNaN ? 0 : 1
                                }
                                var column = UnsafeMutableBufferPointer(rebasing: sorted[0..<present])
                                column.sort()
                                let hasMissing = present < rows
                                let limit = hasMissing ? min(maxBins, Int(Bin.max)) : maxBins
                                let bins = if let lightGBM {
                                    FeatureBins(sorted: UnsafeBufferPointer(column), missingCount: rows - present,
                                                maxBins: min(maxBins, Int(Bin.max) + 1), rules: lightGBM)
                                } else {
                                    FeatureBins(sorted: UnsafeBufferPointer(column), hasMissing: hasMissing,
                                                maxBins: limit)
                                }
                                features[feature] = bins
                                let target = storage.baseAddress! + feature * rows
                                if hasMissing, !bins.hasMissing {
                                    // Dropped by LightGBM's pre-filter: a single bin, missing values included.
                                    target.update(repeating: 0, count: rows)
                                } else {
                                    bins.assignBins(raw, stride: 1, count: rows, into: target)
                                }
                            }
                        }
                    }
                }
            }
            var offsets: [Int] = []
            var total = 0
            for bins in features {
                offsets.append(total)
                total += bins.binCount
            }
            self.rowCount = rows
            self.features = features
            self.offsets = offsets
            self.totalBins = total
            self.storage = storage
        }
    }
}
