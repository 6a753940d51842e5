import Foundation
import GRDB
import Testing
@testable import XalorraCore
import XalorraML

/// LightGBM text models load into tree ensembles that predict what LightGBM predicts (its `x <= threshold`, its
/// missing-value rules), and anything unsupported or damaged is refused with a `ModelFormatError`, never a crash.
struct LightGBMImportTests {
    /// The fixtures with inputs and LightGBM's outputs (see Fixtures/lightgbm/README.md).
    static let fixtures = [
        "regression", "regression-l1", "binary", "no-missing", "zero-as-missing", "nan-split", "random-forest",
    ]

    static func fixture(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/lightgbm/\(name)", withExtension: nil))
        return Array(try Data(contentsOf: url))
    }

    static func rows(_ name: String) throws -> (columns: [String], rows: [[Double]]) {
        let matrix = try CSVReader.read(try fixture("\(name).input.csv"))
        let rows = (0..<matrix.rowCount).map { matrix.row($0).map { $0?.doubleValue ?? .nan } }
        return (matrix.columns, rows)
    }

    static func expected(_ name: String) throws -> [Double] {
        String(decoding: try fixture("\(name).expected.txt"), as: UTF8.self).split(separator: "\n").map { Double($0)! }
    }

    /// Whether `got` is `want` to 1e-6 relative (1e-12 absolute near 0).
    static func close(_ got: Double, _ want: Double) -> Bool {
        abs(got - want) <= 1e-6 * abs(want) + 1e-12
    }

    private static func predict(_ ensemble: TreeEnsemble, _ row: [Double]) -> Double {
        row.withUnsafeBufferPointer { ensemble.predict($0) }
    }

