#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multi-class (`.softmax`) prediction: K margins per row, their softmax, and the most probable class's label.
extension TreeEnsemble {
    /// Fills `output` (`K` values per row, rows one after another) with each class's margin for the
    /// `output.count / K` rows of `featureCount` values at `rows`: the class's starting margin plus its trees' leaves.
    public func classMargins(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        let classes = classCount
        precondition(classes > 0, "only a multi-class ensemble has class margins")
        let count = output.count / classes
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(count, 1)) { column in
            let column = UnsafeMutableBufferPointer(rebasing: column[0..<count])
            for index in 0..<classes {
                margins(classLayouts[index], start: classMargins[index], rows: rows, into: column)
                for row in 0..<count { output[row * classes + index] = column[row] }
            }
        }
    }

    /// Fills `output` (`K` values per row) with each class's probability, the softmax of the class margins, for the
    /// `output.count / K` rows at `rows`; each row's probabilities sum to 1.
    public func probabilities(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        classMargins(rows: rows, into: output)
        let classes = classCount
        guard let base = output.baseAddress else { return }
        for row in 0..<(output.count / classes) { Self.softmax(base + row * classes, count: classes) }
    }

    /// Turns `count` margins at `values` into their softmax in place (shifted by the largest, so `exp` cannot
    /// overflow).
    static func softmax(_ values: UnsafeMutablePointer<Double>, count: Int) {
        var largest = -Double.infinity
        for index in 0..<count { largest = max(largest, values[index]) }
        var sum = 0.0
        for index in 0..<count {
            values[index] = exp(values[index] - largest)
            sum += values[index]
        }
        for index in 0..<count { values[index] /= sum }
    }

    /// The index of the largest of `count` values at `values`, the first on a tie (as NumPy's `argmax`).
    static func argmax(_ values: UnsafePointer<Double>, count: Int) -> Int {
        var best = 0
        for index in 1..<max(count, 1) where values[index] > values[best] { best = index }
        return best
    }

    /// Writes each row's most probable class label into `output` (one per row).
    func classify(rows: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>) {
        let classes = classCount
        precondition(classes > 0, "only a multi-class ensemble classifies")
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(output.count * classes, 1)) { margins in
            let margins = UnsafeMutableBufferPointer(rebasing: margins[0..<(output.count * classes)])
            classMargins(rows: rows, into: margins)
            for row in 0..<output.count {
                output[row] = classLabels[Self.argmax(margins.baseAddress! + row * classes, count: classes)]
            }
        }
    }

    /// The margin of the most probable class of one row.
    func classMarginOfPrediction(_ row: UnsafeBufferPointer<Double>) -> Double {
        let classes = classCount
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: classes) { margins in
            classMargins(rows: UnsafeBufferPointer(rebasing: row[0..<featureCount]), into: margins)
            return margins[Self.argmax(margins.baseAddress!, count: classes)]
        }
    }
}
