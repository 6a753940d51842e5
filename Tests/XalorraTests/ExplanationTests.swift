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

    /// An explainer prepared once (what a server keeps per model version) gives exactly, bit for bit, what an
    /// unprepared one (the CLI's offline mode) gives, at every row count: below ``TreeSHAP/tableRows`` both recurse,
    /// and the prepared tables serve only calls whose own tables would hold the same trees (on 100 trees of depth 6,
    /// from about 19 rows; between 16 and that, a call builds its own as before).
    @Test func preparedTablesGiveTheUnpreparedValuesBitForBit() throws {
        let data = Self.data(rows: 2000, width: 8, seed: 21, missing: 0.1)
        let ensemble = try Self.trees(data, trees: 100, depth: 6)
        let imported = try XGBoostModel.load(try Self.fixture("binary-logistic.json")).ensemble
        let importedRows = try Self.csv("binary-logistic.input.csv").flatMap { $0 }
        for (label, model, rows) in [("trained", ensemble, data.values), ("imported", imported, importedRows)] {
            let plain = try TreeSHAP(model)
            let prepared = plain.prepared()
            #expect(prepared.preparedValues > 0 && plain.preparedValues == 0)
            let needed = try #require(prepared.prebuilt?.neededRows)
            #expect(needed > 0)
            let width = model.featureCount
            let available = rows.count / width
            for count in Set([1, 2, 15, TreeSHAP.tableRows, needed - 1, needed, needed + 1, 64, 300])
            where count > 0 && count <= available {
                let slice = Array(rows.prefix(count * width))
                func explain(_ shap: TreeSHAP) -> [Double] {
                    var output = [Double](repeating: 0, count: count * (width + 1))
                    slice.withUnsafeBufferPointer { rows in
                        output.withUnsafeMutableBufferPointer { output in shap.explain(rows: rows, into: output) }
                    }
                    return output
                }
                #expect(explain(prepared) == explain(plain), "\(label), \(count) rows")
            }
        }
    }

    /// The server's explainers (``ExplainerCache``): a version's explainer is kept from its first explanation and
    /// prepared by its first call of ``TreeSHAP/tableRows`` rows or more; every answer equals that of an API without
    /// kept explainers; a version deleted and trained again under the same number is never explained with the old
    /// one's trees.
    @Test func keptExplainersAnswerAsFreshOnes() async throws {
        let database = try AppDatabase.inMemory()
        let api = try DriftTests.api(database, DriftTests.admin)
        try await DriftTests.train(api, "gbm")
        func request(_ count: Int, offset: Double = 0) -> PredictRequest {
            var rows = FeatureMatrix(columns: ["a", "b"])
            for index in 0..<count { rows.append(row: [.double(Double(index) / 7 + offset), .double(Double(index % 5))]) }
            return .batch(rows)
        }
        func fresh(_ request: PredictRequest) async throws -> [[Double]] {
            try await DriftTests.api(database, DriftTests.admin).predictExplained(model: "gbm", request: request)
                .contributions
        }
        let single = PredictRequest.single([.double(3), .double(1)])
        #expect(try await api.predictExplained(model: "gbm", request: single).contributions == (try await fresh(single)))
        let unprepared = api.explainers.usage
        #expect(unprepared.versions == 1 && unprepared.prepared == 0 && unprepared.words > 0)
        let many = request(40)
        #expect(try await api.predictExplained(model: "gbm", request: many).contributions == (try await fresh(many)))
        let kept = api.explainers.usage
        #expect(kept.versions == 1 && kept.prepared == 1 && kept.words > unprepared.words)
        for (count, offset) in [(1, 0.5), (20, 0.25), (40, 0.0), (200, 1.5)] {
            let again = request(count, offset: offset)
            #expect(try await api.predictExplained(model: "gbm", request: again).contributions == (try await fresh(again)))
        }
        #expect(api.explainers.usage.versions == 1)
        // The same name and version number, other trees, made by another process (which this API hears nothing of):
        // the kept tables are not used for it.
        let before = try await api.predictExplained(model: "gbm", request: many).contributions
        let other = try DriftTests.api(database, DriftTests.admin)
        try await other.deleteModel("gbm")
        var parameters = Hyperparameters()
        parameters.trees = 12
        parameters.maxDepth = 4
        parameters.minSamplesLeaf = 3
        parameters.validFraction = 0
        _ = try await other.train(
            TrainingRequest(model: "gbm", kind: .gbdt, target: "y", data: DriftTests.training(300), parameters: parameters)
        ) { _ in }
        api.modelCache.clear()  // as its one-second limit would; the kept explainers stay
        let after = try await api.predictExplained(model: "gbm", request: many).contributions
        #expect(after == (try await fresh(many)))
        #expect(after != before)
        #expect(api.explainers.usage.versions == 2 && api.explainers.usage.prepared == 2)
        // Told that models changed elsewhere, it keeps them (the versions' keys say which trees they are of); told
        // that notifications were missed, it drops them all.
        api.invalidateCaches(.models)
        #expect(api.explainers.usage.versions == 2)
        api.invalidateCaches(.resync)
        #expect(api.explainers.usage.versions == 0 && api.explainers.usage.words == 0)
        // A model deleted here takes its explainers with it, and only its own (name, tenant).
        _ = try await api.predictExplained(model: "gbm", request: many)
        api.explainers.forget(tenant: DriftTests.admin.tenant, name: "gb")
        api.explainers.forget(tenant: "other", name: "gbm")
        #expect(api.explainers.usage.versions == 1)
        // A delete between a lookup and its keep (another request's, mid-way) wins: the explainer made is not kept.
        api.explainers.clear()
        let (found, model) = try await api.resolveModel(ModelReference("gbm"))
        let version = try #require(found), trained = try #require(model)
        _ = try api.explainers.explainer(for: version, rows: 1) { () throws(ExplanationError) in
            api.explainers.forget(tenant: DriftTests.admin.tenant, name: "gbm")
            return try ModelExplainer(trained)
        }
        #expect(api.explainers.usage.versions == 0)
        _ = try await api.predictExplained(model: "gbm", request: many)
        try await api.deleteModel("gbm")
        #expect(api.explainers.usage.versions == 0 && api.explainers.usage.words == 0)
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

    /// A chain of `depth` splits (each sends `x < i` to a leaf, the rest on), with consistent covers.
    static func chain(depth: Int) -> DecisionTree {
        var tree = DecisionTree(feature: [], threshold: [], left: [], right: [], defaultLeft: [], value: [])
        for level in 0..<depth {
            let node = tree.nodeCount
            tree.feature += [Int32(level % 3), -1]
            tree.threshold += [Double(level), 0]
            tree.left += [Int32(node + 1), -1]
            tree.right += [Int32(node + 2), -1]
            tree.defaultLeft += [true, false]
            tree.value += [0, Double(level)]
        }
        tree.feature.append(-1)
        tree.threshold.append(0)
        tree.left.append(-1)
        tree.right.append(-1)
        tree.defaultLeft.append(false)
        tree.value.append(-1)
        // Every leaf covers 1 row; a split covers its leaf and the rest of the chain.
        tree.cover = (0..<tree.nodeCount).map { node in node % 2 == 1 || node == tree.nodeCount - 1 ? 1 : Double(depth - node / 2 + 1) }
        return tree
    }

    /// Deep or huge models are refused with a message instead of holding a core: a tree deeper than 256 levels, or
    /// leaves whose paths add up to more than `TreeSHAP.maxRowWork` steps a row; a deep chain within the limits is
    /// explained exactly (its contributions sum to the margin).
    @Test func hugeModelsAreRefusedDeepOnesExplained() throws {
        let deep = TreeEnsemble(objective: .regression, baseMargin: 0, featureCount: 3, float32: false,
                                trees: [Self.chain(depth: 300)])
        #expect(throws: ExplanationError.self) { try TreeSHAP(deep) }
        let many = TreeEnsemble(objective: .regression, baseMargin: 0, featureCount: 3, float32: false,
                                trees: Array(repeating: Self.chain(depth: 250), count: 12))
        do {
            _ = try TreeSHAP(many)
            Issue.record("a model of 12 chains of 250 splits was explained")
        } catch {
            #expect(error.message.contains("too large to explain"))
        }
        let fine = TreeEnsemble(objective: .regression, baseMargin: 0.5, featureCount: 3, float32: false,
                                trees: Array(repeating: Self.chain(depth: 40), count: 3))
        #expect(fine.trees[0].problem(featureCount: 3) == nil)
        let rows = (0..<30).flatMap { [Double($0), Double($0 % 7), .nan] }
        for tables in [false, true] {
            let values = try Self.shap(fine, rows, tables: tables)
            for row in 0..<30 {
                let margin = Self.margin(.trees(fine), Array(rows[(row * 3)..<(row * 3 + 3)]))
                #expect(Self.close(values[(row * 4)..<(row * 4 + 4)].reduce(0, +), margin, relative: 1e-9, absolute: 1e-9))
            }
        }
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

    /// Gain and split-count importances come from the stored trees: the split counts add up to the split nodes, the
    /// feature the target depends on most has the most gain, a feature it ignores has none; trees without gains
    /// give counts only; the JSON names the features and reads back.
    @Test func importancesFromTheTrees() throws {
        var data = Self.data(rows: 500, width: 3, seed: 31)
        for row in 0..<data.rowCount { data.target[row] = 5 * data.values[row * 3] + data.values[row * 3 + 1] }
        let ensemble = try Self.trees(data, trees: 10, depth: 3)
        let importances = ensemble.importances
        let splitNodes = ensemble.trees.reduce(0) { $0 + $1.feature.filter { $0 >= 0 }.count }
        #expect(importances.splits.reduce(0, +) == splitNodes)
        let gain = try #require(importances.gain)
        #expect(gain[0] > gain[1] && gain[1] > 0 && gain[2] < gain[1], "\(gain)")
        var old = ensemble
        old.trees[0].gain = []
        #expect(old.importances.gain == nil && old.importances.splits == importances.splits)
        let names = ["x", "y", "z"]
        let json = importances.json(features: names)
        #expect(json["splits"]?["x"] == .int(importances.splits[0]))
        #expect(try FeatureImportances(json: json, features: names) == importances)
        let imported = try XGBoostModel.load(try Self.fixture("regression.json")).ensemble
        #expect(imported.importances.gain?.allSatisfy { $0 >= 0 } == true)
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

/// `predict --explain` offline and remote, and `"explain": true` over HTTP: the same contributions everywhere, summing
/// to the margin, the prediction logged exactly as without `explain`, and refusals that log nothing.
@Suite(.serialized)
struct ExplanationSurfaceTests {
    /// `y = 3a − 2b + (a > 10 ? 5 : 0)` on a 20 × 15 grid: quick to train in a debug build.
    private static let csv: String = {
        var lines = ["a,b,y"]
        for a in 0..<20 {
            for b in 0..<15 { lines.append("\(a),\(b),\(3 * a - 2 * b + (a > 10 ? 5 : 0))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    private func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The `{"a": x, "b": y, "bias": z}` of an answer as (names, values).
    private func contributions(_ value: JSONValue?) -> (names: [String], values: [Double])? {
        guard case .object(let members)? = value else { return nil }
        var values: [Double] = []
        for (_, member) in members {
            guard case .number(let number) = member else { return nil }
            values.append(number.doubleValue)
        }
        return (members.map(\.0), values)
    }

    private func number(_ value: JSONValue?) -> Double? {
        if case .number(let number)? = value { return number.doubleValue }
        return nil
    }

    /// One row explained by the CLI offline and remote and by `POST /predict` (single and batch, columns in another
    /// order) gives the same contributions, keyed by feature then `bias`, summing to the prediction (a regression's
    /// margin); each explained prediction is logged once, like any other.
    @Test func everySurfaceExplainsTheSame() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let data = try cli.write("grid.csv", Self.csv)
        let quick = ["--trees", "20", "--max-depth", "3", "--min-samples-leaf", "5"]
        #expect(try cli.run(["train", "gbm", "--data", data, "--target", "y"] + quick).status == 0)
        #expect(try cli.run(["train", "lin", "--data", data, "--target", "y", "--kind", "linear"]).status == 0)
        let remote = ["--url", server.url, "--token", try server.token()]
        for model in ["gbm", "lin"] {
            let before = try cli.storedPredictionCount()
            let offline = try cli.run(["predict", model, "12", "12", "--explain", "--json"])
            let online = try cli.run(["predict", model, "12", "12", "--explain", "--json"] + remote)
            #expect(offline.status == 0 && online.status == 0, "\(offline.stderr) \(online.stderr)")
            let body = try json(offline.stdout)
            #expect(body == (try json(online.stdout)), "\(model): \(offline.stdout) vs \(online.stdout)")
            let explained = try #require(contributions(body["contributions"]), "\(offline.stdout)")
            #expect(explained.names == ["a", "b", "bias"])
            let prediction = try #require(number(body["prediction"]))
            #expect(abs(explained.values.reduce(0, +) - prediction) < 1e-9 * max(1, abs(prediction)))
            #expect(explained.values[0] > 0 && explained.values[1] < 0, "\(explained)")

            let token = try server.token()
            let single = try await server.request(
                "POST", "/predict/\(model)", token: token, body: #"{"features": [12, 12], "explain": true}"#)
            #expect(single.status == 200, "\(single.body)")
            #expect(contributions(try json(single.body)["contributions"])?.values == explained.values)
            let batch = try await server.request(
                "POST", "/predict/\(model)", token: token,
                body: #"{"columns": ["b", "a"], "instances": [[12, 12], [1, 2]], "explain": true}"#)
            #expect(batch.status == 200, "\(batch.body)")
            let rows = try json(batch.body)["contributions"]?.arrayValue ?? []
            #expect(rows.count == 2)
            #expect(contributions(rows.first)?.names == ["a", "b", "bias"])
            #expect(contributions(rows.first)?.values == explained.values)
            // 1 + 1 + 1 + 2 rows, as without `explain`.
            #expect(try cli.storedPredictionCount() == before + 5)
        }

        let human = try cli.run(["predict", "gbm", "12", "12", "--explain"])
        #expect(human.status == 0)
        let lines = human.stdout.split(separator: "\n")
        #expect(lines.count == 5 && lines[1].hasPrefix("FEATURE") && lines[4].hasPrefix("base value"), "\(human.stdout)")

        let file = try cli.write("rows.csv", "b,a\n12,12\n1,2\n")
        for extra in [[], remote] {
            let batch = try cli.run(["predict", "gbm", "--file", file, "--explain"] + extra)
            #expect(batch.status == 0, "\(batch.stderr)")
            let csvLines = batch.stdout.split(separator: "\n")
            #expect(csvLines.first == "prediction,a,b,bias" && csvLines.count == 3, "\(batch.stdout)")
            for line in csvLines.dropFirst() {
                let cells = line.split(separator: ",").compactMap { Double($0) }
                #expect(cells.count == 4 && abs(cells[1...].reduce(0, +) - cells[0]) < 1e-9 * max(1, abs(cells[0])))
            }
            let ndjson = try cli.run(["predict", "gbm", "--file", file, "--explain", "--json"] + extra)
            let first = try json(String(ndjson.stdout.split(separator: "\n").first ?? ""))
            #expect(contributions(first["contributions"])?.values == (try json(
                try cli.run(["predict", "gbm", "12", "12", "--explain", "--json"]).stdout))["contributions"].flatMap {
                    contributions($0)?.values })
        }
    }

    /// A model stored without covers (as every model was before them) still predicts; explaining it is a 422 that
    /// says to retrain or re-import, offline and over HTTP, and logs nothing. `"explain"` must be a boolean.
    @Test func unexplainableModelsAndBadFlagsLogNothing() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let data = try cli.write("grid.csv", Self.csv)
        #expect(try cli.run(["train", "gbm", "--data", data, "--target", "y", "--trees", "5"]).status == 0)
        let exported = try cli.run(["models", "export", "gbm", "-"])
        #expect(exported.status == 0)
        let stripped = exported.stdout
            .replacingOccurrences(of: #","cover":\[[^\]]*\]"#, with: "", options: .regularExpression)
        #expect(!stripped.contains("cover") && stripped.contains("threshold"))
        let file = try cli.write("old.json", stripped)
        #expect(try cli.run(["models", "import", "old", file]).status == 0)
        #expect(try cli.run(["predict", "old", "12", "12"]).status == 0)
        let before = try cli.storedPredictionCount()
        let refused = try cli.run(["predict", "old", "12", "12", "--explain"])
        #expect(refused.status != 0 && refused.stderr.contains("retrain or re-import"), "\(refused.stderr)")
        let token = try server.token()
        let http = try await server.request(
            "POST", "/predict/old", token: token, body: #"{"instances": [[12, 12]], "explain": true}"#)
        #expect(http.status == 422 && http.body.contains("retrain or re-import"), "\(http.body)")
        let flag = try await server.request(
            "POST", "/predict/gbm", token: token, body: #"{"features": [12, 12], "explain": "yes"}"#)
        #expect(flag.status == 422 && flag.body.contains("explain"), "\(flag.body)")
        #expect(try cli.storedPredictionCount() == before)
    }
}
