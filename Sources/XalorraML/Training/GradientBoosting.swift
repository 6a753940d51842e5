import Dispatch

/// Histogram gradient-boosted trees: the `gbdt` kind.
///
/// Features are binned once into at most `bins` quantile bins; each round fits a depth-limited tree to the loss's
/// gradients from gradient/hessian histograms (LightGBM's method, with leaf weight `-G/(H+λ)` and gain
/// `G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ)`), and adds it shrunk by the learning rate. Nothing is sampled, so a
/// run is deterministic, and work is shared among threads by feature only, so `threads` never changes the result.
enum GradientBoosting {
    /// The smallest hessian sum a leaf may have (LightGBM's `min_sum_hessian_in_leaf`), so a log-loss leaf whose
    /// rows are all predicted with certainty does not get an unbounded weight.
    static let minLeafHessian = 1e-3

    /// Trains an ensemble on `train`, reporting each round's loss on `valid` (RMSE or log-loss) to `observer`.
    /// - Parameters:
    ///   - objective: `.regression` (squared error) or `.binary` (log-loss on a 0/1 target), already resolved.
    ///   - observer: called after every round; returning `false` throws ``TrainingError/cancelledByObserver``.
    /// - Returns: the ensemble and its number of rounds, fewer than `parameters.trees` when early stopping on
    ///   `valid` kept the best round (without `valid`, `earlyStopping` has nothing to watch and every round is kept).
    ///   `parameters.seed` plays no part: nothing is sampled.
    static func train(
        train: Dataset, valid: Dataset?, parameters: Hyperparameters, objective: Hyperparameters.Objective,
        observer: (TrainingProgress) -> Bool
    ) throws(TrainingError) -> (ensemble: TreeEnsemble, rounds: Int) {
        let loss = Loss(objective, target: train.target)
        try check(train: train, valid: valid, parameters: parameters, loss: loss)
        let threads = max(parameters.threads, 1)
        if parameters.bins <= 256 {
            let data = BinnedColumns<UInt8>(train, maxBins: parameters.bins, threads: threads)
            return try boost(data, train: train, valid: valid, parameters: parameters, loss: loss, observer: observer)
        } else {
            let data = BinnedColumns<UInt16>(train, maxBins: parameters.bins, threads: threads)
            return try boost(data, train: train, valid: valid, parameters: parameters, loss: loss, observer: observer)
        }
    }

    /// Rejects what cannot be trained, with a message naming the problem.
    static func check(
        train: Dataset, valid: Dataset?, parameters: Hyperparameters, loss: Loss
    ) throws(TrainingError) {
        if let problem = parameters.problems.first {
            throw TrainingError("invalid hyperparameter \(problem.name): \(problem.problem)")
        }
        guard train.rowCount > 0 else { throw TrainingError("the training set has no rows") }
        guard train.rowCount <= Int(UInt32.max) else { throw TrainingError("the training set has too many rows") }
        for (name, data) in [("training", train), ("validation", valid)] {
            guard let data else { continue }
            guard data.featureCount == train.featureCount else {
                throw TrainingError("the \(name) set has \(data.featureCount) features, expected \(train.featureCount)")
            }
            if let index = data.values.firstIndex(where: { $0.isInfinite }) {
                let (row, column) = index.quotientAndRemainder(dividingBy: data.featureCount)
                throw TrainingError(
                    "the \(name) set has an infinite value in row \(row + 1), feature \(data.featureNames[column])"
                )
            }
            for (row, value) in data.target.enumerated() {
                guard value.isFinite else {
                    throw TrainingError("the \(name) target is missing or not finite in row \(row + 1)")
                }
                guard loss == .squaredError || value == 0 || value == 1 else {
                    throw TrainingError(
                        "the binary objective needs a 0/1 target; the \(name) set has \(value) in row \(row + 1)"
                    )
                }
            }
        }
    }