    /// The message `load` refuses `bytes` with, or nil when it loads them.
    private static func refusal(_ bytes: [UInt8], limits: ModelLimits = .defaults) -> String? {
        do {
            _ = try LightGBMModel.load(bytes, limits: limits)
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: Matching LightGBM

    /// Every fixture predicts LightGBM's own outputs to 1e-6 relative: missing values, zeros, LightGBM's "zero"
    /// values (±1e-36) and values exactly on and beside every split threshold included.
    @Test(arguments: fixtures)
    func matchesLightGBM(name: String) throws {
        let model = try LightGBMModel.load(try Self.fixture("\(name).txt"))
        let (columns, rows) = try Self.rows(name)
        let expected = try Self.expected(name)
        #expect(rows.count == expected.count && rows.count > 100)
        #expect(model.featureNames == columns)
        #expect(!model.ensemble.float32)
        for (index, (row, want)) in zip(rows, expected).enumerated() {
            let got = Self.predict(model.ensemble, row)
            #expect(Self.close(got, want), "\(name) row \(index): \(got), LightGBM \(want)")
        }
        var batch = [Double](repeating: 0, count: rows.count)
        rows.flatMap { $0 }.withUnsafeBufferPointer { flat in
            batch.withUnsafeMutableBufferPointer { model.ensemble.predict(rows: flat, into: $0) }
        }
        #expect(batch == rows.map { Self.predict(model.ensemble, $0) }, "\(name): batch and single rows differ")
    }

    /// Leaves carry LightGBM's shrinkage already (tree 0 says `shrinkage=1`, the rest the learning rate, yet the
    /// sum of the leaves as written is LightGBM's score), and the covers are its row counts.
    @Test func leavesAreScoresAndCoversAreCounts() throws {
        let text = String(decoding: try Self.fixture("regression.txt"), as: UTF8.self)
        #expect(text.contains("shrinkage=1\n") && text.contains("shrinkage=0.2\n"))
        let ensemble = try LightGBMModel.load(try Self.fixture("regression.txt")).ensemble
        #expect(ensemble.objective == .regression && ensemble.baseMargin == 0)
        let tree = ensemble.trees[0]
        #expect(tree.cover.count == tree.nodeCount && tree.cover[0] == 400, "the root saw every training row")
        #expect(tree.gain.count == tree.nodeCount && tree.gain[0] > 0)
    }

    /// Explanations of an imported model equal LightGBM's own `pred_contrib` (TreeSHAP over its row counts, the
    /// covers the import keeps) to 1e-6 relative, missing values included, and sum to the model's score.
    @Test(arguments: ["regression", "no-missing", "nan-split", "zero-as-missing"])
    func explanationsMatchLightGBMsContributions(name: String) throws {
        let ensemble = try LightGBMModel.load(try Self.fixture("\(name).txt")).ensemble
        let explainer = try ModelExplainer(.trees(ensemble))
        let rows = try Self.rows(name).rows
        let expected = String(decoding: try Self.fixture("\(name).contrib.txt"), as: UTF8.self)
            .split(separator: "\n").map { $0.split(separator: " ").map { Double($0)! } }
        #expect(rows.count == expected.count)
        let width = ensemble.featureCount + 1
        let explained = explainer.explain(rows.flatMap { $0 })
        for (index, want) in expected.enumerated() {
            let got = Array(explained[(index * width)..<((index + 1) * width)])
            let scale = want.map(abs).max() ?? 1
            let close = zip(got, want).allSatisfy { abs($0 - $1) <= 1e-6 * scale }
            #expect(close, "\(name) row \(index): \(got), LightGBM \(want)")
            #expect(abs(got.reduce(0, +) - Self.predict(ensemble, rows[index])) <= 1e-9 * max(1, scale))
        }
    }

    /// Objectives map to their outputs: the score, or the sigmoid of `sigmoid:` × score, averaged for forests.
    @Test func objectivesMapToTheirOutputs() throws {
        let cases: [(String, TreeEnsemble.Objective)] = [
            ("regression", .regression), ("regression-l1", .regression), ("binary", .logistic),
            ("random-forest", .logistic),
        ]
        for (name, objective) in cases {
            #expect(try LightGBMModel.load(try Self.fixture("\(name).txt")).ensemble.objective == objective, "\(name)")
        }
        let one = Self.model(objective: "binary sigmoid:1")
        let scaled = Self.model(objective: "binary sigmoid:0.5")
        let p1 = Self.predict(try LightGBMModel.load(one).ensemble, [1, 0])  // score 2
        let p2 = Self.predict(try LightGBMModel.load(scaled).ensemble, [1, 0])
        #expect(Self.close(p1, 1 / (1 + exp(-2))) && Self.close(p2, 1 / (1 + exp(-1))))
        let entropy = try LightGBMModel.load(Self.model(objective: "cross_entropy")).ensemble
        #expect(Self.close(Self.predict(entropy, [1, 0]), 1 / (1 + exp(-2))))
        let forest = try LightGBMModel.load(Self.model(trees: [Self.tree(), Self.tree(index: 1)], average: true)).ensemble
        #expect(Self.predict(forest, [1, 0]) == 2)
    }

    // MARK: Splits, as LightGBM's NumericalDecision makes them

    /// LightGBM's `Tree::NumericalDecision` for one node, ported as written (with the predictor's rule that a
    /// value within 1e-35f of 0 is 0): the reference the converted splits are checked against.
    static func lightGBMGoesLeft(_ value: Double, threshold: Double, decision: Int) -> Bool {
        let zero = Double(Float(1e-35))
        var x = abs(value) <= zero ? 0 : value
        let missingType = (decision >> 2) & 3
        if x.isNaN, missingType != 2 { x = 0 }
        if (missingType == 1 && x >= -zero && x <= zero) || (missingType == 2 && x.isNaN) { return decision & 2 != 0 }
        return x <= threshold
    }

    /// For every decision type (missing type None, Zero, NaN; default left or right) and thresholds below, inside
    /// and above LightGBM's zero band, the converted tree sends NaN, ±0, ±1e-36, the band's edges, the threshold
    /// itself and the doubles beside it where LightGBM does. `x <= threshold` is exact: the threshold goes left,
    /// the next double up goes right. LightGBM's `+inf` threshold (its last bin: NaN apart from every number)
    /// loads with finite thresholds only, as the store keeps them.
    @Test func splitsFollowLightGBMsRules() throws {
        let zero = Double(Float(1e-35))
        let thresholds = [-1.5, -zero, -1e-36, 0, 1e-36, zero, 0.25, 1e-35, -zero.nextDown, 1.0000000180025095e-35,
                          .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        for decision in [0, 2, 4, 6, 8, 10] {
            for threshold in thresholds {
                let bytes = Self.model(trees: [Self.tree(threshold: "\(threshold)", decision: "\(decision)")])
                let ensemble = try LightGBMModel.load(bytes).ensemble
                #expect(ensemble.trees[0].threshold.allSatisfy { $0.isFinite })
                #expect(ModelDocument.unwritable(.trees(ensemble)) == nil)
                var values: [Double] = [.nan, 0, -0.0, 1e-36, -1e-36, zero, -zero, zero.nextUp, -zero.nextUp, 5, -5]
                values += [threshold, threshold.nextUp, threshold.nextDown, -threshold]
                // The one value routed differently: the largest double (or +inf) at a threshold at or past it.
                for value in values where !(threshold >= .greatestFiniteMagnitude && value >= .greatestFiniteMagnitude) {
                    let want = Self.lightGBMGoesLeft(value, threshold: threshold, decision: decision) ? -1.0 : 2.0
                    let got = Self.predict(ensemble, [value, 0])
                    #expect(got == want, "decision \(decision), threshold \(threshold), x \(value): \(got)")
                }
            }
        }
    }

    /// A plain split at a threshold: the threshold goes left, the next double up right (our trees send
    /// `x < threshold` left, so the threshold is stored as its next double up), and the conversion is one node.
    @Test func exactThresholdGoesLeft() throws {
        let threshold = 0.43765574413172179
        let ensemble = try LightGBMModel.load(
            Self.model(trees: [Self.tree(threshold: "\(threshold)", decision: "10")])).ensemble
        #expect(Self.predict(ensemble, [threshold, 0]) == -1)
        #expect(Self.predict(ensemble, [threshold.nextUp, 0]) == 2)
        #expect(Self.predict(ensemble, [threshold.nextDown, 0]) == -1)
        #expect(ensemble.trees[0].nodeCount == 3 && ensemble.trees[0].threshold[0] == threshold.nextUp)
    }

    /// A `Zero` missing type whose default is not where the threshold sends 0 cuts the line into alternating
    /// segments: the child subtrees are copied, and every copy is counted against the node limit.
    @Test func zeroAsMissingCopiesSubtreesWithinLimits() throws {
        let tree = Self.tree(threshold: "-1.5", decision: "6")  // zero (and NaN) left, -1.5 < x < 0 right
        let ensemble = try LightGBMModel.load(Self.model(trees: [tree])).ensemble
        #expect(Self.predict(ensemble, [-2, 0]) == -1 && Self.predict(ensemble, [-1, 0]) == 2)
        #expect(Self.predict(ensemble, [0, 0]) == -1 && Self.predict(ensemble, [.nan, 0]) == -1)
        #expect(Self.predict(ensemble, [1, 0]) == 2)
        #expect(ensemble.trees[0].nodeCount == 7)
        #expect(Self.refusal(Self.model(trees: [tree]), limits: ModelLimits(trees: 10, nodes: 6))?
            .contains("XALORRA_MAX_MODEL_NODES") == true)
    }

    // MARK: Refusals

    /// Models xalorra cannot serve, as LightGBM wrote them, are refused with a message saying why (the
    /// categorical one naming the feature).
    @Test(arguments: [
        ("refuse-linear.txt", "linear trees (linear_tree) are not supported"),
        ("refuse-categorical.txt", "feature \"tenure_months\" is categorical"),
    ])
    func refusesUnsupportedModels(name: String, message: String) throws {
        let refusal = try #require(Self.refusal(try Self.fixture(name)))
        #expect(refusal.contains(message), "\(refusal)")
    }

    /// Unsupported objectives and settings in an otherwise valid model each get their own message.
    @Test func refusesUnsupportedSettings() {
        let cases: [([UInt8], String)] = [
            (Self.model(objective: "poisson"), "objective \"poisson\" is not supported; supported: regression"),
            (Self.model(objective: "regression sqrt"), "reg_sqrt is not supported"),
            (Self.model(objective: "multiclass num_class:3"), "objective multiclass needs num_class 2 or more, not 1"),
            (Self.model(objective: "binary sigmoid:-1"), "sigmoid \"-1\" is not a positive number"),
            (Self.model(objective: "lambda\u{1B}[31m"), "objective \"lambda?[31m\" is not supported"),
            (Self.model(header: "num_class=3\nnum_tree_per_iteration=3"), "num_class 3 needs objective multiclass"),
            (Self.model(names: "a"), "feature_names has 1 names, but the model has 2 features"),
            (Self.model(names: "a b\u{7}"), "feature_names[1] holds a control character (U+0007)"),
            (Self.model(version: "v9"), "LightGBM model format v9 is not supported"),
            (Self.model(trees: [Self.tree(extra: "is_linear=1")]), "linear trees (linear_tree) are not supported"),
            (Self.model(trees: [Self.tree(decision: "1")]), "feature \"a\" is categorical"),
            (Self.model(trees: [Self.tree().replacingOccurrences(of: "num_cat=0", with: "num_cat=1")]),
             "categorical splits are not supported"),
        ]
        for (bytes, message) in cases {
            let refusal = Self.refusal(bytes)
            #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded"), expected \(message)")
        }
    }

    /// Damaged trees are refused: counts that disagree, children out of range, shared nodes and cycles, bad
    /// numbers and features, missing members, out-of-order blocks.
    @Test func refusesMalformedTrees() {
        let cases: [(String, String)] = [
            (Self.tree(leaves: "3"), "tree 0: leaf_value has 2 values; num_leaves makes it 3"),
            (Self.tree(threshold: "0.5 0.7"), "tree 0: threshold has 2 values; num_leaves makes it 1"),
            (Self.tree(left: "-3"), "tree 0: left_child[0] is not an integer in -2...0"),
            (Self.tree(right: "1"), "tree 0: right_child[0] is not an integer in -2...0"),
            (Self.tree(left: "0"), "tree 0: node 0 is reached twice"),
            (Self.tree(left: "-2", right: "-2"), "tree 0: leaf 1 is reached twice"),
            (Self.tree(feature: "2"), "tree 0: node 0 splits on feature 2, but the model has 2"),
            (Self.tree(feature: "-1"), "split_feature[0] is not an integer"),
            (Self.tree(threshold: "abc"), "tree 0: threshold[0] is not a number"),
            (Self.tree(threshold: "nan"), "tree 0: node 0 has no threshold"),
            (Self.tree(values: "-1 1e400"), "tree 0: leaf 1's value is not a finite number"),
            (Self.tree(decision: "12"), "tree 0: node 0 has an unknown missing type"),
            (Self.tree(decision: "256"), "decision_type[0] is not an integer in 0...255"),
            (Self.tree(leaves: "0"), "tree 0: num_leaves 0 is not a number of leaves"),
            (Self.tree(leaves: "x"), "num_leaves \"x\" is not an integer"),
            (Self.tree(leaves: "99999999999"), "XALORRA_MAX_MODEL_NODES"),
            (Self.tree().replacingOccurrences(of: "Tree=0", with: "Tree=1"), "expected \"Tree=0\""),
            (Self.tree().replacingOccurrences(of: "leaf_value=-1 2\n", with: ""), "tree 0 has no leaf_value"),
        ]
        for (tree, message) in cases {
            let refusal = Self.refusal(Self.model(trees: [tree]))
            #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded"), expected \(message)")
        }
    }

    /// The tree count is limited before any tree is read (`tree_sizes`) and as trees are read, and a file must
    /// end its trees (`end of trees`) and list as many as `tree_sizes` says.
    @Test func countsTreesAgainstTheLimits() {
        let limits = ModelLimits(trees: 2, nodes: 100)
        let three = Self.model(trees: [Self.tree(), Self.tree(index: 1), Self.tree(index: 2)])
        #expect(Self.refusal(three, limits: limits)?.contains("XALORRA_MAX_MODEL_TREES") == true)
        let undeclared = Self.model(trees: [Self.tree(), Self.tree(index: 1), Self.tree(index: 2)], sizes: false)
        #expect(Self.refusal(undeclared, limits: limits)?.contains("XALORRA_MAX_MODEL_TREES") == true)
        #expect(Self.refusal(Self.model(trees: [Self.tree()], end: false))?.contains("end of trees") == true)
        #expect(Self.refusal(Self.model(trees: []))?.contains("no trees") == true)
        let claimed = String(decoding: Self.model(), as: UTF8.self).replacingOccurrences(
            of: "tree_sizes=100", with: "tree_sizes=100 100")
        #expect(Self.refusal(Array(claimed.utf8))?.contains("tree_sizes lists 2 trees") == true)
    }

    /// A line of 30 million numbers where two belong is refused by its count, without first collecting its
    /// tokens (which took 32 bytes each: about 1 GB from a 60 MB upload).
    @Test func countsTokensBeforeCollectingThem() throws {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let before = usage.ru_maxrss  // KiB
        let huge = String(repeating: "1 ", count: 30_000_000)
        let tree = Self.tree().replacingOccurrences(of: "leaf_value=-1 2", with: "leaf_value=" + huge)
        let refusal = Self.refusal(Self.model(trees: [tree]))
        #expect(refusal?.contains("leaf_value has 30000000 values; num_leaves makes it 2") == true, "\(refusal ?? "")")
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #expect(usage.ru_maxrss - before < 400_000, "peak memory grew by \(usage.ru_maxrss - before) KiB")
    }

    /// Text that is not a LightGBM model says so; only a first line `tree` is taken for one.
    @Test func recognisesTheFormat() throws {
        #expect(LightGBMModel.isTextModel(try Self.fixture("binary.txt")))
        #expect(LightGBMModel.isTextModel(Array("tree\r\nversion=v4\n".utf8)))
        #expect(LightGBMModel.isTextModel([0xEF, 0xBB, 0xBF] + Array("tree\n".utf8)))
        for text in ["", "{\"learner\": {}}", "trees\n", "tree=1\n", "Tree=0\n", "xtree\n"] {
            #expect(!LightGBMModel.isTextModel(Array(text.utf8)), "\(text)")
        }
        for text in ["tree", "tree\n", "tree\nversion=v4\n", "tree\nversion=v4\nmax_feature_idx=1\n"] {
            #expect(Self.refusal(Array(text.utf8)) != nil, "\(text)")
        }
    }

    /// Every truncation of a real model file is refused or (cut inside the statistics after the trees) loads the
    /// whole model; none crashes.
    @Test func refusesTruncatedFiles() throws {
        let bytes = try Self.fixture("zero-as-missing.txt")
        let end = String(decoding: bytes, as: UTF8.self).utf8.count
        let whole = try LightGBMModel.load(bytes).ensemble
        let trees = String(decoding: bytes, as: UTF8.self).range(of: "end of trees")!.upperBound.utf16Offset(
            in: String(decoding: bytes, as: UTF8.self))
        for cut in stride(from: 0, to: end, by: 37) {
            let prefix = Array(bytes[..<cut])
            if cut < trees {
                #expect(Self.refusal(prefix) != nil, "a prefix of \(cut) bytes loaded")
            } else {
                #expect(try LightGBMModel.load(prefix).ensemble == whole)
            }
        }
    }

    /// Changing any digit of a real model either loads a model whose predictions terminate or is refused.
    @Test func survivesCorruptedDigits() throws {
        let bytes = try Self.fixture("zero-as-missing.txt")
        let rows = try Self.rows("zero-as-missing").rows
        var loaded = 0
        for (offset, byte) in bytes.enumerated() where byte &- 48 < 10 && offset % 13 == 0 {
            var corrupted = bytes
            corrupted[offset] = 48 + (byte - 48 + 7) % 10
            guard let model = try? LightGBMModel.load(corrupted) else { continue }
            loaded += 1
            for row in rows.prefix(3) { _ = Self.predict(model.ensemble, row) }
        }
        #expect(loaded > 0)
    }

    // MARK: The store

    /// Migration v9 widens the stored kinds to `lightgbm` and keeps the versions stored before it, byte for byte;
    /// the schema still refuses a kind it does not know.
    @Test func migrationKeepsVersionsAndAcceptsLightGBM() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "v8-prediction-blocks")
        let insert = """
            INSERT INTO model_versions (model_id, version, kind, hyperparameters, metrics, features, trees, model,
                created_at, created_by) VALUES (1, ?, ?, '{}', NULL, '["a"]', 1, ?, 5, 'ann')
            """
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO models (id, tenant, name, next_version, created_at) VALUES (1, 't', 'm', 3, 1)")
            try db.execute(sql: insert, arguments: [1, "xgboost", Data("doc-1".utf8)])
            try db.execute(sql: insert, arguments: [2, "gbdt", Data("doc-2".utf8)])
            #expect(throws: (any Error).self) { try db.execute(sql: insert, arguments: [3, "lightgbm", Data()]) }
        }
        _ = try AppDatabase(queue, path: ":memory:")
        try queue.write { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT version, kind, model, created_by FROM model_versions ORDER BY version")
            #expect(rows.map { "\($0["version"] as Int):\($0["kind"] as String):\($0["created_by"] as String)" }
                == ["1:xgboost:ann", "2:gbdt:ann"])
            #expect(rows.map { $0["model"] as Data } == [Data("doc-1".utf8), Data("doc-2".utf8)])
            try db.execute(sql: insert, arguments: [3, "lightgbm", Data("doc-3".utf8)])
            #expect(throws: (any Error).self) { try db.execute(sql: insert, arguments: [4, "catboost", Data()]) }
            try db.execute(sql: "DELETE FROM models WHERE id = 1")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM model_versions") == 0, "the cascade survives")
            #expect(try Int.fetchOne(db, sql: "PRAGMA user_version") == AppDatabase.schemaVersion)
        }
    }

    // MARK: A hand-written model

    /// A two-feature model (`a`, `b`) of `trees` (by default one `tree()`).
    static func model(
        version: String = "v4", objective: String = "regression", header: String = "", names: String = "a b",
        trees: [String]? = nil, average: Bool = false, sizes: Bool = true, end: Bool = true
    ) -> [UInt8] {
        let trees = trees ?? [tree()]
        var text = "tree\nversion=\(version)\n"
        text += header.isEmpty ? "num_class=1\nnum_tree_per_iteration=1\n" : header + "\n"
        text += "label_index=0\nmax_feature_idx=1\nobjective=\(objective)\n"
        if average { text += "average_output\n" }
        text += "feature_names=\(names)\nfeature_infos=[-1:1] [-1:1]\n"
        if sizes { text += "tree_sizes=" + trees.map { _ in "100" }.joined(separator: " ") + "\n" }
        text += "\n" + trees.joined(separator: "\n")
        if end { text += "\nend of trees\n\nfeature_importances:\nb=1\n\nparameters:\n[boosting: gbdt]\nend of parameters\n" }
        return Array(text.utf8)
    }

    /// Tree `index`: one split, `a <= 0.5` to leaf 0 (-1), else leaf 1 (2), NaN left (missing type None).
    static func tree(
        index: Int = 0, leaves: String = "2", feature: String = "0", threshold: String = "0.5",
        decision: String = "2", left: String = "-1", right: String = "-2", values: String = "-1 2",
        extra: String = ""
    ) -> String {
        """
        Tree=\(index)
        num_leaves=\(leaves)
        num_cat=0
        split_feature=\(feature)
        split_gain=10
        threshold=\(threshold)
        decision_type=\(decision)
        left_child=\(left)
        right_child=\(right)
        leaf_value=\(values)
        leaf_weight=3 5
        leaf_count=3 5
        internal_value=0
        internal_weight=8
        internal_count=8
        \(extra.isEmpty ? "is_linear=0" : extra)
        shrinkage=1

        """
    }
}

