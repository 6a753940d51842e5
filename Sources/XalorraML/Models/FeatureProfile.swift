#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a trained version keeps of its training data so that live inputs can be compared with it (issue 16's
/// drift): each feature's distribution over a few bins, and the distribution of the model's own predictions on the
/// training rows.
///
/// Every kind is binned by the GBDT's own binning (``GradientBoosting/FeatureBins``, LightGBM's greedy quantile
/// cuts) at ``bins`` bins: deciles, except that a value holding a bin's share of the rows gets a bin to itself and a
/// column of few distinct values gets one bin per value. The gbdt's 255 training bins are not reused as they are:
/// with that many bins most expected shares are tiny, and a population stability index over them is mostly the
/// noise of a small live sample.
public struct FeatureProfile: Sendable, Equatable {
    /// The bins a column gets at most (value bins; the missing values are counted apart).
    public static let bins = 10

    /// The feature names, in the model's order.
    public var features: [String]
    /// Each feature's distribution, in ``features``' order.
    public var columns: [BinnedDistribution]
    /// The distribution of the model's predictions on the training rows.
    public var prediction: BinnedDistribution
    /// How many training rows the shares were counted over.
    public var rows: Int

    /// Creates a profile from its parts (a stored profile read back).
    public init(features: [String], columns: [BinnedDistribution], prediction: BinnedDistribution, rows: Int) {
        precondition(features.count == columns.count, "one distribution per feature")
        self.features = features
        self.columns = columns
        self.prediction = prediction
        self.rows = rows
    }

    /// The profile of `data` and of `model`'s predictions on its rows.
    public init(model: TrainedModel, data: Dataset) {
        var predictions = [Double](repeating: 0, count: data.rowCount)
        data.values.withUnsafeBufferPointer { rows in
            predictions.withUnsafeMutableBufferPointer { output in model.predict(rows: rows, into: output) }
        }
        self.init(data: data, predictions: predictions)
    }

    /// The profile of `data` with `predictions` (one per row).
    public init(data: Dataset, predictions: [Double]) {
        let width = data.featureCount
        var column = [Double](repeating: 0, count: data.rowCount)
        var columns: [BinnedDistribution] = []
        columns.reserveCapacity(width)
        for feature in 0..<width {
            for row in 0..<data.rowCount { column[row] = data.values[row * width + feature] }
            columns.append(BinnedDistribution(values: column, maxBins: Self.bins))
        }
        self.init(
            features: data.featureNames, columns: columns,
            prediction: BinnedDistribution(values: predictions, maxBins: Self.bins), rows: data.rowCount)
    }
}

/// One column's values over bins: the cuts, and the share of the rows in each bin and among the missing values.
///
/// A value's bin is the number of cuts at or below it (as ``GradientBoosting/FeatureBins`` places it); a missing
/// value (NaN) is counted in the missing share, a slot after the value bins.
public struct BinnedDistribution: Sendable, Equatable {
    /// Ascending cut points: `cuts.count + 1` value bins.
    public var cuts: [Double]
    /// Each value bin's share of all rows (missing ones included).
    public var shares: [Double]
    /// The share of rows whose value is missing.
    public var missingShare: Double

    /// Creates a distribution from its parts; `shares` has one entry per value bin.
    public init(cuts: [Double], shares: [Double], missingShare: Double) {
        precondition(shares.count == cuts.count + 1, "one share per value bin")
        self.cuts = cuts
        self.shares = shares
        self.missingShare = missingShare
    }

    /// The distribution of `values` (NaN is missing) over at most `maxBins` quantile bins.
    public init(values: [Double], maxBins: Int) {
        var sorted = values.filter { !$0.isNaN }
        sorted.sort()
        let bins = sorted.withUnsafeBufferPointer { buffer in
            GradientBoosting.FeatureBins(sorted: buffer, hasMissing: sorted.count < values.count, maxBins: maxBins)
        }
        var counts = [Int](repeating: 0, count: bins.cuts.count + 2)
        let probe = BinnedDistribution(cuts: bins.cuts, shares: [Double](repeating: 0, count: bins.cuts.count + 1),
                                       missingShare: 0)
        for value in values { counts[probe.slot(value)] += 1 }
        let total = Double(max(values.count, 1))
        self.init(
            cuts: bins.cuts, shares: counts.dropLast().map { Double($0) / total },
            missingShare: Double(counts[counts.count - 1]) / total)
    }

    /// Value bins plus the missing slot: how many counts ``slot(_:)`` spreads values over.
    public var slotCount: Int { cuts.count + 2 }

    /// The slot of `value`: its bin (the number of cuts at or below it), or the last slot when it is missing.
    @inline(__always)
    public func slot(_ value: Double) -> Int {
        if value.isNaN { return cuts.count + 1 }
        var low = 0
        var high = cuts.count
        while low < high {
            let middle = (low + high) >> 1
            if cuts[middle] <= value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The expected share of every slot: the value bins', then the missing share.
    public var slotShares: [Double] { shares + [missingShare] }

    /// The population stability index of `counts` (one per slot, the live rows) against this distribution; `nil`
    /// when there are no rows to compare.
    public func stabilityIndex(counts: some Collection<Int>) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        return PopulationStability.index(
            expected: slotShares, actual: counts.map { Double($0) / Double(total) })
    }
}

/// The population stability index, `Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ)` over bins with expected shares `e` and actual
/// shares `a`, and the usual reading of it.
public enum PopulationStability {
    /// A share below this counts as this much, so that an empty bin on one side gives a large finite term instead
    /// of an infinite one (the common choice of 0.0001).
    public static let floor = 0.0001
    /// From here on a shift is worth watching (0.1).
    public static let moderate = 0.1
    /// From here on the population has drifted, and a check flags it (0.2).
    public static let drifted = 0.2

    /// The index of `actual` shares against `expected` ones, bin by bin (equal lengths); 0 for equal shares.
    public static func index(expected: [Double], actual: [Double]) -> Double {
        precondition(expected.count == actual.count, "one actual share per expected one")
        var sum = 0.0
        for (e, a) in zip(expected, actual) {
            let (e, a) = (max(e, floor), max(a, floor))
            sum += (a - e) * log(a / e)
        }
        return sum
    }
}
