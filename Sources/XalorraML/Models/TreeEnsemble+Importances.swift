/// How much each feature is used by a tree ensemble: the global view beside each prediction's explanation.
public struct FeatureImportances: Sendable, Equatable {
    /// Per feature, the sum of the gains (loss reductions) of the splits on it; `nil` when the trees carry no gains
    /// (a model stored before they were kept).
    public var gain: [Double]?
    /// Per feature, how many splits test it.
    public var splits: [Int]

    /// Creates importances.
    public init(gain: [Double]?, splits: [Int]) {
        self.gain = gain
        self.splits = splits
    }
}

extension TreeEnsemble {
    /// The gain and split-count importance of every feature, from the stored trees (trained here, or imported with
    /// XGBoost's `loss_changes`).
    public var importances: FeatureImportances {
        var gain = [Double](repeating: 0, count: featureCount)
        var splits = [Int](repeating: 0, count: featureCount)
        var gainsKnown = true
        for tree in trees {
            let hasGain = tree.gain.count == tree.nodeCount
            gainsKnown = gainsKnown && hasGain
            for node in 0..<tree.nodeCount {
                let feature = Int(tree.feature[node])
                guard feature >= 0, feature < featureCount else { continue }
                splits[feature] += 1
                if hasGain { gain[feature] += tree.gain[node] }
            }
        }
        return FeatureImportances(gain: gainsKnown ? gain : nil, splits: splits)
    }
}