/// LightGBM models imported as a user does: `xalorra models import` offline and remote, and `POST
/// /models/{name}/import` with the text file as the body; each then predicts what LightGBM predicted.
@Suite(.serialized)
struct LightGBMImportLiveTests {
    private static func path(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/lightgbm/\(name)", withExtension: nil)).path
    }

    /// Compares `predict NAME --file` output (one prediction a line) with LightGBM's.
    private static func expectPredictions(_ output: String, _ fixture: String) throws {
        let got = output.split(separator: "\n").map { Double($0) }
        let want = try LightGBMImportTests.expected(fixture)
        #expect(got.count == want.count, "\(output.prefix(300))")
        for (index, (value, expected)) in zip(got, want).enumerated() {
            #expect(value.map { LightGBMImportTests.close($0, expected) } == true, "row \(index): \(value ?? .nan)")
        }
    }

    /// `models import` reads a LightGBM text file offline and over `--url`; the versions are of kind `lightgbm`,
    /// keep the feature names and predict LightGBM's outputs for a whole input file, also after an export and
    /// import; a refused file changes nothing.
    @Test func cliImportOfflineAndRemote() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let remote = ["--url", server.url, "--token", try server.token()]
        let imported = try cli.run(["models", "import", "lgb", try Self.path("binary.txt")])
        #expect(imported.status == 0 && imported.stdout == "imported lgb@1 (lightgbm, 12 trees, 5 features)\n",
                "\(imported)")
        let again = try cli.run(["models", "import", "lgb", try Self.path("zero-as-missing.txt")] + remote)
        #expect(again.status == 0 && again.stdout == "imported lgb@2 (lightgbm, 12 trees, 5 features)\n", "\(again)")
        try Self.expectPredictions(
            try cli.run(["predict", "lgb@1", "--file", try Self.path("binary.input.csv")]).stdout, "binary")
        try Self.expectPredictions(
            try cli.run(["predict", "lgb@2", "--file", try Self.path("zero-as-missing.input.csv")] + remote).stdout,
            "zero-as-missing")
        let exported = cli.home.appendingPathComponent("lgb-1.json").path
        #expect(try cli.run(["models", "export", "lgb@1", exported]).status == 0)
        let copy = try cli.run(["models", "import", "copy", exported])
        #expect(copy.status == 0 && copy.stdout == "imported copy@1 (lightgbm, 12 trees, 5 features)\n", "\(copy)")
        try Self.expectPredictions(
            try cli.run(["predict", "copy", "--file", try Self.path("binary.input.csv")]).stdout, "binary")
        let shown = try JSONParser.parse(try cli.run(["models", "show", "lgb@1", "--json"]).stdout)["data"]
        #expect(shown?["kind"] == "lightgbm")
        #expect(shown?["features"] == .array(["Column_0", "Column_1", "Column_2", "Column_3", "Column_4"]))
        for (file, message) in [("refuse-categorical.txt", "feature \"tenure_months\" is categorical"),
                                ("refuse-linear.txt", "linear trees (linear_tree) are not supported")] {
            for extra in [[], remote] {
                let refused = try cli.run(["models", "import", "lgb", try Self.path(file)] + extra)
                #expect(refused.status != 0 && refused.stderr.contains(message), "\(refused.stderr)")
            }
        }
        #expect(try cli.run(["models", "show", "lgb@3"]).status == 1, "a refused import made no version")
    }

    /// `POST /models/{name}/import` takes the text file as its body (201, kind `lightgbm`, LightGBM's feature
    /// names); `POST /predict` then answers LightGBM's predictions, `null` as a missing value; hostile or
    /// unsupported files are a 422 in the error envelope.
    @Test func httpImportAndPredict() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let text = try String(contentsOfFile: try Self.path("regression.txt"), encoding: .utf8)
        let imported = try await server.request("POST", "/models/reg/import", token: token, body: text)
        #expect(imported.status == 201, "\(imported.body)")
        let data = try JSONParser.parse(imported.body)["data"]
        #expect(data?["kind"] == "lightgbm" && data?["trees"] == 12, "\(imported.body)")
        #expect(data?["features"] == .array(["age", "income", "tenure_months", "score", "visits"]))
        let rows = try LightGBMImportTests.rows("regression").rows
        let want = try LightGBMImportTests.expected("regression")
        let instances = rows.map { row in
            "[" + row.map { $0.isNaN ? "null" : "\($0)" }.joined(separator: ",") + "]"
        }.joined(separator: ",")
        let answer = try await server.request("POST", "/predict/reg", token: token, body: #"{"instances":[\#(instances)]}"#)
        #expect(answer.status == 200, "\(answer.body.prefix(300))")
        guard case .array(let predictions)? = try JSONParser.parse(answer.body)["predictions"] else {
            Issue.record("no predictions: \(answer.body.prefix(300))")
            return
        }
        #expect(predictions.count == want.count)
        for (index, (value, expected)) in zip(predictions, want).enumerated() {
            guard case .number(let number) = value else {
                Issue.record("row \(index): \(value)")
                continue
            }
            #expect(LightGBMImportTests.close(number.doubleValue, expected), "row \(index): \(number.doubleValue)")
        }
        let hostile = [
            text.replacingOccurrences(of: "left_child=1 ", with: "left_child=0 "),
            String(text.prefix(text.count / 2)),
            text.replacingOccurrences(of: "num_leaves=8", with: "num_leaves=99999999999"),
            try String(contentsOfFile: try Self.path("refuse-linear.txt"), encoding: .utf8),
        ]
        for body in hostile {
            let refused = try await server.request("POST", "/models/bad/import", token: token, body: body)
            #expect(refused.status == 422 && refused.body.contains(#""code":"VALIDATION_ERROR""#),
                    "\(refused.status) \(refused.body.prefix(300))")
        }
        let none = try await server.request("GET", "/models/bad", token: token)
        #expect(none.status == 404, "a refused import made no model: \(none.status) \(none.body)")
    }
}
