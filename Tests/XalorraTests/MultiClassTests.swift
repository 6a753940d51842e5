import Foundation
import Testing
@testable import XalorraCore
@testable import XalorraML

/// Multi-class models (issue 16): softmax boosting trained here, XGBoost `multi:softprob`/`multi:softmax` and
/// LightGBM `multiclass` imports predicting what the libraries predict, stored models that read back, and hostile
/// models refused with a message rather than a crash.
struct MultiClassTests {
    // MARK: Data and fixtures

    /// `rows` rows of 4 features whose class (one of `labels`) follows from the first two; deterministic.
    static func data(rows: Int, labels: [Double] = [2, 5, 9], seed: UInt64 = 7) -> Dataset {
        var random = SplitMix64(seed: seed)
        var values: [Double] = []
        var target: [Double] = []
        for _ in 0..<rows {
            let row = (0..<4).map { _ in Double.random(in: -1..<1, using: &random) }
            values += row
            let score = row[0] + 0.5 * row[1] * row[1]
            target.append(labels[score < -0.2 ? 0 : score < 0.4 ? 1 : 2])
        }
        return Dataset(featureNames: ["a", "b", "c", "d"], values: values, target: target)
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: try #require(
            Bundle.module.url(forResource: "Fixtures/multiclass/\(name)", withExtension: nil))))
    }

    static func path(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/multiclass/\(name)", withExtension: nil)).path
    }

    static func rows(_ name: String) throws -> [[Double]] {
        let matrix = try CSVReader.read(try fixture("\(name).input.csv"))
        return (0..<matrix.rowCount).map { matrix.row($0).map { $0?.doubleValue ?? .nan } }
    }

    static func lines(_ name: String) throws -> [[Double]] {
        String(decoding: try fixture(name), as: UTF8.self).split(separator: "\n")
            .map { $0.split(separator: " ").map { Double($0)! } }
    }

    static func probabilities(_ ensemble: TreeEnsemble, _ rows: [[Double]]) -> [Double] {
        var output = [Double](repeating: 0, count: rows.count * ensemble.classCount)
        rows.flatMap { $0 }.withUnsafeBufferPointer { flat in
            output.withUnsafeMutableBufferPointer { ensemble.probabilities(rows: flat, into: $0) }
        }
        return output
    }

    static func labels(_ model: TrainedModel, _ rows: [[Double]]) -> [Double] {
        var output = [Double](repeating: 0, count: rows.count)
        rows.flatMap { $0 }.withUnsafeBufferPointer { flat in
            output.withUnsafeMutableBufferPointer { model.predict(rows: flat, into: $0) }
        }
        return output
    }

    static func close(_ got: Double, _ want: Double) -> Bool { abs(got - want) <= 1e-6 * abs(want) + 1e-12 }

    static func trained(_ data: Dataset, trees: Int = 30) throws -> Trainer.Result {
        var parameters = Hyperparameters()
        parameters.trees = trees
        parameters.maxDepth = 4
        parameters.learningRate = 0.3
        return try Trainer.train(.gbdt, on: data, parameters: parameters)
    }

    // MARK: Training

    /// A target of 3 whole-number labels trains a softmax model by itself (objective auto): K trees a round, the
    /// labels kept in order, sane accuracy and log-loss in the metrics, probabilities summing to 1, and every answer
    /// one of the labels, batch and single rows alike.
    @Test func trainsSoftmaxOnThreeLabels() throws {
        let result = try Self.trained(Self.data(rows: 1500))
        #expect(result.objective == .multiclass)
        guard case .trees(let ensemble) = result.model else { Issue.record("not trees"); return }
        #expect(ensemble.objective == .softmax && ensemble.classLabels == [2, 5, 9])
        #expect(ensemble.trees.count == 3 * result.iterations && result.iterations == 30)
        let metrics = try #require(result.metrics)
        #expect(try #require(metrics.accuracy) > 0.9, "\(metrics)")
        #expect(try #require(metrics.logLoss) < 0.3, "\(metrics)")
        #expect(metrics.auc == nil && metrics.rmse == nil)
        let test = Self.data(rows: 200, seed: 99)
        let rows = (0..<test.rowCount).map { Array(test.values[($0 * 4)..<($0 * 4 + 4)]) }
        let probabilities = Self.probabilities(ensemble, rows)
        let labels = Self.labels(result.model, rows)
        var right = 0
        for (index, row) in rows.enumerated() {
            let p = Array(probabilities[(index * 3)..<(index * 3 + 3)])
            #expect(abs(p.reduce(0, +) - 1) < 1e-12 && p.allSatisfy { $0 > 0 && $0 < 1 })
            #expect(labels[index] == ensemble.classLabels[p.firstIndex(of: p.max()!)!])
            #expect(row.withUnsafeBufferPointer { result.model.predict($0) } == labels[index])
            if labels[index] == test.target[index] { right += 1 }
        }
        #expect(right > 180, "\(right) of 200 right")
    }

    /// Early stopping keeps whole rounds (K trees each), and training is deterministic.
    @Test func earlyStoppingKeepsWholeRounds() throws {
        var parameters = Hyperparameters()
        parameters.trees = 300
        parameters.learningRate = 0.5
        parameters.earlyStopping = 3
        let data = Self.data(rows: 600)
        let first = try Trainer.train(.gbdt, on: data, parameters: parameters)
        let second = try Trainer.train(.gbdt, on: data, parameters: parameters)
        #expect(first.model == second.model)
        guard case .trees(let ensemble) = first.model else { Issue.record("not trees"); return }
        #expect(first.iterations < 300 && ensemble.trees.count == 3 * first.iterations)
    }

    /// Which objective `auto` picks, and targets the multiclass objective refuses with a message.
    @Test func objectiveChoiceAndRefusals() throws {
        #expect(Trainer.resolve(.auto, target: [0, 1, 1, 0]) == .binary)
        #expect(Trainer.resolve(.auto, target: (0..<30).map { Double($0 % 3) }) == .multiclass)
        #expect(Trainer.resolve(.auto, target: (0..<40).map { Double($0 * 2) }) == .regression, "mostly distinct")
        #expect(Trainer.resolve(.auto, target: [0, 1, 1.5]) == .regression)
        #expect(Trainer.resolve(.auto, target: (0..<300).map(Double.init)) == .regression, "a count, not classes")
        var parameters = Hyperparameters()
        parameters.objective = .multiclass
        let cases: [([Double], String)] = [
            ([0, 1, 2.5, 1], "needs whole-number class labels; the target has 2.5 in row 3"),
            ((0..<300).map(Double.init), "at most 256 classes"),
            ([3, 3, 3, 3], "needs at least 2 classes; the target has 1"),
        ]
        for (target, message) in cases {
            let data = Dataset(featureNames: ["x"], values: target.indices.map(Double.init), target: target)
            #expect(throws: TrainingError.self) { try Trainer.check(.gbdt, on: data, parameters: parameters) }
            do {
                _ = try Trainer.train(.gbdt, on: data, parameters: parameters)
                Issue.record("trained on \(target.prefix(4))")
            } catch {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
    }

    /// Softmax training counts a child's rows for `--min-samples-leaf` from the hessians, as LightGBM does (each
    /// bin's `round(hessian × rows / hessian sum)`, the right side summed and the left given the rest): a split whose
    /// left side has 25 rows, but confident ones (a tiny hessian), is refused with 20 as the minimum, though exact
    /// counts allow it; the next split, with enough hessian on both sides, is taken instead.
    @Test func minimumRowsCountedFromHessiansAsLightGBM() {
        var bins = GradientBoosting.FeatureBins()
        bins.cuts = [1, 2]
        // (gradient, hessian, rows) per bin.
        let histogram: [Double] = [-5, 0.25, 25, 2.5, 6.25, 25, 2.5, 6.25, 25]
        let totals = GradientBoosting.Totals(gradient: 0, hessian: 12.75, count: 75)
        var rules = GradientBoosting.SplitRules(minSamplesLeaf: 20, minHessian: 1e-3, l2: 1)
        func split() -> GradientBoosting.Split {
            histogram.withUnsafeBufferPointer {
                rules.bestSplit(feature: 0, bins: bins, histogram: $0.baseAddress!, stride: 3, constantHessian: false,
                                totals: totals)
            }
        }
        #expect(split().isValid && split().bin == 0, "exact counts: 25 rows on the left are enough")
        rules.hessianCounts = true
        #expect(split().isValid && split().bin == 1, "LightGBM's counts: the left's hessian stands for 1 row")
        #expect(GradientBoosting.softmaxRules(Hyperparameters()).hessianCounts, "softmax training uses them")
    }

    /// Softmax training grows LightGBM's trees to the bit (issue 16's log-loss goal: on sklearn's digits the test
    /// log-loss equals LightGBM's): on the `softmax-training` fixture (small whole numbers with many zeros and rare
    /// values, a feature too sparse to split, continuous features around zero) every class margin of the training
    /// rows and of rows with values between theirs equals LightGBM 4.7's `raw_score`, on one thread and on two.
    @Test(arguments: [1, 2]) func growsLightGBMsTreesToTheBit(threads: Int) throws {
        func load(_ name: String) throws -> Dataset {
            let url = try #require(Bundle.module.url(forResource: "Fixtures/softmax-training/\(name)",
                                                     withExtension: nil))
            return try Dataset(CSVReader.read(Array(try Data(contentsOf: url))), target: "target")
        }
        let train = try load("train.csv")
        let test = try load("test.csv")
        var parameters = Hyperparameters()
        parameters.objective = .multiclass
        (parameters.trees, parameters.maxDepth, parameters.learningRate) = (12, 4, 0.3)
        (parameters.minSamplesLeaf, parameters.l2, parameters.bins) = (10, 1, 255)
        parameters.validFraction = 0
        parameters.threads = threads
        let result = try Trainer.train(.gbdt, on: train, parameters: parameters)
        guard case .trees(let ensemble) = result.model else { Issue.record("not trees"); return }
        let url = try #require(Bundle.module.url(forResource: "Fixtures/softmax-training/margins.txt",
                                                 withExtension: nil))
        let expected = String(decoding: try Data(contentsOf: url), as: UTF8.self).split(separator: "\n")
            .flatMap { $0.split(separator: " ").map { Double($0)! } }
        let got = Self.margins(ensemble, train.values + test.values)
        #expect(got.count == expected.count)
        let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-12, "largest difference from LightGBM's margins: \(worst)")
        #expect(!ensemble.trees.contains { $0.feature.contains(5) }, "f5 (7 rows of 400) is pre-filtered")
    }

    /// LightGBM's bins (`FindBinWithZeroAsOneBin`): zero is a bin of its own; values join the next ones until a bin
    /// holds `min_data_in_bin` (3) rows; a cut sits one rounding step above LightGBM's bound (the double after the
    /// midpoint); the negative values get their share of the bins, and an empty zero bin stays between them and
    /// the positive ones, where LightGBM's most frequent bin is (the bin it fills by subtraction); a feature no cut
    /// of which leaves `min_data_in_leaf` rows on both sides gets no cut at all.
    @Test func binsAsLightGBM() {
        func bins(_ values: [Double], missing: Int = 0, minDataInLeaf: Int = 1) -> GradientBoosting.FeatureBins {
            values.sorted().withUnsafeBufferPointer {
                GradientBoosting.FeatureBins(sorted: $0, missingCount: missing, maxBins: 255,
                                             rules: .init(minDataInLeaf: minDataInLeaf))
            }
        }
        func repeated(_ pairs: [(Double, Int)]) -> [Double] { pairs.flatMap { Array(repeating: $0.0, count: $0.1) } }
        let zero = GradientBoosting.FeatureBins.zeroThreshold
        let rare = bins(repeated([(0, 10), (1, 1), (2, 1), (3, 5), (5, 30)]))
        #expect(rare.cuts == [zero.nextUp, (4.0).nextUp.nextUp], "1 and 2 join 3: \(rare.cuts)")
        #expect(rare.fixedBin == -1, "under 70 % in the fullest bin: zero's bin, bin 0")
        let around = bins(repeated([(-2, 10), (-1, 10), (1, 10), (2, 10)]))
        #expect(around.cuts == [(-1.5).nextUp.nextUp, (-zero).nextUp, zero.nextUp, (1.5).nextUp.nextUp],
                "\(around.cuts)")
        #expect(around.fixedBin == 2, "the empty zero bin")
        #expect(bins(repeated([(0, 95), (1, 5)]), minDataInLeaf: 20).cuts.isEmpty, "5 rows cannot make a leaf of 20")
        let dropped = bins(repeated([(0, 95), (1, 5)]), missing: 3, minDataInLeaf: 20)
        #expect(dropped.cuts.isEmpty && !dropped.hasMissing, "missing values stay with the rest")
        #expect(!bins(repeated([(0, 95), (1, 25)]), minDataInLeaf: 20).cuts.isEmpty)
    }

    /// LightGBM's reverse scan (`SplitRules.scansFromTheTop`): among equal gains the highest threshold wins, so
    /// over bins a node has no row in, the cut sits just below the right side's lowest value (here bin 1, empty,
    /// goes left) rather than just above the left side's highest.
    @Test func equalGainsTakeTheHighestThresholdAsLightGBM() {
        var bins = GradientBoosting.FeatureBins()
        bins.cuts = [1, 2]
        // (gradient, hessian, rows) per bin; bin 1 is empty.
        let histogram: [Double] = [-4, 2, 10, 0, 0, 0, 4, 2, 10]
        let totals = GradientBoosting.Totals(gradient: 0, hessian: 4, count: 20)
        var rules = GradientBoosting.SplitRules(minSamplesLeaf: 5, minHessian: 1e-3, l2: 1)
        func split() -> GradientBoosting.Split {
            histogram.withUnsafeBufferPointer {
                rules.bestSplit(feature: 0, bins: bins, histogram: $0.baseAddress!, stride: 3, constantHessian: false,
                                totals: totals)
            }
        }
        #expect(split().isValid && split().bin == 0, "scanning up: the first of equal gains, the lowest cut")
        let gain = split().gain
        rules.scansFromTheTop = true
        #expect(split().isValid && split().bin == 1, "scanning down from the top: the highest cut")
        #expect(abs(split().gain - gain) <= 1e-12 * gain)
        let softmax = GradientBoosting.softmaxRules(Hyperparameters())
        #expect(softmax.scansFromTheTop && softmax.inheritsUnsplittable, "softmax training uses LightGBM's rules")
    }

    // MARK: Explanations

    /// Each class's margins of `rows` (K per row).
    static func margins(_ ensemble: TreeEnsemble, _ rows: [Double]) -> [Double] {
        var output = [Double](repeating: 0, count: rows.count / ensemble.featureCount * ensemble.classCount)
        rows.withUnsafeBufferPointer { flat in
            output.withUnsafeMutableBufferPointer { ensemble.classMargins(rows: flat, into: $0) }
        }
        return output
    }

    /// A multi-class model trained here is explained per class: class k's contributions equal the Shapley values
    /// computed by brute force over class k's trees only (every coalition of features), its bias is class k's
    /// starting margin plus those trees' expectations, and they sum to class k's margin; row by row (the recursive
    /// algorithm) and many rows at once (leaf tables) agree.
    @Test func explainsEachClassLikeBruteForceShapley() throws {
        let data = Self.data(rows: 400)
        let model = try Self.trained(data, trees: 4).model
        guard case .trees(let ensemble) = model else { Issue.record("not trees"); return }
        let classes = ensemble.classCount, width = ensemble.featureCount
        #expect(classes == 3 && ensemble.trees.count == 12)
        let explainer = try ModelExplainer(model)
        #expect(explainer.classCount == 3 && explainer.rowWidth == 3 * (width + 1))
        var probes = Array(Self.data(rows: 20, seed: 99).values)
        probes[1] = .nan
        probes[6] = .nan
        let together = explainer.explain(probes)
        let margins = Self.margins(ensemble, probes)
        #expect(together.count == 20 * explainer.rowWidth)
        for row in 0..<20 {
            let values = Array(probes[(row * width)..<((row + 1) * width)])
            let alone = explainer.explain(values)
            for k in 0..<classes {
                var expected = [Double](repeating: 0, count: width + 1)
                expected[width] = ensemble.classMargins[k]
                for tree in Swift.stride(from: k, to: ensemble.trees.count, by: classes) {
                    for (slot, value) in ExplanationTests.bruteForce(ensemble.trees[tree], values, width: width)
                        .enumerated() { expected[slot] += value }
                }
                let start = row * explainer.rowWidth + k * (width + 1)
                let got = Array(together[start..<(start + width + 1)])
                let single = Array(alone[(k * (width + 1))..<((k + 1) * (width + 1))])
                for slot in 0...width {
                    #expect(ExplanationTests.close(got[slot], expected[slot]),
                            "row \(row) class \(k) slot \(slot): \(got[slot]) vs \(expected[slot])")
                    #expect(ExplanationTests.close(single[slot], expected[slot]), "row \(row) class \(k) alone")
                }
                #expect(ExplanationTests.close(got.reduce(0, +), margins[row * classes + k]), "row \(row) class \(k) sum")
            }
        }
    }

    /// On the imported XGBoost `multi:softprob` and LightGBM `multiclass` fixtures (missing values in the rows), every
    /// class's contributions and bias equal the library's own `pred_contribs` / `pred_contrib` (Fixtures/multiclass/
    /// generate.py) to 1e-5 relative, with a floor at 1e-5 of the row's largest value (XGBoost sums in float).
    @Test(arguments: ["xgboost-softprob", "lightgbm-multiclass"])
    func matchesTheLibrariesPredContribs(name: String) throws {
        let ensemble = name.hasPrefix("xgboost")
            ? try XGBoostModel.load(try Self.fixture("\(name).json")).ensemble
            : try LightGBMModel.load(try Self.fixture("\(name).txt")).ensemble
        let rows = try Self.rows(name)
        let expected = try Self.lines("\(name).contribs.txt")
        let explainer = try ModelExplainer(.trees(ensemble))
        #expect(rows.count == expected.count && rows.count == 60)
        #expect(rows.contains { $0.contains(where: \.isNaN) })
        let explained = explainer.explain(rows.flatMap { $0 })
        let width = explainer.rowWidth
        #expect(expected.allSatisfy { $0.count == width }, "\(width) values a row")
        for (index, want) in expected.enumerated() where want.count == width {
            let got = Array(explained[(index * width)..<((index + 1) * width)])
            let scale = want.map(abs).max() ?? 1
            for (slot, (a, b)) in zip(got, want).enumerated() {
                #expect(ExplanationTests.close(a, b, relative: 1e-5, absolute: 1e-5 * scale),
                        "\(name) row \(index) slot \(slot): \(a), library \(b)")
            }
        }
    }

    /// A multi-class explanation's JSON is keyed by class label (each class `{"<feature>": x, …, "bias": b}`), reads
    /// back equal (what RemoteAPI does) and conforms to the published predict answer schema, single rows and batches;
    /// the flat form of other models is unchanged; a batch mixing both forms is refused.
    @Test func explanationJSONKeyedByClass() throws {
        let probabilities = ClassProbabilities(labels: [.int(0), .int(4)], values: [0.25, 0.75])
        let single = ExplainedPrediction(
            answer: .single(Prediction(model: "m", input: [.int(1), .int(2)], prediction: .int(4), version: "1",
                                       probabilities: probabilities)),
            features: ["a", "b"], contributions: [[0.1, 0.2, 0.3, -0.1, -0.2, 1.5]], classLabels: [.int(0), .int(4)])
        let text = JSONWriter.compact(single.json)
        #expect(text.hasSuffix(
            #""contributions":{"0":{"a":0.1,"b":0.2,"bias":0.3},"4":{"a":-0.1,"b":-0.2,"bias":1.5}}}"#), "\(text)")
        #expect(try ExplainedPrediction(json: single.json) == single)
        #expect(Array(single.contributions(row: 0, class: 1)) == [-0.1, -0.2, 1.5])
        #expect(SchemaCheck.problems(single.json, Schema.predictResponse).isEmpty,
                "\(SchemaCheck.problems(single.json, Schema.predictResponse))")
        let batch = ExplainedPrediction(
            answer: .batch(BatchPrediction(model: "m", version: "1", predictions: [.int(4), .int(0)],
                                           probabilities: [probabilities, probabilities])),
            features: ["a", "b"], contributions: [[0.1, 0.2, 0.3, -0.1, -0.2, 1.5], [1, 2, 3, 4, 5, 6]],
            classLabels: [.int(0), .int(4)])
        #expect(try ExplainedPrediction(json: batch.json) == batch)
        #expect(SchemaCheck.problems(batch.json, Schema.predictResponse).isEmpty,
                "\(SchemaCheck.problems(batch.json, Schema.predictResponse))")
        let flat = ExplainedPrediction(
            answer: .single(Prediction(model: "m", input: [.int(1)], prediction: .double(0.5), version: "1")),
            features: ["a"], contributions: [[0.25, 0.25]])
        #expect(JSONWriter.compact(flat.json).hasSuffix(#""contributions":{"a":0.25,"bias":0.25}}"#))
        #expect(try ExplainedPrediction(json: flat.json) == flat)
        #expect(SchemaCheck.problems(flat.json, Schema.predictResponse).isEmpty)
        let mixed = try JSONParser.parse(
            #"{"model":"m","version":"1","predictions":[1,2],"contributions":[{"a":1,"bias":2},"#
                + #"{"0":{"a":1,"bias":2},"1":{"a":1,"bias":2}}]}"#)
        #expect(throws: XalorraError.self) { try ExplainedPrediction(json: mixed) }
    }

    // MARK: Storage

    /// A stored softmax model reads back equal and predicts the same; a stored model of before (no class members)
    /// still reads.
    @Test func storedModelReadsBack() throws {
        let model = try Self.trained(Self.data(rows: 400), trees: 5).model
        let bytes = ModelDocument.encode(model)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""class_labels":[2.0,5.0,9.0]"#))
        let read = try ModelDocument.decode(bytes)
        #expect(read == model && read.classLabels == [2, 5, 9])
        let rows = [[0.1, -0.4, 0.3, 0.9], [-0.9, 0.2, 0.0, 0.1], [0.7, 0.7, -0.2, 0.5]]
        #expect(Self.labels(read, rows) == Self.labels(model, rows))
        let old = #"{"type":"trees","objective":"regression","base_margin":1.5,"feature_count":1,"float32":false,"#
            + #""trees":[{"feature":[-1],"threshold":[0],"left":[-1],"right":[-1],"default_left":[0],"value":[2]}]}"#
        let oldModel = try ModelDocument.decode(Array(old.utf8))
        #expect(oldModel.classLabels.isEmpty)
        #expect(Self.labels(oldModel, [[4]]) == [3.5])
    }

    /// Hostile stored or exported softmax documents are refused with a message: a tree count that is not a
    /// multiple of K, repeated or missing labels, a margin per class missing, too many classes.
    @Test func hostileDocumentsAreRefused() throws {
        let leaf = #"{"feature":[-1],"threshold":[0],"left":[-1],"right":[-1],"default_left":[0],"value":[1]}"#
        func document(labels: String, margins: String, trees: Int) -> [UInt8] {
            Array((#"{"type":"trees","objective":"softmax","base_margin":0,"feature_count":1,"float32":false,"#
                + #""class_labels":\#(labels),"class_margins":\#(margins),"trees":["#
                + Array(repeating: leaf, count: trees).joined(separator: ",") + "]}").utf8)
        }
        let many = "[" + (0...256).map(String.init).joined(separator: ",") + "]"
        let cases: [([UInt8], String)] = [
            (document(labels: "[0,1,2]", margins: "[0,0,0]", trees: 4), "4 trees are not a whole number of rounds"),
            (document(labels: "[0,1,1]", margins: "[0,0,0]", trees: 3), "labels must be distinct"),
            (document(labels: "[0,1,2]", margins: "[0,0]", trees: 3), "one finite starting margin per class"),
            (document(labels: "[0]", margins: "[0]", trees: 3), "needs 2 to 256 classes, not 1"),
            (document(labels: many, margins: many, trees: 0), "at most 256 classes"),
            (Array(String(decoding: document(labels: "[0,1]", margins: "[0,0]", trees: 2), as: UTF8.self)
                .replacingOccurrences(of: #""class_labels":[0,1],"#, with: "").utf8), "needs 2 to 256 classes, not 0"),
        ]
        for (bytes, message) in cases {
            do {
                _ = try ModelDocument.decode(bytes)
                Issue.record("read: \(message)")
            } catch {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        #expect(try ModelDocument.decode(document(labels: "[0,1,2]", margins: "[0,0,0]", trees: 6)).classLabels.count == 3)
    }

    // MARK: Imports

    /// XGBoost (`multi:softprob`, `multi:softmax`) and LightGBM (`multiclass`) models predict the libraries' own
    /// class probabilities to 1e-6 relative and their classes, missing values included.
    @Test(arguments: ["xgboost-softprob", "xgboost-softmax", "lightgbm-multiclass"])
    func importsMatchTheLibraries(name: String) throws {
        let ensemble = name.hasPrefix("xgboost")
            ? try XGBoostModel.load(try Self.fixture("\(name).json")).ensemble
            : try LightGBMModel.load(try Self.fixture("\(name).txt")).ensemble
        let rows = try Self.rows(name)
        let expected = try Self.lines("\(name).expected.txt")
        let labels = try Self.lines("\(name).labels.txt").map { $0[0] }
        let classes = expected[0].count
        #expect(ensemble.objective == .softmax && ensemble.classLabels == (0..<classes).map(Double.init))
        #expect(rows.count == expected.count && rows.count == 60)
        let got = Self.probabilities(ensemble, rows)
        for (index, want) in expected.enumerated() {
            for k in 0..<classes {
                #expect(Self.close(got[index * classes + k], want[k]),
                        "\(name) row \(index) class \(k): \(got[index * classes + k]), library \(want[k])")
            }
        }
        #expect(Self.labels(.trees(ensemble), rows) == labels)
        let stored = try ModelDocument.decode(ModelDocument.encode(.trees(ensemble)))
        #expect(stored == .trees(ensemble))
    }

    /// Hostile or unsupported multi-class imports are refused with a message: num_class 0 or huge, LightGBM's
    /// one-vs-all, a tree count that is not a multiple of K, tree groups out of range or uneven, base scores that
    /// do not match the classes.
    @Test func hostileImportsAreRefused() throws {
        let xgb = String(decoding: try Self.fixture("xgboost-softprob.json"), as: UTF8.self)
        let lgb = String(decoding: try Self.fixture("lightgbm-multiclass.txt"), as: UTF8.self)
        func xgbRefusal(_ text: String) -> String? {
            do { _ = try XGBoostModel.load(Array(text.utf8)); return nil } catch { return error.message }
        }
        func lgbRefusal(_ text: String) -> String? {
            do { _ = try LightGBMModel.load(Array(text.utf8)); return nil } catch { return error.message }
        }
        let firstInfo = xgb.range(of: #""tree_info":[0,1,2,3"#)!
        let xgbCases: [(String, String)] = [
            (xgb.replacingOccurrences(of: #""num_class":"4""#, with: #""num_class":"100000""#),
             "num_class 100000 is not a number of classes xalorra supports"),
            (xgb.replacingOccurrences(of: #""num_class":"4""#, with: #""num_class":"-1""#), "num_class -1"),
            (xgb.replacingOccurrences(of: #""num_class":"4""#, with: #""num_class":"0""#),
             "needs num_class 2 or more"),
            (xgb.replacingCharacters(in: firstInfo, with: #""tree_info":[0,1,2,7"#),
             "tree_info names output group 7, but num_class is 4"),
            (xgb.replacingCharacters(in: firstInfo, with: #""tree_info":[0,1,2,2"#),
             "the classes have different numbers of trees"),
            (xgb.replacingOccurrences(of: #""base_score":"[0E0,0E0,0E0,0E0]""#, with: #""base_score":"[0E0,0E0]""#),
             "base_score has 2 values, but num_class is 4"),
            (xgb.replacingOccurrences(of: #""name":"multi:softprob""#, with: #""name":"reg:squarederror""#),
             "multi-class models need multi:softprob or multi:softmax"),
        ]
        for (text, message) in xgbCases {
            let refusal = xgbRefusal(text)
            #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded"): wanted \(message)")
        }
        // Drop the last tree: 74 trees are not whole rounds of 3.
        let lastTree = lgb.range(of: "Tree=74\n")!.lowerBound
        let endOfTrees = lgb.range(of: "end of trees")!.lowerBound
        let cut = String(lgb[..<lastTree] + lgb[endOfTrees...])
            .replacingOccurrences(of: #"tree_sizes=[^\n]*\n"#, with: "", options: .regularExpression)
        let lgbCases: [(String, String)] = [
            (lgb.replacingOccurrences(of: "num_class=3\nnum_tree_per_iteration=3", with: "num_class=0\nnum_tree_per_iteration=0"),
             "num_class 0 is not a number of classes"),
            (lgb.replacingOccurrences(of: "num_class=3\nnum_tree_per_iteration=3",
                                      with: "num_class=100000\nnum_tree_per_iteration=100000"),
             "num_class 100000 with 100000 trees per iteration is not supported"),
            (lgb.replacingOccurrences(of: "objective=multiclass num_class:3", with: "objective=regression"),
             "num_class 3 needs objective multiclass"),
            (cut, "74 trees, not a whole number of iterations of 3"),
            (String(decoding: try Self.fixture("refuse-multiclassova.txt"), as: UTF8.self),
             "objective \"multiclassova\" (one-vs-all) is not supported"),
        ]
        for (text, message) in lgbCases {
            let refusal = lgbRefusal(text)
            #expect(refusal?.contains(message) == true, "\(refusal ?? "loaded"): wanted \(message)")
        }
    }

    // MARK: The binary

    /// Through the CLI, offline and over HTTP: `train` picks multiclass by itself and shows its metrics, `predict`
    /// prints a class label, a batch file gets a label a line (after a header, with each class's probability) equal
    /// to LightGBM's classes for an imported model, `--explain` prints the predicted class's contributions, and
    /// `--objective multiclass` on a non-integer target is a usage error.
    @Test func cliTrainsImportsAndPredicts() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let remote = ["--url", server.url, "--token", try server.token()]
        let data = Self.data(rows: 600)
        var csv = "a,b,c,d,kind\n"
        for row in 0..<data.rowCount {
            csv += data.values[(row * 4)..<(row * 4 + 4)].map { "\($0)" }.joined(separator: ",")
                + ",\(Int(data.target[row]))\n"
        }
        let file = try cli.write("classes.csv", csv)
        let trained = try cli.run(["train", "iris", "--data", file, "--target", "kind", "--trees", "20"])
        #expect(trained.status == 0 && trained.stdout.contains("accuracy"), "\(trained)")
        for extra in [[], remote] {
            let answer = try cli.run(["predict", "iris", "0.9", "0.9", "0", "0"] + extra)
            #expect(answer.status == 0 && Double(answer.stdout.dropLast()) == 9, "\(answer)")
            let explained = try cli.run(["predict", "iris", "0.9", "0.9", "0", "0", "--explain"] + extra)
            #expect(explained.status == 0, "\(explained)")
            #expect(explained.stdout.hasPrefix("9\ncontributions to the margin of class 9 (the predicted class"),
                    "\(explained)")
            let lineCount = explained.stdout.split(separator: "\n").count
            #expect(lineCount == 8, "label, note, header, a b c d, base value")
        }
        var bad = "a,kind\n"
        for row in 0..<30 { bad += "\(row),\(Double(row % 3) + 0.5)\n" }
        let refused = try cli.run(["train", "bad", "--data", try cli.write("bad.csv", bad), "--target", "kind",
                                   "--objective", "multiclass"])
        #expect(refused.status != 0 && refused.stderr.contains("whole-number class labels"), "\(refused)")
        let imported = try cli.run(["models", "import", "lgbm", try Self.path("lightgbm-multiclass.txt")] + remote)
        #expect(imported.status == 0, "\(imported)")
        let labels = try Self.lines("lightgbm-multiclass.labels.txt").map { $0[0] }
        let batch = try cli.run(["predict", "lgbm", "--file", try Self.path("lightgbm-multiclass.input.csv")])
        #expect(batch.status == 0, "\(batch)")
        let lines = batch.stdout.split(separator: "\n")
        #expect(lines.first == "prediction,p_0,p_1,p_2", "\(batch.stdout.prefix(200))")
        #expect(lines.dropFirst().map { Double($0.split(separator: ",")[0]) } == labels, "\(batch.stdout.prefix(200))")
    }

    /// Over HTTP and through the CLI (offline and `--url`), an imported LightGBM multi-class model's explanations are
    /// keyed by class label and equal LightGBM's `pred_contrib`; a single row's `--explain` prints the predicted
    /// class's, `--json` every class's; a batch file with `--explain` gets the prediction, each class's probability
    /// (`p_<label>`) and each class's contributions (`<feature>_<label>`, `bias_<label>`) as CSV, `probabilities` and
    /// keyed `contributions` as NDJSON, the same offline and remote.
    @Test func explainsEveryClassOnEverySurface() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let imported = try server.cli.run(["models", "import", "lgbm", try Self.path("lightgbm-multiclass.txt")])
        #expect(imported.status == 0, "\(imported)")
        let rows = try Self.rows("lightgbm-multiclass")
        let contribs = try Self.lines("lightgbm-multiclass.contribs.txt")
        let expected = try Self.lines("lightgbm-multiclass.expected.txt")
        let labels = try Self.lines("lightgbm-multiclass.labels.txt").map { Int($0[0]) }
        let names = (0..<5).map { "Column_\($0)" } + ["bias"]
        func close(_ a: Double, _ b: Double, scale: Double) -> Bool { abs(a - b) <= 1e-6 * scale }
        func number(_ value: JSONValue?) -> Double? {
            if case .number(let number)? = value { return number.doubleValue } else { return nil }
        }
        func cells(_ row: [Double]) -> String { row.map { $0.isNaN ? "null" : "\($0)" }.joined(separator: ",") }
        let complete = try #require(rows.indices.first { !rows[$0].contains(where: \.isNaN) })

        // HTTP, one row: keyed by class, equal to LightGBM's, conforming to the published schema.
        let single = try await server.request(
            "POST", "/predict/lgbm", token: token, body: #"{"features":[\#(cells(rows[complete]))],"explain":true}"#)
        #expect(single.status == 200, "\(single.body)")
        let body = try JSONParser.parse(single.body)
        #expect(SchemaCheck.problems(body, Schema.predictResponse).isEmpty, "\(single.body)")
        #expect(body["probabilities"]?["1"] != nil, "\(single.body)")
        let scale = contribs[complete].map(abs).max() ?? 1
        for k in 0..<3 {
            for (slot, name) in names.enumerated() {
                let got = number(body["contributions"]?["\(k)"]?[name])
                #expect(got.map { close($0, contribs[complete][k * 6 + slot], scale: scale) } == true,
                        "class \(k) \(name): \(String(describing: got))")
            }
        }
        // HTTP, a batch with missing values.
        let instances = rows.prefix(10).map { "[\(cells($0))]" }.joined(separator: ",")
        let batch = try await server.request(
            "POST", "/predict/lgbm", token: token, body: #"{"instances":[\#(instances)],"explain":true}"#)
        #expect(batch.status == 200, "\(batch.body)")
        let batchJSON = try JSONParser.parse(batch.body)
        #expect(SchemaCheck.problems(batchJSON, Schema.predictResponse).isEmpty, "\(batch.body.prefix(300))")
        let explained = try ExplainedPrediction(json: batchJSON)
        #expect(explained.classLabels == [.int(0), .int(1), .int(2)] && explained.contributions.count == 10)
        for (index, row) in explained.contributions.enumerated() {
            let rowScale = contribs[index].map(abs).max() ?? 1
            #expect(row.count == 18 && zip(row, contribs[index]).allSatisfy { close($0, $1, scale: rowScale) },
                    "row \(index): \(row)")
        }

        // The CLI, offline and remote.
        let remote = ["--url", server.url, "--token", token]
        let file = try Self.path("lightgbm-multiclass.input.csv")
        var outputs: [[String]] = []
        for extra in [[], remote] {
            let args = rows[complete].map { "\($0)" }
            let plain = try server.cli.run(["predict", "lgbm"] + args + ["--explain"] + extra)
            let lines = plain.stdout.split(separator: "\n").map(String.init)
            #expect(plain.status == 0 && lines.first == "\(labels[complete])", "\(plain)")
            #expect(lines.count == 9 && lines[1].hasPrefix(
                "contributions to the margin of class \(labels[complete]) (the predicted class"), "\(plain)")
            let json = try JSONParser.parse(
                try server.cli.run(["predict", "lgbm"] + args + ["--explain", "--json"] + extra).stdout)
            #expect(number(json["contributions"]?["2"]?["bias"]).map { close($0, contribs[complete][17], scale: scale) }
                    == true, "\(json)")
            let csv = try server.cli.run(["predict", "lgbm", "--file", file, "--explain"] + extra)
            #expect(csv.status == 0, "\(csv)")
            let csvLines = csv.stdout.split(separator: "\n").map(String.init)
            let header = ["prediction", "p_0", "p_1", "p_2"] + (0..<3).flatMap { k in names.map { "\($0)_\(k)" } }
            #expect(csvLines.first == header.joined(separator: ","), "\(csvLines.first ?? "")")
            #expect(csvLines.count == 61)
            for (index, line) in csvLines.dropFirst().enumerated() {
                let values = line.split(separator: ",").compactMap { Double($0) }
                let rowScale = contribs[index].map(abs).max() ?? 1
                #expect(values.count == 22 && Int(values[0]) == labels[index], "row \(index): \(line)")
                guard values.count == 22 else { continue }
                #expect(zip(values[1..<4], expected[index]).allSatisfy { close($0, $1, scale: 1) }, "row \(index)")
                #expect(zip(values[4...], contribs[index]).allSatisfy { close($0, $1, scale: rowScale) }, "row \(index)")
            }
            let ndjson = try server.cli.run(["predict", "lgbm", "--file", file, "--explain", "--json"] + extra)
            let first = try JSONParser.parse(String(ndjson.stdout.split(separator: "\n").first ?? ""))
            #expect(number(first["probabilities"]?["0"]).map { close($0, expected[0][0], scale: 1) } == true, "\(first)")
            #expect(number(first["contributions"]?["1"]?["Column_0"]).map { close($0, contribs[0][6], scale: 1) }
                    == true, "\(first)")
            outputs.append([plain.stdout, csv.stdout, ndjson.stdout])
        }
        #expect(outputs[0] == outputs[1], "offline and remote answer the same")
    }

    /// A batch file without `--explain` gets each class's probability after the prediction: a CSV header
    /// `prediction,p_<label>…` then one row a line, NDJSON lines with `probabilities`, offline and remote alike.
    @Test func batchFilesHaveAColumnPerClass() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let imported = try server.cli.run(["models", "import", "lgbm", try Self.path("lightgbm-multiclass.txt")])
        #expect(imported.status == 0, "\(imported)")
        let expected = try Self.lines("lightgbm-multiclass.expected.txt")
        let labels = try Self.lines("lightgbm-multiclass.labels.txt").map { Int($0[0]) }
        let file = try Self.path("lightgbm-multiclass.input.csv")
        let offline = try server.cli.run(["predict", "lgbm", "--file", file])
        let lines = offline.stdout.split(separator: "\n")
        #expect(offline.status == 0 && lines.first == "prediction,p_0,p_1,p_2" && lines.count == 61, "\(offline)")
        for (index, line) in lines.dropFirst().enumerated() {
            let values = line.split(separator: ",").compactMap { Double($0) }
            #expect(values.count == 4 && Int(values[0]) == labels[index], "row \(index): \(line)")
            #expect(zip(values.dropFirst(), expected[index]).allSatisfy { Self.close($0, $1) }, "row \(index): \(line)")
        }
        let ndjson = try server.cli.run(["predict", "lgbm", "--file", file, "--json"])
        let first = try JSONParser.parse(String(ndjson.stdout.split(separator: "\n").first ?? ""))
        #expect(first["prediction"] == .number(.int(Int64(labels[0]))) && first["probabilities"]?["2"] != nil,
                "\(first)")
        let remote = ["--url", server.url, "--token", token]
        let remoteCSV = try server.cli.run(["predict", "lgbm", "--file", file] + remote)
        let remoteNDJSON = try server.cli.run(["predict", "lgbm", "--file", file, "--json"] + remote)
        #expect(remoteCSV.stdout == offline.stdout, "\(remoteCSV.stdout.prefix(200))")
        #expect(remoteNDJSON.stdout == ndjson.stdout, "\(remoteNDJSON.stdout.prefix(200))")
    }

    // MARK: Answers

    /// A multi-class answer's JSON carries the label as `prediction` and `probabilities` keyed by label text, and
    /// reads back equal (what RemoteAPI does); answers of other models have no `probabilities` member.
    @Test func answerJSONRoundTrips() throws {
        let probabilities = ClassProbabilities(labels: [.int(0), .int(1), .int(7)], values: [0.25, 0.5, 0.25])
        let single = Prediction(model: "m", input: [.int(1)], prediction: .int(1), version: "2",
                                probabilities: probabilities)
        let text = JSONWriter.compact(single.json)
        #expect(text.hasSuffix(#""version":"2","probabilities":{"0":0.25,"1":0.5,"7":0.25}}"#), "\(text)")
        #expect(try Prediction(json: single.json) == single)
        let batch = BatchPrediction(model: "m", version: "2", predictions: [.int(1), .int(7)],
                                    probabilities: [probabilities, probabilities])
        #expect(try BatchPrediction(json: batch.json) == batch)
        let plain = Prediction(model: "m", input: [.int(1)], prediction: .double(0.5), version: "2")
        let decoded = try Prediction(json: plain.json)
        #expect(plain.json["probabilities"] == nil && decoded == plain)
        #expect(ClassProbabilities.label(3) == .int(3) && ClassProbabilities.label(-0.0) == .int(0))
    }

    /// Over HTTP, a single row and a batch of an imported LightGBM multi-class model answer the class label and the
    /// class probabilities LightGBM computes (to 1e-6), keyed by label, and the CLI's `--json` shows both; the
    /// prediction log holds the label.
    @Test func httpAndCLIAnswerLabelsAndProbabilities() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let imported = try server.cli.run(["models", "import", "lgbm", try Self.path("lightgbm-multiclass.txt")])
        #expect(imported.status == 0, "\(imported)")
        let rows = try Self.rows("lightgbm-multiclass")
        let expected = try Self.lines("lightgbm-multiclass.expected.txt")
        let labels = try Self.lines("lightgbm-multiclass.labels.txt").map { Int($0[0]) }
        func cells(_ row: [Double]) -> String { row.map { $0.isNaN ? "null" : "\($0)" }.joined(separator: ",") }
        let complete = try #require(rows.indices.first { !rows[$0].contains(where: \.isNaN) })
        let single = try await server.request(
            "POST", "/predict/lgbm", token: token, body: #"{"features":[\#(cells(rows[complete]))]}"#)
        #expect(single.status == 200, "\(single.body)")
        let body = try JSONParser.parse(single.body)
        #expect(body["prediction"] == .number(.int(Int64(labels[complete]))), "\(single.body)")
        for k in 0..<3 {
            guard case .number(let p)? = body["probabilities"]?["\(k)"] else { Issue.record("\(single.body)"); continue }
            #expect(Self.close(p.doubleValue, expected[complete][k]), "class \(k): \(p)")
        }
        let instances = rows.prefix(10).map { "[\(cells($0))]" }.joined(separator: ",")
        let batch = try await server.request(
            "POST", "/predict/lgbm", token: token, body: #"{"instances":[\#(instances)]}"#)
        #expect(batch.status == 200, "\(batch.body)")
        let answer = try BatchPrediction(json: try JSONParser.parse(batch.body))
        #expect(answer.predictions == labels.prefix(10).map { .int(Int64($0)) })
        let probabilities = try #require(answer.probabilities)
        #expect(probabilities.count == 10)
        for (index, row) in probabilities.enumerated() {
            #expect(row.labels == [.int(0), .int(1), .int(2)])
            #expect(zip(row.values, expected[index]).allSatisfy { Self.close($0, $1) }, "row \(index)")
        }
        let remote = ["--url", server.url, "--token", token]
        for extra in [[], remote] {
            let json = try server.cli.run(["predict", "lgbm"] + rows[complete].map { "\($0)" } + ["--json"] + extra)
            let parsed = try JSONParser.parse(json.stdout)
            #expect(parsed["prediction"] == .number(.int(Int64(labels[complete]))), "\(json)")
            #expect(parsed["probabilities"]?["2"] != nil, "\(json)")
            let plain = try server.cli.run(["predict", "lgbm"] + rows[complete].map { "\($0)" } + extra)
            #expect(plain.stdout == "\(labels[complete])\n", "\(plain)")
        }
        let logged = try server.cli.run(["logs", "--json", "--limit", "1"])
        #expect(logged.stdout.contains(#""prediction":\#(labels[complete])"#), "\(logged.stdout.prefix(400))")

        // OIP: the labels as `predict` (INT64) and the probabilities as a second output, [N, K] FP64 in class order,
        // as JSON and as binary data (its size in the header, its bytes after the labels').
        let data = rows.prefix(4).map { $0.map { $0.isNaN ? "0" : "\($0)" }.joined(separator: ",") }.joined(separator: ",")
        let tensor = #"{"name":"input","shape":[4,\#(rows[0].count)],"datatype":"FP64","data":[\#(data)]}"#
        let oip = try await server.request(
            "POST", "/v2/models/lgbm/infer", token: token,
            body: #"{"inputs":[\#(tensor)],"outputs":[{"name":"predict"},{"name":"probabilities"}]}"#)
        #expect(oip.status == 200, "\(oip.body)")
        let outputs = try JSONParser.parse(oip.body)["outputs"]?.arrayValue ?? []
        #expect(outputs.count == 2 && outputs.first?["datatype"] == "INT64", "\(oip.body)")
        #expect(outputs.last?["name"] == "probabilities" && outputs.last?["datatype"] == "FP64", "\(oip.body)")
        #expect(outputs.last?["shape"] == .array([.number(.int(4)), .number(.int(3))]), "\(oip.body)")
        let values = (outputs.last?["data"]?.arrayValue ?? []).compactMap { value -> Double? in
            if case .number(let number) = value { return number.doubleValue } else { return nil }
        }
        #expect(values.count == 12)
        for row in 0..<4 where values.count == 12 {
            #expect(abs(values[row * 3..<row * 3 + 3].reduce(0, +) - 1) < 1e-9, "row \(row) sums to 1")
        }
        let binary = try await server.request(
            "POST", "/v2/models/lgbm/infer", token: token,
            body: #"{"inputs":[\#(tensor)],"parameters":{"binary_data_output":true}}"#)
        #expect(binary.status == 200)
        let length = try #require(binary.headers.first(name: "Inference-Header-Content-Length").flatMap { Int($0) })
        let header = try JSONParser.parse(String(decoding: Array(binary.body.utf8).prefix(length), as: UTF8.self))
        let sizes = (header["outputs"]?.arrayValue ?? []).map { $0["parameters"]?["binary_data_size"] }
        #expect(sizes == [.number(.int(32)), .number(.int(96))], "\(header)")
        let refused = try await server.request(
            "POST", "/v2/models/lgbm/infer", token: token, body: #"{"inputs":[\#(tensor)],"outputs":[{"name":"x"}]}"#)
        #expect(refused.status == 422 && refused.body.contains("probabilities"), "\(refused.body)")
    }
}
