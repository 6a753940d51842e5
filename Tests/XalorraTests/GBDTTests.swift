import Testing

@testable import XalorraML

/// Histogram gradient boosting (`GradientBoosting`) and tree-ensemble prediction.
@Suite struct GBDTTests {
    /// A dataset of `count` rows of `width` features from `feature(row, column)` and `target(row, features)`.
    static func dataset(
        rows count: Int, width: Int, feature: (Int, Int) -> Double, target: ([Double]) -> Double
    ) -> Dataset {
        var values: [Double] = []
        var targets: [Double] = []
        for row in 0..<count {
            let features = (0..<width).map { feature(row, $0) }
            values += features
            targets.append(target(features))
        }
        return Dataset(featureNames: (0..<width).map { "f\($0)" }, values: values, target: targets)
    }

    /// `count` rows of uniform features in [0, 1) from `seed`, with targets from `target`.
    static func random(
        rows count: Int, width: Int, seed: UInt64, target: ([Double], inout SplitMix64) -> Double
    ) -> Dataset {
        var generator = SplitMix64(seed: seed)
        var values: [Double] = []
        var targets: [Double] = []
        for _ in 0..<count {
            let features = (0..<width).map { _ in Double.random(in: 0..<1, using: &generator) }
            values += features
            targets.append(target(features, &generator))
        }
        return Dataset(featureNames: (0..<width).map { "f\($0)" }, values: values, target: targets)
    }

    static func parameters(trees: Int, depth: Int = 3, rate: Double = 0.3, minLeaf: Int = 5) -> Hyperparameters {
        var parameters = Hyperparameters()
        parameters.trees = trees
        parameters.maxDepth = depth
        parameters.learningRate = rate
        parameters.minSamplesLeaf = minLeaf
        parameters.validFraction = 0
        return parameters
    }

    static func train(
        _ data: Dataset, valid: Dataset? = nil, _ parameters: Hyperparameters,
        objective: Hyperparameters.Objective = .regression, observer: (TrainingProgress) -> Bool = { _ in true }
    ) throws -> (ensemble: TreeEnsemble, rounds: Int) {
        try GradientBoosting.train(
            train: data, valid: valid, parameters: parameters, objective: objective, observer: observer
        )
    }

    static func predict(_ ensemble: TreeEnsemble, _ row: [Double]) -> Double {
        row.withUnsafeBufferPointer { ensemble.predict($0) }
    }

