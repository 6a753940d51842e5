extension GradientBoosting.TreeGrower {
    /// Builds one feature's slice of a histogram: per bin, the sum of gradients, of hessians (unless constant) and
    /// the row count, over `count` rows (`rows[k]`, or row `k` itself when `rows` is nil, as at the root). Under
    /// LightGBM's reverse scan with hessian-estimated counts (softmax), a feature without missing values gets no row
    /// counts, which that scan does not read.
    ///
    /// `gradients[k]` and `hessians[k]` belong to the k-th row listed, so a child's are gathered into contiguous
    /// arrays once and then read in order by every feature; `pairs`, when given, holds them side by side
    /// (`pairs[2k]`, `pairs[2k + 1]`) for the features without row counts.
    @inline(__always)
    func accumulate(
        feature: Int, columns: UnsafePointer<Bin>, rows: UnsafePointer<UInt32>?, count: Int,
        gradients: UnsafePointer<Double>, hessians: UnsafePointer<Double>, pairs: UnsafePointer<Double>? = nil,
        into histograms: UnsafeMutablePointer<Double>
    ) {
        let histogram = histograms + stride * data.offsets[feature]
        let bins = layout[feature]
        histogram.update(repeating: 0, count: stride * bins.binCount)
        let column = columns + feature * data.rowCount
        if bins.withoutCounts {
            // LightGBM's reverse scan with counts estimated from hessians reads no row count.
            if let pairs {
                return accumulatePairs(column: column, rows: rows, count: count, pairs: pairs,
                                       skipsBinZero: bins.fixedBin < 0, into: histogram)
            }
            if bins.fixedBin < 0 {
                return accumulateSkippingBinZero(column: column, rows: rows, count: count, gradients: gradients,
                                                 hessians: hessians, into: histogram)
            }
            if let rows {
                for index in 0..<count {
                    let slot = Int(column[Int(rows[index])]) &* 3
                    histogram[slot] += gradients[index]
                    histogram[slot &+ 1] += hessians[index]
                }
            } else {
                for index in 0..<count {
                    let slot = Int(column[index]) &* 3
                    histogram[slot] += gradients[index]
                    histogram[slot &+ 1] += hessians[index]
                }
            }
            return
        }
        switch (constantHessian, rows) {
        case (true, let rows?):
            for index in 0..<count {
                let slot = Int(column[Int(rows[index])]) &* 2
                histogram[slot] += gradients[index]
                histogram[slot &+ 1] += 1
            }
        case (true, nil):
            for index in 0..<count {
                let slot = Int(column[index]) &* 2
                histogram[slot] += gradients[index]
                histogram[slot &+ 1] += 1
            }
        case (false, let rows?):
            for index in 0..<count {
                let slot = Int(column[Int(rows[index])]) &* 3
                histogram[slot] += gradients[index]
                histogram[slot &+ 1] += hessians[index]
                histogram[slot &+ 2] += 1
            }
        case (false, nil):
            for index in 0..<count {
                let slot = Int(column[index]) &* 3
                histogram[slot] += gradients[index]
                histogram[slot &+ 1] += hessians[index]
                histogram[slot &+ 2] += 1
            }
        }
    }

    /// ``accumulate(feature:columns:rows:count:gradients:hessians:into:)`` without bin 0's sums, which
    /// LightGBM's reverse scan never reads when bin 0 is the most frequent bin (``FeatureBins/fixedBin`` is -1) and
    /// the feature has no missing values: LightGBM does not add them either. Often most rows are in bin 0 (zero,
    /// on sparse features), and adding them all to one slot chains every addition to the one before; those rows
    /// go to four scratch slots in turn instead, without a branch. No row counts (the scan estimates them).
    @inline(__always)
    private func accumulateSkippingBinZero(
        column: UnsafePointer<Bin>, rows: UnsafePointer<UInt32>?, count: Int, gradients: UnsafePointer<Double>,
        hessians: UnsafePointer<Double>, into histogram: UnsafeMutablePointer<Double>
    ) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 12) { scratch in
            let spare = scratch.baseAddress!
            spare.initialize(repeating: 0, count: 12)
            if let rows {
                for index in 0..<count {
                    let bin = Int(column[Int(rows[index])])
                    let slot = bin == 0 ? spare + (index & 3) &* 3 : histogram + bin &* 3
                    slot[0] += gradients[index]
                    slot[1] += hessians[index]
                }
            } else {
                for index in 0..<count {
                    let bin = Int(column[index])
                    let slot = bin == 0 ? spare + (index & 3) &* 3 : histogram + bin &* 3
                    slot[0] += gradients[index]
                    slot[1] += hessians[index]
                }
            }
        }
    }

    /// The gradient and hessian sums of a feature without row counts over `count` rows (`rows[k]`, or row `k`
    /// itself), each row's pair from `pairs` added to its bin's in one 16-byte addition (lane by lane, so the sums are
    /// the scalar ones to the bit); with `skipsBinZero`, bin 0's rows go to rotating scratch slots as in
    /// ``accumulateSkippingBinZero(column:rows:count:gradients:hessians:into:)``.
    @inline(__always)
    private func accumulatePairs(
        column: UnsafePointer<Bin>, rows: UnsafePointer<UInt32>?, count: Int, pairs: UnsafePointer<Double>,
        skipsBinZero: Bool, into histogram: UnsafeMutablePointer<Double>
    ) {
        let source = UnsafeRawPointer(pairs)
        let target = UnsafeMutableRawPointer(histogram)
        let slotBytes = 3 &* MemoryLayout<Double>.stride
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 12) { scratch in
            let spare = UnsafeMutableRawPointer(scratch.baseAddress!)
            spare.initializeMemory(as: Double.self, repeating: 0, count: 12)
            @inline(__always) func add(_ index: Int, _ bin: Int) {
                let slot = skipsBinZero && bin == 0 ? spare + (index & 3) &* slotBytes : target + bin &* slotBytes
                let sum = slot.loadUnaligned(as: SIMD2<Double>.self)
                    + source.loadUnaligned(fromByteOffset: index &* 16, as: SIMD2<Double>.self)
                slot.storeBytes(of: sum, as: SIMD2<Double>.self)
            }
            switch (rows, skipsBinZero) {
            case (let rows?, true): for index in 0..<count { add(index, Int(column[Int(rows[index])])) }
            case (let rows?, false): for index in 0..<count { add(index, Int(column[Int(rows[index])])) }
            case (nil, true): for index in 0..<count { add(index, Int(column[index])) }
            case (nil, false): for index in 0..<count { add(index, Int(column[index])) }
            }
        }
    }

    /// Turns one feature's slice of the parent's histogram into the larger child's: parent minus smaller child.
    @inline(__always)
    func subtract(feature: Int, from parent: UnsafeMutablePointer<Double>, _ child: UnsafeMutablePointer<Double>) {
        let start = stride * data.offsets[feature]
        let length = stride * layout[feature].binCount
        let target = parent + start
        let source = child + start
        for index in 0..<length { target[index] -= source[index] }
    }
}

