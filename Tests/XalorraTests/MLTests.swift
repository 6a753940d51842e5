#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import XalorraML

/// Datasets from CSV, the seeded split, ridge and logistic fits, metrics and the trainer's checks.
struct MLTests {
    private func csv(_ text: String) throws -> FeatureMatrix {
        try CSVReader.read(Array(text.utf8))
    }

    /// The target column is chosen by name; the others are the features, in file order, empty cells NaN.
    @Test func datasetTakesTargetByName() throws {
        let data = try Dataset(csv("a,y,b\n1,0,2\n3,1,\n"), target: "y")
        #expect(data.featureNames == ["a", "b"])
        #expect(data.target == [0, 1])
        #expect(Array(data.values[0..<3]) == [1, 2, 3])
        #expect(data.values[3].isNaN)
    }

    /// A target column that is not in the header is named, with the columns there are.
    @Test func missingTargetColumnIsNamed() throws {
        let matrix = try csv("a,y,b\n1,0,2\n")
        #expect(throws: DatasetError(line: 1, reason: "no target column 'z'; the columns are 'a', 'y', 'b'")) {
            try Dataset(matrix, target: "z")
        }
    }

    /// An empty target cell names its line in the file, counting the blank lines the reader skipped.
    @Test func emptyTargetNamesItsLine() throws {
        let matrix = try csv("a,y\n1,2\n\n3,\n")
        #expect(throws: DatasetError(line: 4, column: "y", reason: "the target is empty; every row needs one")) {
            try Dataset(matrix, target: "y")
        }
        var built = FeatureMatrix(columns: ["a", "y"])
        built.append(row: [.int(1), .int(2)])
        built.append(row: [.int(3), nil])
        #expect(throws: DatasetError(line: 3, column: "y", reason: "the target is empty; every row needs one")) {
            try Dataset(built, target: "y")
        }
    }

    /// A file with no data rows, or with the target as its only column, is refused.
    @Test func emptyDatasetsAreRefused() throws {
        #expect(throws: DatasetError(line: 2, reason: "no data rows after the header")) {
            try Dataset(csv("a,y\n"), target: "y")
        }
        #expect(throws: DatasetError(line: 1, reason: "no feature columns: 'y' is the only column")) {
            try Dataset(csv("y\n1\n"), target: "y")
        }
    }

    /// SplitMix64 gives the reference sequence, so seeded splits are the same everywhere.
    @Test func splitMixMatchesReference() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    /// A split has the rounded validation size, covers every row once, and depends only on the seed.
    @Test func splitIsSeededAndSized() {
        let data = Dataset(featureNames: ["x"], values: (0..<10).map(Double.init), target: (0..<10).map(Double.init))
        let (train, valid) = data.split(validFraction: 0.25, seed: 7)
        #expect(valid.rowCount == 3)  // 2.5 rounds to 3
        #expect(train.rowCount == 7)
        #expect((train.target + valid.target).sorted() == data.target)
        #expect(train.values == train.target)
        let again = data.split(validFraction: 0.25, seed: 7)
        #expect(again.train == train && again.valid == valid)
        let other = data.split(validFraction: 0.25, seed: 8)
        #expect(other.train.target + other.valid.target != train.target + valid.target)
        let none = data.split(validFraction: 0, seed: 7)
        #expect(none.valid.rowCount == 0 && none.train.rowCount == 10)
    }

    /// Ridge with l2 = 0 recovers exact coefficients, and l2 shrinks them as the closed form says.
    @Test func ridgeRecoversAndShrinks() throws {
        var values: [Double] = []
        var target: [Double] = []
        for i in 0..<20 {
            let x1 = Double(i)
            let x2 = Double((i * 7) % 5) * 1000
            values += [x1, x2]
            target.append(3 + 2 * x1 - 0.001 * x2)
        }
        let data = Dataset(featureNames: ["x1", "x2"], values: values, target: target)
        let exact = try LinearRegression.fit(data, l2: 0)
        #expect(abs(exact.weights[0] - 2) < 1e-9)
        #expect(abs(exact.weights[1] + 0.001) < 1e-12)
        #expect(abs(exact.intercept - 3) < 1e-8)
        // One feature: w = Σx̃ỹ / (Σx̃² + l2) = 4 / (2 + 2) = 1, intercept = ȳ − w·x̄ = 4 − 2 = 2.
        let small = Dataset(featureNames: ["x"], values: [1, 2, 3], target: [2, 4, 6])
        let shrunk = try LinearRegression.fit(small, l2: 2)
        #expect(abs(shrunk.weights[0] - 1) < 1e-12)
        #expect(abs(shrunk.intercept - 2) < 1e-12)
    }

    /// Collinear and constant columns with l2 = 0 neither crash nor give non-finite predictions.
    @Test func ridgeSurvivesCollinearColumns() throws {
        var values: [Double] = []
        var target: [Double] = []
        for i in 0..<10 {
            let x = Double(i)
            values += [x, 2 * x, 5]
            target.append(1 + x)
        }
        let data = Dataset(featureNames: ["x", "twice", "constant"], values: values, target: target)
        let model = try LinearRegression.fit(data, l2: 0)
        #expect(model.weights.allSatisfy { $0.isFinite })
        #expect(model.weights[2] == 0)
        for i in 0..<10 {
            let prediction = [Double(i), 2 * Double(i), 5].withUnsafeBufferPointer { model.predict($0) }
            #expect(abs(prediction - (1 + Double(i))) < 1e-6)
        }
    }

    /// Linear models refuse missing values, naming the column and suggesting gbdt.
    @Test func linearRefusesMissingValues() {
        let data = Dataset(featureNames: ["a", "b"], values: [1, 2, 3, .nan], target: [1, 2])
        let message = "linear models need every value; column 'b' has missing values; fill them or use --kind gbdt"
        #expect(throws: TrainingError(message)) { try LinearRegression.fit(data, l2: 1) }
    }

    /// Logistic on one 0/1 feature finds the hand-computed optimum: logit of each group's share of ones.
    @Test func logisticMatchesHandComputedOptimum() throws {
        // x = 0: one 1 in four (p = 1/4); x = 1: three in four (p = 3/4). So b = −ln 3 and w = 2 ln 3.
        let data = Dataset(
            featureNames: ["x"], values: [0, 0, 0, 0, 1, 1, 1, 1], target: [0, 0, 0, 1, 0, 1, 1, 1]
        )
        let (model, iterations) = try LogisticRegression.fit(data, valid: nil, l2: 0) { _ in true }
        #expect(abs(model.intercept + log(3)) < 1e-8)
        #expect(abs(model.weights[0] - 2 * log(3)) < 1e-8)
        #expect(iterations < 20)
    }

    /// With l2 > 0 the fit is stationary: the penalised gradient is zero, the intercept unpenalised.
    @Test func logisticWithL2IsStationary() throws {
        var values: [Double] = []
        var target: [Double] = []
        for i in 0..<40 {
            let x1 = Double(i % 9) - 4
            let x2 = Double((i * 5) % 7) * 10
            values += [x1, x2]
            target.append(x1 + x2 / 30 + Double(i % 3) - 2 > 0 ? 1 : 0)
        }
        let data = Dataset(featureNames: ["x1", "x2"], values: values, target: target)
        let l2 = 3.0
        let (model, _) = try LogisticRegression.fit(data, valid: nil, l2: l2) { _ in true }
        var gradient = [0.0, 0.0, 0.0]
        for row in 0..<40 {
            let p = Array(values[row * 2..<row * 2 + 2]).withUnsafeBufferPointer { model.predict($0) }
            let residual = p - target[row]
            gradient[0] += residual
            gradient[1] += residual * values[row * 2]
            gradient[2] += residual * values[row * 2 + 1]
        }
        gradient[1] += l2 * model.weights[0]
        gradient[2] += l2 * model.weights[1]
        #expect(gradient.allSatisfy { abs($0) < 1e-6 })
    }

    /// Separable data with l2 = 0 stops with finite weights that classify every row, reporting each iteration.
    @Test func logisticSeparableStaysFinite() throws {
        let data = Dataset(featureNames: ["x"], values: [-2, -1, 1, 2], target: [0, 0, 1, 1])
        var reports: [TrainingProgress] = []
        let (model, iterations) = try LogisticRegression.fit(data, valid: data, l2: 0) {
            reports.append($0)
            return true
        }
        #expect(model.weights[0].isFinite && model.weights[0] > 0 && model.intercept.isFinite)
        #expect(iterations <= LogisticRegression.maxIterations)
        #expect(reports.count == iterations && reports.last?.total == LogisticRegression.maxIterations)
        #expect((reports.last?.validationLoss ?? 1) < 1e-6)
        let metrics = Trainer.measure(.linear(model), on: data, objective: .binary)
        #expect(metrics.accuracy == 1)
    }

    /// Logistic refuses a target other than 0/1, and one with a single class.
    @Test func logisticNeedsBinaryTarget() {
        let numeric = Dataset(featureNames: ["x"], values: [1, 2], target: [0, 2])
        let message = "logistic regression needs a target of 0 and 1, but it has 2; "
            + "use --kind linear or gbdt for a numeric target"
        #expect(throws: TrainingError(message)) { try LogisticRegression.fit(numeric, valid: nil, l2: 1) { _ in true } }
        let single = Dataset(featureNames: ["x"], values: [1, 2], target: [1, 1])
        #expect(throws: TrainingError("logistic regression needs both classes, but every training target is 1")) {
            try LogisticRegression.fit(single, valid: nil, l2: 1) { _ in true }
        }
    }

    /// Regression metrics match hand-computed RMSE, MAE and R².
    @Test func regressionMetrics() throws {
        let metrics = Metrics.regression(predictions: [1, 2, 3], targets: [1, 2, 5])
        #expect(metrics.rows == 3)
        #expect(abs(try #require(metrics.rmse) - (4.0 / 3).squareRoot()) < 1e-12)
        #expect(abs(try #require(metrics.mae) - 2.0 / 3) < 1e-12)
        #expect(abs(try #require(metrics.r2) - 7.0 / 13) < 1e-12)  // SS_res = 4, SS_tot = 26/3
        #expect(Metrics.regression(predictions: [1, 2], targets: [3, 3]).r2 == nil)
    }

    /// AUC counts tied probabilities half and is nil with one class; accuracy puts exactly 0.5 in class 0.
    @Test func classificationMetrics() throws {
        // Pairs (positive, negative): 0.4 > 0.1, 0.4 = 0.4 (half), 0.8 > both: 3.5 of 4.
        let metrics = Metrics.classification(probabilities: [0.1, 0.4, 0.4, 0.8], targets: [0, 0, 1, 1])
        #expect(metrics.auc == 0.875)
        #expect(metrics.accuracy == 0.75)
        let expected = -(log(0.9) + log(0.6) + log(0.4) + log(0.8)) / 4
        #expect(abs(try #require(metrics.logLoss) - expected) < 1e-12)
        #expect(Metrics.classification(probabilities: [0.2, 0.7], targets: [1, 1]).auc == nil)
        #expect(Metrics.classification(probabilities: [0.5], targets: [1]).accuracy == 0)
    }

    /// Log-loss clips probabilities to [1e-15, 1 − 1e-15], so certain mistakes cost −ln 1e-15, not infinity.
    @Test func logLossIsClipped() throws {
        let wrong = Metrics.classification(probabilities: [0, 1], targets: [1, 0])
        #expect(abs(try #require(wrong.logLoss) + log(1e-15)) < 1e-9)
        let right = Metrics.classification(probabilities: [1, 0], targets: [1, 0])
        let loss = try #require(right.logLoss)
        #expect(loss > 0 && loss < 1e-14)
    }

    /// The trainer lists every invalid hyperparameter, refuses xgboost, and needs rows left for training.
    @Test func trainerValidates() {
        let data = Dataset(featureNames: ["x"], values: [1, 2, 3], target: [1, 2, 3])
        var parameters = Hyperparameters()
        parameters.trees = 0
        parameters.l2 = -1
        let message = "invalid hyperparameters: trees: must be between 1 and 10000; "
            + "l2: must be a finite number, at least 0"
        #expect(throws: TrainingError(message)) { try Trainer.train(.linear, on: data, parameters: parameters) }
        #expect(throws: TrainingError.self) { try Trainer.train(.xgboost, on: data, parameters: Hyperparameters()) }
        var tooFew = Hyperparameters()
        tooFew.validFraction = 0.9
        let one = Dataset(featureNames: ["x"], values: [1], target: [1])
        #expect(throws: TrainingError.self) { try Trainer.train(.linear, on: one, parameters: tooFew) }
    }

    /// `auto` is binary only when every target is 0 or 1 and both occur; explicit objectives pass through.
    @Test func autoObjectiveResolves() {
        #expect(Trainer.resolve(.auto, target: [0, 1, 1]) == .binary)
        #expect(Trainer.resolve(.auto, target: [1, 1]) == .regression)
        #expect(Trainer.resolve(.auto, target: [0, 1, 0.5]) == .regression)
        #expect(Trainer.resolve(.regression, target: [0, 1]) == .regression)
        #expect(Trainer.resolve(.binary, target: [0, 1]) == .binary)
    }

    /// Training linear and logistic end to end fills the result's objective and validation metrics, and the
    /// observer can cancel.
    @Test func trainerFitsLinearAndLogistic() throws {
        let xs = (0..<30).map { Double($0) }
        let linear = Dataset(featureNames: ["x"], values: xs, target: xs.map { 1 + 2 * $0 })
        var parameters = Hyperparameters()
        parameters.l2 = 0
        let fitted = try Trainer.train(.linear, on: linear, parameters: parameters)
        #expect(fitted.objective == .regression && fitted.iterations == 1)
        #expect(fitted.metrics?.rows == 6)
        #expect(try #require(fitted.metrics?.rmse) < 1e-9)
        #expect(throws: TrainingError.cancelledByObserver) {
            try Trainer.train(.linear, on: linear, parameters: parameters) { _ in false }
        }
        // Mostly 1 above 15, with a few exceptions on each side so the classes overlap.
        let labels = xs.map { x -> Double in [3, 9, 20, 26].contains(x) ? (x < 15 ? 1 : 0) : (x < 15 ? 0 : 1) }
        let classes = Dataset(featureNames: ["x"], values: xs, target: labels)
        parameters.l2 = 1
        let logistic = try Trainer.train(.logistic, on: classes, parameters: parameters)
        #expect(logistic.objective == .binary)
        #expect(logistic.metrics?.rmse == nil)
        #expect(try #require(logistic.metrics?.accuracy) >= 0.5)
        #expect(logistic.iterations > 0)
        #expect(throws: TrainingError.cancelledByObserver) {
            try Trainer.train(.logistic, on: classes, parameters: parameters) { _ in false }
        }
    }

    /// gbdt with `auto` trains a 0/1 target as binary (classification metrics) and a numeric one as regression.
    @Test func gbdtAutoResolvesObjective() throws {
        let xs = (0..<40).map { Double($0) }
        let data = Dataset(featureNames: ["x"], values: xs, target: xs.map { $0 < 20 ? 0 : 1 })
        var parameters = Hyperparameters()
        parameters.trees = 3
        parameters.minSamplesLeaf = 2
        parameters.validFraction = 0.25
        let result = try Trainer.train(.gbdt, on: data, parameters: parameters)
        #expect(result.objective == .binary)
        #expect(result.metrics?.logLoss != nil && result.metrics?.rows == 10)
        let numeric = Dataset(featureNames: ["x"], values: xs, target: xs.map { $0 * 2 })
        let regression = try Trainer.train(.gbdt, on: numeric, parameters: parameters)
        #expect(regression.objective == .regression)
        #expect(regression.metrics?.rmse != nil && regression.metrics?.logLoss == nil)
    }
}