    /// One unshrunk stump learns a step function exactly, with its threshold midway between the two sides.
    @Test func learnsAStepExactly() throws {
        let data = Self.dataset(rows: 200, width: 1, feature: { row, _ in Double(row) }) { $0[0] < 100 ? 0 : 10 }
        var parameters = Self.parameters(trees: 1, depth: 1, rate: 1, minLeaf: 1)
        parameters.l2 = 0
        let (ensemble, rounds) = try Self.train(data, parameters)
        #expect(rounds == 1)
        #expect(ensemble.trees[0].threshold[0] == 99.5)
        for row in 0..<200 { #expect(Self.predict(ensemble, [Double(row)]) == (row < 100 ? 0 : 10)) }
        #expect(Self.predict(ensemble, [99.4]) == 0)
        #expect(Self.predict(ensemble, [99.6]) == 10)
    }

    /// With more than 256 bins (16-bit bin indices) every distinct value keeps its own bin and the step is exact.
    @Test func learnsAStepWithWideBins() throws {
        let data = Self.dataset(rows: 600, width: 1, feature: { row, _ in row % 5 == 0 ? .nan : Double(row) }) {
            $0[0].isNaN ? 5 : ($0[0] < 302 ? 0 : 10)
        }
        var parameters = Self.parameters(trees: 1, depth: 2, rate: 1, minLeaf: 1)
        parameters.bins = 1_000
        parameters.l2 = 0
        let (ensemble, _) = try Self.train(data, parameters)
        #expect(ensemble.trees[0].threshold.contains(301.5))
        #expect(abs(Self.predict(ensemble, [301]) - 0) < 1e-9)
        #expect(abs(Self.predict(ensemble, [302]) - 10) < 1e-9)
        #expect(abs(Self.predict(ensemble, [.nan]) - 5) < 1e-9)
    }

    /// A missing value follows the direction learned from training rows where missing meant a high target.
    @Test func routesMissingValuesByTheLearnedDirection() throws {
        let data = Self.dataset(
            rows: 300, width: 1, feature: { row, _ in row % 3 == 0 ? .nan : Double(row % 100) / 100 },
            target: { $0[0].isNaN ? 10 : $0[0] }
        )
        let (ensemble, _) = try Self.train(data, Self.parameters(trees: 20, depth: 2))
        #expect(ensemble.trees.allSatisfy { $0.threshold.allSatisfy(\.isFinite) })
        #expect(Self.predict(ensemble, [.nan]) > 9)
        #expect(abs(Self.predict(ensemble, [0.5]) - 0.5) < 0.5)
        #expect(Self.predict(ensemble, [0.99]) < 2)
    }

    /// With no missing value in training, a missing value goes to the side that held more rows.
    @Test func sendsUnseenMissingValuesToTheLargerSide() throws {
        let data = Self.dataset(rows: 100, width: 1, feature: { row, _ in Double(row) }) { $0[0] < 70 ? 0 : 10 }
        let (ensemble, _) = try Self.train(data, Self.parameters(trees: 1, depth: 1, rate: 1, minLeaf: 1))
        #expect(ensemble.trees[0].defaultLeft[0])
        #expect(Self.predict(ensemble, [.nan]) == Self.predict(ensemble, [0]))
    }

    /// The same seed gives the same ensemble, and 1 or 2 threads give identical trees.
    @Test func isDeterministicForAnyThreadCount() throws {
        // 2,800 × 12 values reach the work size at which histogram building is shared among threads.
        let data = Self.random(rows: 2_800, width: 12, seed: 7) { x, generator in
            x[0] * 3 + (x[1] > 0.5 ? 1 : 0) + Double.random(in: 0..<0.1, using: &generator)
        }
        var parameters = Self.parameters(trees: 4, depth: 3)
        let first = try Self.train(data, parameters).ensemble
        #expect(try Self.train(data, parameters).ensemble == first)
        parameters.threads = 2
        #expect(try Self.train(data, parameters).ensemble == first)
    }

    /// Early stopping on a pure-noise target stops long before the cap and keeps exactly the best round's trees.
    @Test func earlyStoppingKeepsTheBestRound() throws {
        let noise: ([Double], inout SplitMix64) -> Double = { _, generator in
            Double.random(in: 0..<1, using: &generator)
        }
        let train = Self.random(rows: 300, width: 3, seed: 1, target: noise)
        let valid = Self.random(rows: 200, width: 3, seed: 2, target: noise)
        var parameters = Self.parameters(trees: 200, depth: 4, rate: 0.5, minLeaf: 2)
        parameters.earlyStopping = 5
        var losses: [Double] = []
        let (ensemble, rounds) = try Self.train(train, valid: valid, parameters) { progress in
            losses.append(progress.validationLoss ?? .nan)
            return true
        }
        #expect(rounds < 100)
        #expect(ensemble.trees.count == rounds)
        #expect(losses.count == rounds + 5)
        #expect(losses.min() == losses[rounds - 1])
    }

    /// Log-loss boosting separates an easy binary problem with probabilities near 0 and 1.
    @Test func logLossGivesSeparatingProbabilities() throws {
        let data = Self.random(rows: 400, width: 2, seed: 3) { x, _ in x[0] > 0.5 ? 1 : 0 }
        let (ensemble, _) = try Self.train(data, Self.parameters(trees: 30), objective: .binary)
        #expect(ensemble.objective == .logistic)
        #expect(Self.predict(ensemble, [0.9, 0.5]) > 0.9)
        #expect(Self.predict(ensemble, [0.1, 0.5]) < 0.1)
        #expect(Self.predict(ensemble, [0.1, 0.5]) > 0)
    }

    /// No leaf of any tree holds fewer training rows than `minSamplesLeaf`.
    @Test func respectsMinSamplesLeaf() throws {
        let data = Self.random(rows: 300, width: 2, seed: 4) { x, _ in (x[0] * 40).rounded() + x[1] }
        let (ensemble, _) = try Self.train(data, Self.parameters(trees: 5, depth: 6, minLeaf: 25))
        for tree in ensemble.trees {
            var rowsPerLeaf: [Int: Int] = [:]
            for row in 0..<data.rowCount {
                var node = 0
                while tree.feature[node] >= 0 {
                    let value = data.values[row * 2 + Int(tree.feature[node])]
                    node = Int(value < tree.threshold[node] ? tree.left[node] : tree.right[node])
                }
                rowsPerLeaf[node, default: 0] += 1
            }
            #expect(rowsPerLeaf.count > 1)
            #expect(rowsPerLeaf.values.allSatisfy { $0 >= 25 })
        }
    }

    /// A float32 ensemble compares `Float(x) < Float(threshold)`, as XGBoost does; a double one compares exactly.
    @Test func float32ComparesAsFloat() {
        let stump = DecisionTree(feature: [0, -1, -1], threshold: [0.1, 0, 0], left: [1, -1, -1], right: [2, -1, -1],
                                 defaultLeft: [false, true, true], value: [0, -1, 1])
        let below = 0.1 - 1e-12  // a Double below 0.1 whose Float is Float(0.1)
        let float = TreeEnsemble(objective: .regression, baseMargin: 0, featureCount: 1, float32: true, trees: [stump])
        var double = float
        double.float32 = false
        #expect(Self.predict(float, [below]) == 1)
        #expect(Self.predict(double, [below]) == -1)
        #expect(Self.predict(float, [0.09]) == -1)
        #expect(Self.predict(float, [.nan]) == 1)
        var output = [0.0, 0.0]
        [below, 0.09].withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { float.predict(rows: rows, into: $0) }
        }
        #expect(output == [1, -1])
    }