    /// The boosting loop on binned training data.
    private static func boost<Bin: FixedWidthInteger & UnsignedInteger>(
        _ data: BinnedColumns<Bin>, train: Dataset, valid: Dataset?, parameters: Hyperparameters, loss: Loss,
        observer: (TrainingProgress) -> Bool
    ) throws(TrainingError) -> (ensemble: TreeEnsemble, rounds: Int) {
        let rules = SplitRules(minSamplesLeaf: Double(parameters.minSamplesLeaf), minHessian: minLeafHessian,
                               l2: parameters.l2)
        let grower = TreeGrower(data: data, rules: rules, maxDepth: parameters.maxDepth,
                                learningRate: parameters.learningRate, threads: max(parameters.threads, 1),
                                constantHessian: loss.hasConstantHessian)
        let baseMargin = loss.baseMargin(train.target)
        let count = train.rowCount
        var margins = [Double](repeating: baseMargin, count: count)
        var gradients = [Double](repeating: 0, count: count)
        var hessians = [Double](repeating: 1, count: count)
        var validMargins = [Double](repeating: baseMargin, count: valid?.rowCount ?? 0)
        var trees: [DecisionTree] = []
        var best = (loss: Double.infinity, rounds: 0)
        for round in 1...parameters.trees {
            let tree = margins.withUnsafeMutableBufferPointer { margins in
                gradients.withUnsafeMutableBufferPointer { gradients in
                    hessians.withUnsafeMutableBufferPointer { hessians in
                        train.target.withUnsafeBufferPointer { target in
                            loss.computeGradients(margins: margins.baseAddress!, target: target.baseAddress!,
                                                  count: count, gradients: gradients.baseAddress!,
                                                  hessians: hessians.baseAddress!)
                        }
                        return data.storage.withUnsafeBufferPointer { columns in
                            let grown = grower.grow(columns: columns.baseAddress!, gradients: gradients.baseAddress!,
                                                    hessians: hessians.baseAddress!)
                            for leaf in grown.leaves {
                                for index in leaf.begin..<leaf.end { margins[Int(grower.rows[index])] += leaf.value }
                            }
                            return grown.tree
                        }
                    }
                }
            }
            trees.append(tree)
            var validationLoss: Double?
            if let valid {
                tree.addMargins(of: valid, to: &validMargins)
                let current = loss.validationLoss(margins: validMargins, target: valid.target)
                if current < best.loss { best = (current, round) }
                validationLoss = current
            }
            guard observer(TrainingProgress(done: round, total: parameters.trees, validationLoss: validationLoss))
            else { throw .cancelledByObserver }
            if let patience = parameters.earlyStopping, valid != nil {
                if round - best.rounds >= patience { break }
            }
        }
        if parameters.earlyStopping != nil, valid != nil { trees.removeSubrange(best.rounds...) }
        let ensemble = TreeEnsemble(objective: loss.ensembleObjective, baseMargin: baseMargin,
                                    featureCount: train.featureCount, float32: false, trees: trees)
        return (ensemble, trees.count)
    }

    /// Runs `body` on consecutive slices of `0..<count`, on up to `threads` threads when `minimumWork` (a rough
    /// operation count) reaches `budget`, else on the calling thread.
    static func parallelFor(
        _ count: Int, threads: Int, minimumWork: Int, budget: Int, _ body: (Range<Int>) -> Void
    ) {
        let workers = min(threads, count)
        guard workers > 1, minimumWork >= budget else { return body(0..<count) }
        // concurrentPerform returns only once every slice is done, so `body` does not outlive this call; callers
        // give each slice its own features, whose histograms, candidates and bins do not overlap.
        nonisolated(unsafe) let shared = body
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            shared((count * worker / workers)..<(count * (worker + 1) / workers))
        }
    }
}

extension DecisionTree {
    /// Adds this tree's leaf for every row of `data` to `margins` (validation scoring during boosting).
    func addMargins(of data: Dataset, to margins: inout [Double]) {
        addMargins(of: data, to: &margins, offset: 0, stride: 1)
    }
}
