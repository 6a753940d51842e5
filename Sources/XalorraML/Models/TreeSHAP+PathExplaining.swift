/// The per-row side of ``TreeSHAPPathTables``: a block of rows through the tabled trees, on raw buffers.
extension TreeSHAPPathTables {
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
