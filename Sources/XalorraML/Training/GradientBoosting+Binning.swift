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
            guard distinct.count > 1 else { return }
            if distinct.count <= maxBins {
                cuts = (1..<distinct.count).map { Self.cut(between: distinct[$0 - 1], and: distinct[$0]) }
                return
            }
            var restRows = Double(values.count)
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
                cuts.append(Self.cut(between: distinct[index], and: distinct[index + 1]))
                if cuts.count >= maxBins - 1 { break }
                inBin = 0
                if !isBig[index] {
                    restBins -= 1
                    meanBinSize = restRows / max(restBins, 1)
                }
            }
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
        /// fit in `Bin`), spreading features over `threads`.
        init(_ data: Dataset, maxBins: Int, threads: Int) {
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
                                let bins = FeatureBins(sorted: UnsafeBufferPointer(column), hasMissing: hasMissing,
                                                       maxBins: limit)
                                features[feature] = bins
                                bins.assignBins(raw, stride: 1, count: rows, into: storage.baseAddress! + feature * rows)
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
