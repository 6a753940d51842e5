/// Live rows counted into a ``FeatureProfile``'s bins, one row at a time, so that any number of logged rows is
/// compared in constant memory: the store's reader streams its blocks into one of these.
public struct DriftCounter: Sendable {
    /// The profile the rows are binned by.
    public let profile: FeatureProfile
    /// How many rows were counted.
    public private(set) var rows = 0
    /// Every feature's slot counts (``BinnedDistribution/slotCount`` each), one feature after another.
    private var counts: [Int]
    /// Where each feature's counts start in ``counts``.
    private let offsets: [Int]
    /// The predictions' slot counts.
    private var predictionCounts: [Int]

    /// A counter with nothing counted yet.
    public init(profile: FeatureProfile) {
        self.profile = profile
        var offsets: [Int] = []
        var total = 0
        for column in profile.columns {
            offsets.append(total)
            total += column.slotCount
        }
        self.offsets = offsets
        self.counts = [Int](repeating: 0, count: total)
        self.predictionCounts = [Int](repeating: 0, count: profile.prediction.slotCount)
    }

    /// Counts one row: `values` in the profile's feature order (NaN is missing; a short row's absent features count
    /// as missing, a long row's extra cells are ignored) and its prediction.
    public mutating func add(row values: UnsafeBufferPointer<Double>, prediction: Double) {
        rows += 1
        let columns = profile.columns
        let width = columns.count
        counts.withUnsafeMutableBufferPointer { counts in
            for feature in 0..<width {
                let value = feature < values.count ? values[feature] : .nan
                counts[offsets[feature] + columns[feature].slot(value)] += 1
            }
        }
        predictionCounts[profile.prediction.slot(prediction)] += 1
    }

    /// Adds what `other` (a counter of the same profile) counted.
    public mutating func merge(_ other: DriftCounter) {
        precondition(counts.count == other.counts.count, "counters of different profiles")
        rows += other.rows
        for index in counts.indices { counts[index] += other.counts[index] }
        for index in predictionCounts.indices { predictionCounts[index] += other.predictionCounts[index] }
    }

    /// Feature `index`'s slot counts: its value bins', then its missing values'.
    public func counts(feature index: Int) -> ArraySlice<Int> {
        counts[offsets[index]..<offsets[index] + profile.columns[index].slotCount]
    }

    /// The predictions' slot counts.
    public var predictionSlotCounts: [Int] { predictionCounts }

    /// Feature `index`'s population stability index; `nil` with no rows counted.
    public func stabilityIndex(feature index: Int) -> Double? {
        profile.columns[index].stabilityIndex(counts: counts(feature: index))
    }

    /// The predictions' population stability index; `nil` with no rows counted.
    public var predictionStabilityIndex: Double? { profile.prediction.stabilityIndex(counts: predictionCounts) }

    /// The share of counted rows missing feature `index`; `nil` with no rows counted.
    public func missingShare(feature index: Int) -> Double? {
        guard rows > 0 else { return nil }
        return Double(counts(feature: index).last ?? 0) / Double(rows)
    }
}
