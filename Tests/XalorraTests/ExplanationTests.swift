import Foundation
import Testing
@testable import XalorraCore
@testable import XalorraML

/// Explanations (issue 16): exact TreeSHAP on trees, `weight × (x − mean)` on linear models, each row's contributions
/// plus bias equal to its margin, equal to XGBoost's `pred_contribs` on imported models and to brute-force Shapley
/// values on our own trees.
@Suite struct ExplanationTests {
    // MARK: Helpers

    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/shap/\(name)", withExtension: nil))
        return Array(try Data(contentsOf: url))
    }

    /// The rows of a CSV fixture, an empty cell as NaN.
    static func csv(_ name: String) throws -> [[Double]] {
        let matrix = try CSVReader.read(try fixture(name))
        return (0..<matrix.rowCount).map { matrix.row($0).map { $0?.doubleValue ?? .nan } }
    }

    /// Rows of uniform features in [0, 1), about `missing` of them NaN, and a target with interactions.
    static func data(rows count: Int, width: Int, seed: UInt64, missing: Double = 0, binary: Bool = false) -> Dataset {
        var generator = SplitMix64(seed: seed)
        var values: [Double] = []
        var targets: [Double] = []
        for _ in 0..<count {
            var row = (0..<width).map { _ in Double.random(in: 0..<1, using: &generator) }
            let score = 2 * row[0] - row[1] * row[min(2, width - 1)] + (row[width - 1] > 0.5 ? 1 : 0)
                + Double.random(in: -0.1..<0.1, using: &generator)
            for index in row.indices where Double.random(in: 0..<1, using: &generator) < missing { row[index] = .nan }
            values += row
            targets.append(binary ? (score > 0.9 ? 1 : 0) : score)
        }
        return Dataset(featureNames: (0..<width).map { "f\($0)" }, values: values, target: targets)
    }

    static func trees(
        _ data: Dataset, trees: Int, depth: Int, objective: Hyperparameters.Objective = .regression
    ) throws -> TreeEnsemble {
        var parameters = Hyperparameters()
        parameters.trees = trees
        parameters.maxDepth = depth
        parameters.learningRate = 0.3
        parameters.minSamplesLeaf = 3
        parameters.validFraction = 0
        return try GradientBoosting.train(
            train: data, valid: nil, parameters: parameters, objective: objective, observer: { _ in true }
        ).ensemble
    }

    static func margin(_ model: TrainedModel, _ row: [Double]) -> Double {
        row.withUnsafeBufferPointer { model.margin($0) }
    }

    /// The Shapley values of one tree for `row` by definition: every coalition `S` of features, its value the
    /// expectation of the tree when the features in `S` follow the row and the others are integrated out by the
    /// children's covers (the path-dependent conditional expectation TreeSHAP computes); the last value is the
    /// tree's expectation with no feature known.
    static func bruteForce(_ tree: DecisionTree, _ row: [Double], width: Int) -> [Double] {
        func value(_ node: Int, _ known: Int) -> Double {
            let feature = Int(tree.feature[node])
            guard feature >= 0 else { return tree.value[node] }
            let left = Int(tree.left[node]), right = Int(tree.right[node])
            if known & (1 << feature) != 0 {
                let x = row[feature]
                let goesLeft = x.isNaN ? tree.defaultLeft[node] : x < tree.threshold[node]
                return value(goesLeft ? left : right, known)
            }
            return (value(left, known) * tree.cover[left] + value(right, known) * tree.cover[right]) / tree.cover[node]
        }
        func factorial(_ n: Int) -> Double { n < 2 ? 1 : (2...n).reduce(1.0) { $0 * Double($1) } }
        var phi = [Double](repeating: 0, count: width + 1)
        for feature in 0..<width {
            for coalition in 0..<(1 << width) where coalition & (1 << feature) == 0 {
                let size = coalition.nonzeroBitCount
                let weight = factorial(size) * factorial(width - size - 1) / factorial(width)
                phi[feature] += weight * (value(0, coalition | (1 << feature)) - value(0, coalition))
            }
        }
        phi[width] = value(0, 0)
        return phi
    }

    static func close(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 1e-9) -> Bool {
        abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))
    }

    // MARK: Correctness

    /// TreeSHAP's values for `rows` by the recursive algorithm (`tables: false`) or by leaf tables (`true`).
    static func shap(_ ensemble: TreeEnsemble, _ rows: [Double], tables: Bool) throws -> [Double] {
        let shap = try TreeSHAP(ensemble)
        var output = [Double](repeating: 0, count: rows.count / ensemble.featureCount * (ensemble.featureCount + 1))
        rows.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { output in shap.explain(rows: rows, into: output, tables: tables) }
        }
        return output
    }

    /// On small trees trained here (missing values included, a feature tested twice on a path), TreeSHAP, recursive
    /// and by leaf tables, equals Shapley values computed by brute force over every coalition of features, tree by
    /// tree and summed.
    @Test(arguments: [false, true])
    func treeSHAPEqualsBruteForceShapley(tables: Bool) throws {
        let width = 5
        let data = Self.data(rows: 400, width: width, seed: 7, missing: 0.1)
        let ensemble = try Self.trees(data, trees: 6, depth: 5)
        #expect(ensemble.trees.allSatisfy { $0.cover.count == $0.nodeCount && $0.gain.count == $0.nodeCount })
        let probes = Self.data(rows: 25, width: width, seed: 99, missing: 0.3)
        let got = try Self.shap(ensemble, probes.values, tables: tables)
        for index in 0..<probes.rowCount {
            let row = Array(probes.values[(index * width)..<((index + 1) * width)])
            var expected = [Double](repeating: 0, count: width + 1)
            expected[width] = ensemble.baseMargin
            for tree in ensemble.trees {
                for (slot, value) in Self.bruteForce(tree, row, width: width).enumerated() { expected[slot] += value }
            }
            for slot in 0...width {
                let value = got[index * (width + 1) + slot]
                #expect(Self.close(value, expected[slot]), "row \(index) slot \(slot): \(value) vs \(expected[slot])")
            }
        }
    }

    /// Leaf tables give the recursive algorithm's values on 100-tree, depth-6 trees, and on imported XGBoost trees.
    @Test func leafTablesEqualTheRecursiveAlgorithm() throws {
        let data = Self.data(rows: 2000, width: 8, seed: 21, missing: 0.1)
        let ensemble = try Self.trees(data, trees: 100, depth: 6)
        let imported = try XGBoostModel.load(try Self.fixture("binary-logistic.json")).ensemble
        let importedRows = try Self.csv("binary-logistic.input.csv").flatMap { $0 }
        for (model, rows) in [(ensemble, Array(data.values.prefix(8 * 50))), (imported, importedRows)] {
            let recursive = try Self.shap(model, rows, tables: false)
            let tabled = try Self.shap(model, rows, tables: true)
            for (index, (a, b)) in zip(recursive, tabled).enumerated() {
                #expect(Self.close(a, b, relative: 1e-9, absolute: 1e-12), "value \(index): \(a) vs \(b)")
            }
        }
    }

    /// Every kind's contributions plus bias equal the row's margin (the score before the logistic function): trees
    /// for regression and log-loss, linear and logistic regression, an imported XGBoost model.
    @Test func contributionsSumToTheMargin() throws {
        let width = 4
        let regression = Self.data(rows: 300, width: width, seed: 3)
        let binary = Self.data(rows: 300, width: width, seed: 4, binary: true)
        let withMissing = Self.data(rows: 300, width: width, seed: 5, missing: 0.2)
        var models: [(String, TrainedModel, Dataset)] = [
            ("gbdt", .trees(try Self.trees(withMissing, trees: 30, depth: 6)), withMissing),
            ("gbdt binary", .trees(try Self.trees(binary, trees: 20, depth: 3, objective: .binary)), binary),
            ("linear", .linear(try LinearRegression.fit(regression, l2: 0.1)), regression),
        ]
        var noValidation = Hyperparameters()
        noValidation.validFraction = 0
        let logistic = try Trainer.train(.logistic, on: binary, parameters: noValidation).model
        models.append(("logistic", logistic, binary))
        let imported = try XGBoostModel.load(try Self.fixture("regression.json")).ensemble
        let importedRows = try Self.csv("regression.input.csv").flatMap { $0 }
        models.append(("xgboost", .trees(imported), Dataset(
            featureNames: (0..<imported.featureCount).map { "f\($0)" }, values: importedRows,
            target: [Double](repeating: 0, count: importedRows.count / imported.featureCount))))
        for (name, model, data) in models {
            let explanations = try ModelExplainer(model).explain(data.values)
            let stride = data.featureCount + 1
            for row in 0..<data.rowCount {
                let features = Array(data.values[(row * data.featureCount)..<((row + 1) * data.featureCount)])
                let sum = explanations[(row * stride)..<((row + 1) * stride)].reduce(0, +)
                let margin = Self.margin(model, features)
                #expect(Self.close(sum, margin, relative: 1e-9, absolute: 1e-9), "\(name) row \(row): \(sum) vs \(margin)")
            }
        }
    }

    /// On imported XGBoost models (missing values in the rows), the contributions and bias equal XGBoost's own
    /// `Booster.predict(pred_contribs=True)` to 1e-5 relative (Fixtures/shap/generate.py, checked there against shap).
    @Test(arguments: ["regression", "binary-logistic"])
    func matchesXGBoostPredContribs(name: String) throws {
        let ensemble = try XGBoostModel.load(try Self.fixture("\(name).json")).ensemble
        let rows = try Self.csv("\(name).input.csv")
        let expected = try Self.csv("\(name).expected.csv")
        #expect(rows.count == expected.count && rows.count > 0)
        #expect(rows.contains { $0.contains(where: \.isNaN) })
        let explainer = try ModelExplainer(.trees(ensemble))
        let scale = expected.flatMap { $0 }.map(abs).max() ?? 1
        // Row by row (the recursive algorithm) and all at once (leaf tables).
        let together = explainer.explain(rows.flatMap { $0 })
        for (index, (row, want)) in zip(rows, expected).enumerated() {
            let got = explainer.explain(row)
            #expect(got.count == want.count)
            #expect(Array(together[(index * want.count)..<((index + 1) * want.count)]).elementsEqual(got) {
                Self.close($0, $1, relative: 1e-9, absolute: 1e-12)
            })
            for (slot, (a, b)) in zip(got, want).enumerated() {
                // Relative 1e-5, with a floor at 1e-5 of the largest contribution: XGBoost sums in float.
                #expect(Self.close(a, b, relative: 1e-5, absolute: 1e-5 * scale), "\(name) row \(index) slot \(slot): \(a) vs \(b)")
            }
        }
    }

    /// A model stored before covers (trees) or training means (linear) were kept still loads and predicts, and
    /// explaining it is refused with a message that says to retrain or re-import it.
    @Test func oldModelsWithoutCoversPredictButAreNotExplained() throws {
        let data = Self.data(rows: 200, width: 3, seed: 11)
        let ensemble = try Self.trees(data, trees: 5, depth: 3)
        var old = ensemble
        old.trees = old.trees.map { tree in
            var tree = tree
            tree.cover = []
            tree.gain = []
            return tree
        }
        let text = String(decoding: ModelDocument.encode(.trees(old)), as: UTF8.self)
        #expect(!text.contains("cover") && !text.contains("gain"))
        let decoded = try ModelDocument.decode(Array(text.utf8))
        let row = [0.2, 0.7, 0.4]
        #expect(row.withUnsafeBufferPointer { decoded.predict($0) } == row.withUnsafeBufferPointer { ensemble.predict($0) })
        #expect(throws: ExplanationError.self) { try ModelExplainer(decoded) }
        do {
            _ = try ModelExplainer(decoded)
        } catch {
            #expect(error.message.contains("retrain or re-import"))
        }
        let linear = try LinearRegression.fit(data, l2: 0)
        let oldLinear = TrainedModel.linear(LinearModel(weights: linear.weights, intercept: linear.intercept, link: .identity))
        #expect(try ModelDocument.decode(ModelDocument.encode(oldLinear)) == oldLinear)
        #expect(throws: ExplanationError.self) { try ModelExplainer(oldLinear) }
    }

    /// Covers, gains and training means survive the model document (what the store keeps and exports carry), and
    /// a document whose covers are damaged is refused.
    @Test func coversAndMeansRoundTripTheDocument() throws {
        let data = Self.data(rows: 200, width: 3, seed: 12, missing: 0.1)
        let ensemble = TrainedModel.trees(try Self.trees(data, trees: 4, depth: 3))
        #expect(try ModelDocument.decode(ModelDocument.encode(ensemble)) == ensemble)
        let linear = TrainedModel.linear(try LinearRegression.fit(Self.data(rows: 100, width: 3, seed: 2), l2: 0.5))
        guard case .linear(let fitted) = linear else { return }
        #expect(fitted.means.count == 3)
        #expect(try ModelDocument.decode(ModelDocument.encode(linear)) == linear)
        var text = String(decoding: ModelDocument.encode(ensemble), as: UTF8.self)
        text = text.replacingOccurrences(of: #""cover":["#, with: #""cover":[-1,"#)
        #expect(throws: ModelFormatError.self) { try ModelDocument.decode(Array(text.utf8)) }
    }

    /// An XGBoost import reads `sum_hessian` into the covers and `loss_changes` into the gains, renumbered with the
    /// nodes (the root's cover is every training row for squared error).
    @Test func xgboostImportReadsCovers() throws {
        let ensemble = try XGBoostModel.load(try Self.fixture("regression.json")).ensemble
        #expect(ensemble.trees.allSatisfy { $0.cover.count == $0.nodeCount && $0.gain.count == $0.nodeCount })
        #expect(ensemble.trees[0].cover[0] == 2000)
        for tree in ensemble.trees {
            for node in 0..<tree.nodeCount where tree.feature[node] >= 0 {
                let children = tree.cover[Int(tree.left[node])] + tree.cover[Int(tree.right[node])]
                #expect(Self.close(children, tree.cover[node], relative: 1e-5))
            }
        }
    }
}