    /// A node whose child index is out of range is read as a leaf instead of reading out of bounds.
    @Test func malformedNodesPredictAsLeaves() {
        let tree = DecisionTree(feature: [0, -1], threshold: [0.5, 0], left: [1, -1], right: [7, -1],
                                defaultLeft: [true, true], value: [3, 1])
        let ensemble = TreeEnsemble(objective: .regression, baseMargin: 0, featureCount: 1, float32: false,
                                    trees: [tree])
        #expect(Self.predict(ensemble, [0]) == 3)
        #expect(Self.predict(ensemble, [1]) == 3)
    }

    /// Batch prediction returns exactly what single-row prediction does, across block boundaries and missing values.
    @Test func batchPredictionEqualsSingleRows() throws {
        let data = Self.random(rows: 500, width: 4, seed: 5) { x, _ in x[0] > 0.3 ? x[1] * 2 : x[2] }
        var values = data.values
        for index in Swift.stride(from: 3, to: values.count, by: 7) { values[index] = .nan }
        let withMissing = Dataset(featureNames: data.featureNames, values: values, target: data.target)
        let (trained, _) = try Self.train(withMissing, Self.parameters(trees: 10, depth: 4))
        var float32 = trained
        float32.float32 = true
        float32.objective = .logistic
        for ensemble in [trained, float32] {
            let rows = 150
            var batch = [Double](repeating: 0, count: rows)
            values.withUnsafeBufferPointer { all in
                batch.withUnsafeMutableBufferPointer {
                    ensemble.predict(rows: UnsafeBufferPointer(rebasing: all[0..<(rows * 4)]), into: $0)
                }
            }
            for row in 0..<rows {
                #expect(batch[row] == Self.predict(ensemble, Array(values[(row * 4)..<(row * 4 + 4)])))
            }
        }
    }

    /// An observer returning false cancels training after that round.
    @Test func observerCancels() {
        let data = Self.random(rows: 100, width: 2, seed: 6) { x, _ in x[0] }
        var calls = 0
        #expect(throws: TrainingError.cancelledByObserver) {
            _ = try Self.train(data, Self.parameters(trees: 50)) { progress in
                calls += 1
                return progress.done < 3
            }
        }
        #expect(calls == 3)
    }

    /// An empty training set, an infinite feature and a binary target other than 0/1 are refused with a message.
    @Test func rejectsNonsense() {
        let empty = Dataset(featureNames: ["a"], values: [], target: [])
        #expect(throws: TrainingError.self) { _ = try Self.train(empty, Self.parameters(trees: 1)) }
        let infinite = Dataset(featureNames: ["a"], values: [1, .infinity], target: [0, 1])
        #expect(throws: TrainingError.self) { _ = try Self.train(infinite, Self.parameters(trees: 1)) }
        let data = Self.dataset(rows: 10, width: 1, feature: { row, _ in Double(row) }, target: { $0[0] < 5 ? 0 : 2 })
        let error = #expect(throws: TrainingError.self) {
            _ = try Self.train(data, Self.parameters(trees: 1), objective: .binary)
        }
        #expect(error?.message.contains("0/1") == true)
    }

    /// Fewer rows than two leaves need still train: every tree is a single leaf predicting the mean.
    @Test func tinyDataGivesSingleLeafTrees() throws {
        let data = Self.dataset(rows: 10, width: 1, feature: { row, _ in Double(row) }, target: { $0[0] })
        let (ensemble, rounds) = try Self.train(data, Self.parameters(trees: 3, minLeaf: 20))
        #expect(rounds == 3)
        #expect(ensemble.trees.allSatisfy { $0.nodeCount == 1 })
        #expect(abs(Self.predict(ensemble, [0]) - 4.5) < 1e-12)
    }
}