extension GradientBoosting {
    /// Accumulates a ``DecisionTree``'s node arrays as nodes are created and split.
    struct TreeBuilder {
        var feature: [Int32] = []
        var threshold: [Double] = []
        var left: [Int32] = []
        var right: [Int32] = []
        var defaultLeft: [Bool] = []
        var value: [Double] = []
        var cover: [Double] = []
        var gain: [Double] = []

        /// Adds a leaf (a node not split yet) and returns its index.
        mutating func addNode() -> Int {
            feature.append(-1)
            threshold.append(0)
            left.append(-1)
            right.append(-1)
            defaultLeft.append(true)
            value.append(0)
            cover.append(0)
            gain.append(0)
            return feature.count - 1
        }

        /// Makes `node` a split and adds its two children; returns their indices.
        mutating func setSplit(
            _ node: Int, feature splitFeature: Int, defaultLeft goesLeft: Bool, threshold limit: Double
        ) -> (left: Int, right: Int) {
            let leftChild = addNode()
            let rightChild = addNode()
            feature[node] = Int32(splitFeature)
            threshold[node] = limit
            left[node] = Int32(leftChild)
            right[node] = Int32(rightChild)
            defaultLeft[node] = goesLeft
            return (leftChild, rightChild)
        }

        /// The finished tree.
        var tree: DecisionTree {
            DecisionTree(feature: feature, threshold: threshold, left: left, right: right, defaultLeft: defaultLeft,
                         value: value, cover: cover, gain: gain)
        }
    }
}
