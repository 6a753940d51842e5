/// Building datasets from CSV, taking rows out of them, and picking prediction inputs by column name.
extension Dataset {
    /// Makes a training set of `matrix`: `target` is the label, every other column a feature, in file order.
    ///
    /// Errors point at the file: a missing target column lists the columns there are, and an empty target cell
    /// names its line (as the reader recorded it, so blank lines and multi-line quoted cells are counted; a matrix
    /// built without line numbers is assumed to have the header on line 1 and one row a line after it).
    /// - Parameters:
    ///   - matrix: rows as ``CSVReader`` reads them, with the header's column names.
    ///   - target: the name of the column to predict.
    public init(_ matrix: FeatureMatrix, target: String) throws(DatasetError) {
        guard let targetIndex = matrix.columns.firstIndex(of: target) else {
            let names = matrix.columns.map { "'\($0)'" }.joined(separator: ", ")
            throw DatasetError(line: 1, reason: "no target column '\(target)'; the columns are \(names)")
        }
        guard matrix.columns.count > 1 else {
            throw DatasetError(line: 1, reason: "no feature columns: '\(target)' is the only column")
        }
        guard matrix.rowCount > 0 else { throw DatasetError(line: 2, reason: "no data rows after the header") }
        let width = matrix.columns.count
        var values: [Double] = []
        values.reserveCapacity(matrix.rowCount * (width - 1))
        var targets: [Double] = []
        targets.reserveCapacity(matrix.rowCount)
        for index in 0..<matrix.rowCount {
            let row = matrix.row(index)
            guard row.count == width else {
                throw DatasetError(
                    line: matrix.line(ofRow: index) ?? index + 2,
                    reason: "\(row.count) cells, but the header has \(width)"
                )
            }
            for (column, cell) in zip(0..<width, row) {
                if column == targetIndex {
                    guard let cell else {
                        throw DatasetError(
                            line: matrix.line(ofRow: index) ?? index + 2, column: target,
                            reason: "the target is empty; every row needs one"
                        )
                    }
                    targets.append(cell.doubleValue)
                } else {
                    values.append(cell?.doubleValue ?? .nan)
                }
            }
        }
        var featureNames = matrix.columns
        featureNames.remove(at: targetIndex)
        self.init(featureNames: featureNames, values: values, target: targets)
    }

    /// The rows at `indices`, in that order (an index may repeat).
    public func rows(_ indices: some Collection<Int>) -> Dataset {
        let width = featureCount
        var values: [Double] = []
        values.reserveCapacity(indices.count * width)
        var target: [Double] = []
        target.reserveCapacity(indices.count)
        for index in indices {
            values.append(contentsOf: self.values[index * width..<(index + 1) * width])
            target.append(self.target[index])
        }
        return Dataset(featureNames: featureNames, values: values, target: target)
    }

    /// Shuffles the rows with `seed` and holds out `round(rowCount × validFraction)` of them for validation.
    ///
    /// The same seed always gives the same split; both halves keep the shuffled order. A fraction of 0 gives an
    /// empty validation set.
    /// - Parameters:
    ///   - validFraction: the share of rows to hold out, `0..<1`.
    ///   - seed: fixes the shuffle.
    public func split(validFraction: Double, seed: UInt64) -> (train: Dataset, valid: Dataset) {
        let count = rowCount
        let validCount = min(max(Int((Double(count) * validFraction).rounded()), 0), count)
        var order = Array(0..<count)
        // Fisher–Yates written out rather than `shuffle(using:)`, whose algorithm the standard library does not
        // promise to keep, so a seed means the same split in every release.
        var generator = SplitMix64(seed: seed)
        if count > 1 {
            for index in stride(from: count - 1, to: 0, by: -1) {
                let other = Int(generator.next() % UInt64(index + 1))
                order.swapAt(index, other)
            }
        }
        return (rows(order[validCount...]), rows(order[..<validCount]))
    }
}
