import Foundation
import Testing
@testable import XalorraCore
import XalorraML

/// XGBoost JSON models load into tree ensembles that predict what XGBoost predicts, and anything unsupported or
/// damaged is refused with a `ModelFormatError`, never a crash.
struct XGBoostImportTests {
    /// The fixtures with inputs and XGBoost's outputs (see Fixtures/xgboost/README.md).
    static let fixtures = [
        "regression", "binary-logistic", "reg-logistic", "logitraw", "named", "dart",
        "v17-regression", "v17-binary-logistic",
    ]

    private static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/xgboost/\(name)", withExtension: nil))
        return Array(try Data(contentsOf: url))
    }

    private static func rows(_ name: String) throws -> (columns: [String], rows: [[Double]]) {
        let matrix = try CSVReader.read(try fixture("\(name).input.csv"))
        let rows = (0..<matrix.rowCount).map { matrix.row($0).map { $0?.doubleValue ?? .nan } }
        return (matrix.columns, rows)
    }

    private static func predict(_ ensemble: TreeEnsemble, _ row: [Double]) -> Double {
        row.withUnsafeBufferPointer { ensemble.predict($0) }
    }

    /// The message `load` refuses `bytes` with, or nil when it loads them.
    private static func refusal(_ bytes: [UInt8]) -> String? {
        do {
            _ = try XGBoostModel.load(bytes)
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: Matching XGBoost

    /// Every fixture predicts XGBoost's own outputs to 1e-5, missing values and threshold ties included.
    @Test(arguments: fixtures)
    func matchesXGBoost(name: String) throws {
        let model = try XGBoostModel.load(try Self.fixture("\(name).json"))
        let (_, rows) = try Self.rows(name)
        let expected = String(decoding: try Self.fixture("\(name).expected.txt"), as: UTF8.self)
            .split(separator: "\n").map { Double($0)! }
        #expect(rows.count == expected.count)
        #expect(rows.allSatisfy { $0.count == model.ensemble.featureCount })
        #expect(model.ensemble.float32)
        for (index, (row, want)) in zip(rows, expected).enumerated() {
            let got = Self.predict(model.ensemble, row)
            #expect(abs(got - want) <= 1e-5, "\(name) row \(index): \(got), XGBoost \(want)")
        }
    }

    /// The batch entry point gives the same predictions as one row at a time.
    @Test func batchMatchesSingleRows() throws {
        let ensemble = try XGBoostModel.load(try Self.fixture("binary-logistic.json")).ensemble
        let rows = try Self.rows("binary-logistic").rows
        var output = [Double](repeating: 0, count: rows.count)
        rows.flatMap { $0 }.withUnsafeBufferPointer { flat in
            output.withUnsafeMutableBufferPointer { ensemble.predict(rows: flat, into: $0) }
        }
        #expect(output == rows.map { Self.predict(ensemble, $0) })
    }

    /// Logistic objectives become `.logistic` (probabilities); squared error and logitraw give the margin.
    @Test func objectivesMapToTheirOutputs() throws {
        let cases: [(String, TreeEnsemble.Objective)] = [
            ("regression", .regression), ("binary-logistic", .logistic), ("reg-logistic", .logistic),
            ("logitraw", .regression), ("dart", .regression), ("v17-binary-logistic", .logistic),
        ]
        for (name, objective) in cases {
            #expect(try XGBoostModel.load(try Self.fixture("\(name).json")).ensemble.objective == objective, "\(name)")
        }
    }

    /// A model trained with feature names returns them, in the order of the CSV header XGBoost was given.
    @Test func featureNamesAreRead() throws {
        let model = try XGBoostModel.load(try Self.fixture("named.json"))
        #expect(model.featureNames == ["age", "income", "tenure_months", "score", "visits"])
        #expect(model.featureNames == (try Self.rows("named").columns))
        #expect(try XGBoostModel.load(try Self.fixture("regression.json")).featureNames == nil)
    }

    // MARK: A hand-written model

    /// A one-split model: `f0 < threshold` goes left (leaf -1), else right (leaf 1); missing goes left.
    private static func model(
        baseScore: String = "\"[5E-1]\"", objective: String = "reg:squarederror", numClass: String = "0",
        numTarget: String = "1", booster: String = "gbtree", trees: [String]? = nil, treeInfo: String? = nil,
        featureNames: String = "[]"
    ) -> [UInt8] {
        let trees = trees ?? [tree()]
        let info = treeInfo ?? "[" + trees.map { _ in "0" }.joined(separator: ",") + "]"
        return Array("""
            {"learner": {"attributes": {}, "feature_names": \(featureNames), "feature_types": [],
             "gradient_booster": {"model": {
               "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": "\(trees.count)"},
               "tree_info": \(info), "trees": [\(trees.joined(separator: ","))]}, "name": "\(booster)"},
             "learner_model_param": {"base_score": \(baseScore), "boost_from_average": "1", "num_class": "\(numClass)",
               "num_feature": "2", "num_target": "\(numTarget)"},
             "objective": {"name": "\(objective)"}}, "version": [3, 2, 0]}
            """.utf8)
    }

    private static func tree(
        left: String = "[1, -1, -1]", right: String = "[2, -1, -1]", indices: String = "[0, 0, 0]",
        conditions: String = "[0.5, -1.0, 1.0]", defaults: String = "[1, 0, 0]", splitType: String = "[0, 0, 0]",
        categories: String = "[]", nodes: Int = 3
    ) -> String {
        """
        {"base_weights": [0, 0, 0], "categories": \(categories), "categories_nodes": \(categories),
         "categories_segments": [], "categories_sizes": [], "default_left": \(defaults), "id": 0,
         "left_children": \(left), "right_children": \(right), "split_conditions": \(conditions),
         "split_indices": \(indices), "split_type": \(splitType), "tree_param": {"num_deleted": "0",
         "num_feature": "2", "num_nodes": "\(nodes)", "size_leaf_vector": "1"}}
        """
    }

    /// A split sends `x < threshold` left, ties and larger values right, and a missing value by `default_left`.
    @Test func splitsAndMissingValues() throws {
        let ensemble = try XGBoostModel.load(Self.model(baseScore: "\"[0E0]\"")).ensemble
        #expect(Self.predict(ensemble, [0.4, 0]) == -1)
        #expect(Self.predict(ensemble, [0.5, 0]) == 1)
        #expect(Self.predict(ensemble, [.nan, 0]) == -1)
        let right = try XGBoostModel.load(Self.model(trees: [Self.tree(defaults: "[false, false, false]")])).ensemble
        #expect(Self.predict(right, [.nan, 0]) == 1.5)
    }

    /// Children may come before their parent, and unreachable (pruned) nodes may hold anything: both load.
    @Test func reorderedAndPrunedNodes() throws {
        let tree = Self.tree(
            left: "[4, -1, -1, -1, 2, 99]", right: "[1, -1, -1, -1, 3, 99]", indices: "[0, 0, 0, 0, 1, 4294967295]",
            conditions: "[0.5, 10, 20, 30, 0.0, 0]", defaults: "[0, 0, 0, 0, 1, 0]", splitType: "[0, 0, 0, 0, 0, 0]",
            nodes: 6
        )
        let ensemble = try XGBoostModel.load(Self.model(baseScore: "\"0\"", trees: [tree])).ensemble
        #expect(ensemble.trees[0].nodeCount == 5)
        #expect(Self.predict(ensemble, [0.7, 0]) == 10)
        #expect(Self.predict(ensemble, [0.2, -1]) == 20)
        #expect(Self.predict(ensemble, [0.2, 1]) == 30)
        #expect(Self.predict(ensemble, [0.2, .nan]) == 20)
    }

    /// Features are compared as 32-bit floats, as XGBoost does: 0.1 is not below the threshold 0.1f.
    @Test func comparesInFloat32() throws {
        let ensemble = try XGBoostModel.load(
            Self.model(baseScore: "\"0\"", trees: [Self.tree(conditions: "[0.1, -1.0, 1.0]")])
        ).ensemble
        #expect(Self.predict(ensemble, [0.1, 0]) == 1)
        #expect(Self.predict(ensemble, [0.0999999, 0]) == -1)
    }

    /// `base_score` is read in XGBoost 1.x's (`"5E-1"`) and 3.x's (`"[5E-1]"`) forms, and as a plain number.
    @Test(arguments: ["\"5E-1\"", "\"[5E-1]\"", "0.5", "\"[ 5E-1 ]\"", "\"5.0000000E-1\""])
    func baseScoreForms(text: String) throws {
        #expect(try XGBoostModel.load(Self.model(baseScore: text)).ensemble.baseMargin == 0.5)
    }

    /// For logistic objectives `base_score` is a probability: the base margin is its logit.
    @Test func logisticBaseScoreIsAProbability() throws {
        let half = try XGBoostModel.load(Self.model(baseScore: "\"[5E-1]\"", objective: "binary:logistic"))
        #expect(half.ensemble.baseMargin == 0)
        let quarter = try XGBoostModel.load(Self.model(baseScore: "\"2.5E-1\"", objective: "reg:logistic"))
        #expect(abs(quarter.ensemble.baseMargin - log(1.0 / 3)) < 1e-6)
        let outside = Self.refusal(Self.model(baseScore: "\"1.5\"", objective: "binary:logistic"))
        #expect(outside == "base_score 1.5 is not a probability, as binary:logistic requires")
        #expect(Self.refusal(Self.model(baseScore: "\"1e-50\"", objective: "reg:logistic")) != nil)
    }

    /// A dart model's leaves are scaled by the tree's `weight_drop`.
    @Test func dartWeightsScaleLeaves() throws {
        var text = String(decoding: Self.model(baseScore: "\"0\""), as: UTF8.self)
        text = text.replacingOccurrences(
            of: "\"gradient_booster\": {\"model\"",
            with: "\"gradient_booster\": {\"weight_drop\": [0.5], \"gbtree\": {\"model\""
        ).replacingOccurrences(of: "\"name\": \"gbtree\"}", with: "\"name\": \"gbtree\"}, \"name\": \"dart\"}")
        let ensemble = try XGBoostModel.load(Array(text.utf8)).ensemble
        #expect(Self.predict(ensemble, [1, 0]) == 0.5)
    }

    // MARK: Refusals

    /// Models xalorra cannot serve, as XGBoost wrote them, are refused with a message saying why.
    @Test(arguments: [
        ("refuse-gblinear.json", "gblinear"),
        ("refuse-categorical.json", "categorical splits are not supported"),
    ])
    func refusesUnsupportedModels(name: String, message: String) throws {
        let refusal = try #require(Self.refusal(try Self.fixture(name)))
        #expect(refusal.contains(message), "\(refusal)")
    }

    /// Unsupported settings in an otherwise valid model each get their own message.
    @Test func refusesUnsupportedSettings() {
        let cases: [([UInt8], String)] = [
            (Self.model(numClass: "3"), "multi-class models need multi:softprob or multi:softmax"),
            (Self.model(numTarget: "2"), "multi-target models are not supported (num_target 2)"),
            (Self.model(baseScore: "\"[5E-1,3E-1]\""), "multi-target models are not supported"),
            (Self.model(trees: [Self.tree(), Self.tree()], treeInfo: "[0, 1]"), "multi-class models are not supported"),
            (Self.model(objective: "count:poisson"), "objective \"count:poisson\" is not supported"),
            (Self.model(booster: "gblinear"), "gblinear"),
            (Self.model(trees: [Self.tree(splitType: "[1, 0, 0]")]), "categorical splits are not supported"),
            (Self.model(trees: [Self.tree(categories: "[0]")]), "categorical splits are not supported"),
            (Self.model(featureNames: "[\"a\"]"), "feature_names has 1 names, but num_feature is 2"),
            (Self.model(baseScore: "\"half\""), "base_score \"half\" is not a number"),
        ]
        for (bytes, message) in cases {
            let refusal = Self.refusal(bytes)
            #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded"), expected \(message)")
        }
    }

    /// Damaged trees are refused: lengths that disagree, children out of range, cycles, bad feature indices.
    @Test func refusesMalformedTrees() {
        let cases: [(String, String)] = [
            (Self.tree(conditions: "[0.5, -1.0]"), "tree 0: left_children has 3 entries, split_conditions 2"),
            (Self.tree(left: "[1, -1, -1]", right: "[7, -1, -1]"), "tree 0: node 0 has child 7, outside 0..<3"),
            (Self.tree(left: "[-2, -1, -1]"), "tree 0: node 0 has child -2"),
            (Self.tree(left: "[1, 0, -1]", right: "[2, 2, -1]"), "is reached twice"),
            (Self.tree(left: "[1, 1, -1]"), "tree 0: node 1 is reached twice"),
            (Self.tree(left: "[0, -1, -1]"), "tree 0: node 0 is reached twice"),
            (Self.tree(indices: "[5, 0, 0]"), "tree 0: node 0 splits on feature 5, but the model has 2"),
            (Self.tree(defaults: "[2, 0, 0]"), "default_left holds a value that is not 0, 1 or a boolean"),
            (Self.tree(left: "[1.5, -1, -1]"), "left_children holds a non-integer"),
            (Self.tree(conditions: "[0.5, 1e300, 1.0]"), "leaf value is out of range"),
            ("[]", "tree 0 is not an object"),
        ]
        for (tree, message) in cases {
            let refusal = Self.refusal(Self.model(trees: [tree]))
            #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded"), expected \(message)")
        }
    }

    /// Text that is not an XGBoost JSON model says so.
    @Test(arguments: [
        "", "{", "[1, 2]", "{\"learner\": 3}", "{\"learner\": {}}", "nan", String(repeating: "[", count: 100),
    ])
    func refusesNonModels(text: String) {
        #expect(Self.refusal(Array(text.utf8))?.hasPrefix("not an XGBoost JSON model: ") == true)
    }

    /// Every truncation of a real model file is refused, never a crash.
    @Test func refusesTruncatedFiles() throws {
        let bytes = try Self.fixture("dart.json")
        for end in stride(from: 0, to: bytes.count, by: 61) {
            #expect(Self.refusal(Array(bytes[..<end])) != nil, "a prefix of \(end) bytes loaded")
        }
    }

    /// Changing any digit of a real model either loads a model whose predictions terminate or is refused.
    @Test func survivesCorruptedDigits() throws {
        let bytes = try Self.fixture("regression.json")
        let rows = try Self.rows("regression").rows
        var loaded = 0
        for (offset, byte) in bytes.enumerated() where byte &- 48 < 10 && offset % 5 == 0 {
            var corrupted = bytes
            corrupted[offset] = 48 + (byte - 48 + 7) % 10
            guard let model = try? XGBoostModel.load(corrupted) else { continue }
            loaded += 1
            for row in rows.prefix(3) { _ = Self.predict(model.ensemble, row) }
        }
        #expect(loaded > 0)
    }
}
