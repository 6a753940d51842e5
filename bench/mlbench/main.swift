// xalorra-mlbench: trains a gbdt model on a training CSV, measures it on a test CSV and prints one JSON line.
//
//   xalorra-mlbench --train TRAIN.csv --test TEST.csv [--target target]
//       [--objective auto|regression|binary|multiclass]
//       [--trees 100] [--max-depth 6] [--learning-rate 0.1] [--min-samples-leaf 20] [--l2 1] [--bins 255]
//       [--threads 1] [--valid-fraction 0] [--early-stopping N] [--seed 0] [--predict-rows 1000000]
//       [--explain-rows 0] [--single-calls 200000] [--dump-trees PATH]
//
// Output keys: train_seconds, rounds, objective, rmse or logloss (on the test rows), predict_rows_per_second (one
// batch predict of the test rows repeated to at least --predict-rows rows, one thread, best of 3) and
// single_row_predict_ns (mean of one-row predicts, as a server request makes). A multi-class model (K classes) adds
// classes and accuracy; its logloss is the multi-class log-loss, and its batch predict computes what an answer
// carries: each row's label and its K class probabilities (single rows: the label). With --explain-rows N, also
// explain_us_per_row (exact TreeSHAP of N test rows, repeated as needed, one thread, best of 3) and
// leaves_per_tree (what TreeSHAP's cost grows with, to compare with another library's model of the same shape).
// With --dump-trees PATH, the trained trees are written to PATH as JSON (class margins and, per tree, its node
// arrays), to compare them node by node with another library's (e.g. LightGBM's `dump_model()`).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraML

/// Writes `message` and a newline to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// Prints `message` to stderr and exits 2.
func fail(_ message: String) -> Never {
    printError("xalorra-mlbench: \(message)")
    exit(2)
}

/// Seconds on the monotonic clock.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The whole file at `path`.
func readFile(_ path: String) -> [UInt8] {
    guard let file = fopen(path, "rb") else { fail("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return bytes
}

/// The CSV at `path` as a dataset whose target is the column `target`.
func loadDataset(_ path: String, target: String) -> Dataset {
    do {
        return try Dataset(CSVReader.read(readFile(path)), target: target)
    } catch {
        fail("\(path): \(error)")
    }
}

/// Writes the trees of a gbdt `model` to `path` as one JSON object: `class_margins`, `base_margin` and `trees`, each
/// tree its node arrays (`feature`, -1 for a leaf; `threshold`, x < threshold goes left; `left`, `right`, `value`,
/// `cover`, `gain`).
func dumpTrees(_ model: TrainedModel, to path: String) {
    guard case .trees(let ensemble) = model else { fail("--dump-trees: the model has no trees") }
    func list<T>(_ values: [T]) -> String { "[" + values.map { "\($0)" }.joined(separator: ",") + "]" }
    func numbers(_ values: [Double]) -> String { list(values.map { $0.isFinite ? "\($0)" : "null" }) }
    var text = "{\"base_margin\": \(ensemble.baseMargin), \"class_margins\": \(numbers(ensemble.classMargins)), "
        + "\"trees\": [\n"
    for (index, tree) in ensemble.trees.enumerated() {
        text += (index == 0 ? "" : ",\n") + "{\"feature\": \(list(tree.feature)), "
            + "\"threshold\": \(numbers(tree.threshold)), \"left\": \(list(tree.left)), "
            + "\"right\": \(list(tree.right)), \"value\": \(numbers(tree.value)), "
            + "\"cover\": \(numbers(tree.cover)), \"gain\": \(numbers(tree.gain))}"
    }
    text += "\n]}\n"
    guard let file = fopen(path, "wb") else { fail("cannot write \(path)") }
    defer { fclose(file) }
    text.withUTF8 { bytes in _ = fwrite(bytes.baseAddress, 1, bytes.count, file) }
}

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard flag.hasPrefix("--"), let value = arguments.popFirst() else { fail("expected --flag value, got \(flag)") }
    options[String(flag.dropFirst(2))] = value
}
@MainActor
func option<T: LosslessStringConvertible>(_ name: String, _ fallback: T) -> T {
    guard let text = options.removeValue(forKey: name) else { return fallback }
    guard let value = T(text) else { fail("--\(name): '\(text)' is not valid") }
    return value
}

guard let trainPath = options.removeValue(forKey: "train"), let testPath = options.removeValue(forKey: "test") else {
    fail("usage: xalorra-mlbench --train TRAIN.csv --test TEST.csv [--target NAME] [--trees N] ...")
}
let targetName = option("target", "target")
var parameters = Hyperparameters()
parameters.trees = option("trees", parameters.trees)
parameters.maxDepth = option("max-depth", parameters.maxDepth)
parameters.learningRate = option("learning-rate", parameters.learningRate)
parameters.minSamplesLeaf = option("min-samples-leaf", parameters.minSamplesLeaf)
parameters.l2 = option("l2", parameters.l2)
parameters.bins = option("bins", parameters.bins)
parameters.threads = option("threads", parameters.threads)
parameters.validFraction = option("valid-fraction", 0.0)
parameters.seed = option("seed", parameters.seed)
if let patience = options.removeValue(forKey: "early-stopping") {
    guard let value = Int(patience) else { fail("--early-stopping: '\(patience)' is not a number") }
    parameters.earlyStopping = value
}
let objectiveName = option("objective", "auto")
guard let objective = Hyperparameters.Objective(rawValue: objectiveName) else { fail("--objective: \(objectiveName)") }
parameters.objective = objective
let predictRows = option("predict-rows", 1_000_000)
let explainRows = option("explain-rows", 0)
let singleCalls = option("single-calls", 200_000)
let dumpPath = options.removeValue(forKey: "dump-trees")
if let unknown = options.keys.sorted().first { fail("unknown option --\(unknown)") }

let train = loadDataset(trainPath, target: targetName)
let test = loadDataset(testPath, target: targetName)
guard test.featureCount == train.featureCount else { fail("the test file has different features") }

let start = now()
let result: Trainer.Result
do {
    result = try Trainer.train(.gbdt, on: train, parameters: parameters)
} catch {
    fail("training failed: \(error)")
}
let trainSeconds = now() - start
let model = result.model
if let dumpPath { dumpTrees(model, to: dumpPath) }

// Test metric.
var predictions = [Double](repeating: 0, count: test.rowCount)
test.values.withUnsafeBufferPointer { rows in
    predictions.withUnsafeMutableBufferPointer { output in model.predict(rows: rows, into: output) }
}
let binary = result.objective == .binary
let labels = model.classLabels
let classCount = labels.count
var probabilities = [Double](repeating: 0, count: test.rowCount * classCount)
let metrics: Metrics
if classCount > 0 {
    test.values.withUnsafeBufferPointer { rows in
        probabilities.withUnsafeMutableBufferPointer { output in model.probabilities(rows: rows, into: output) }
    }
    let classes = test.target.map { target in
        guard let index = labels.firstIndex(of: target) else { fail("the test label \(target) is not a trained class") }
        return index
    }
    metrics = Metrics.multiClass(probabilities: probabilities, classes: classes, classCount: classCount)
} else {
    metrics = binary
        ? Metrics.classification(probabilities: predictions, targets: test.target)
        : Metrics.regression(predictions: predictions, targets: test.target)
}

// Batch throughput: the test rows repeated to at least `predictRows` rows, one call, best of three.
let repeats = max(1, (predictRows + test.rowCount - 1) / max(test.rowCount, 1))
var batch: [Double] = []
batch.reserveCapacity(repeats * test.values.count)
for _ in 0..<repeats { batch.append(contentsOf: test.values) }
let batchRows = repeats * test.rowCount
var batchOutput = [Double](repeating: 0, count: batchRows)
var batchProbabilities = [Double](repeating: 0, count: batchRows * classCount)
var bestSeconds = Double.infinity
for _ in 0..<3 {
    let begin = now()
    batch.withUnsafeBufferPointer { rows in
        batchOutput.withUnsafeMutableBufferPointer { output in model.predict(rows: rows, into: output) }
        if classCount > 0 {
            batchProbabilities.withUnsafeMutableBufferPointer { output in model.probabilities(rows: rows, into: output) }
        }
    }
    bestSeconds = min(bestSeconds, now() - begin)
}

// Single-row latency: one predict call per row, cycling through the test rows.
let width = test.featureCount
var checksum = 0.0
let singleStart = now()
test.values.withUnsafeBufferPointer { values in
    for call in 0..<singleCalls {
        let row = call % test.rowCount
        checksum += model.predict(UnsafeBufferPointer(rebasing: values[row * width..<(row + 1) * width]))
    }
}
let singleNanoseconds = (now() - singleStart) / Double(max(singleCalls, 1)) * 1e9
if checksum.isNaN { printError("xalorra-mlbench: a single-row prediction is NaN") }

func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }

// Explanations: TreeSHAP of `explainRows` rows (the test rows cycled), one thread, best of three.
var explainField = ""
if explainRows > 0 {
    let explainer: ModelExplainer
    do { explainer = try ModelExplainer(model) } catch { fail("explaining: \(error.message)") }
    var rows: [Double] = []
    rows.reserveCapacity(explainRows * width)
    for index in 0..<explainRows { rows += test.values[(index % test.rowCount) * width..<(index % test.rowCount + 1) * width] }
    var output = [Double](repeating: 0, count: explainRows * explainer.rowWidth)
    var best = Double.infinity
    for _ in 0..<3 {
        let begin = now()
        rows.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { output in explainer.explain(rows: rows, into: output) }
        }
        best = min(best, now() - begin)
    }
    var leaves = 0, trees = 0
    if case .trees(let ensemble) = model {
        trees = ensemble.trees.count
        leaves = ensemble.trees.reduce(0) { $0 + $1.feature.filter { $0 < 0 }.count }
    }
    explainField = ", \"explain_us_per_row\": \(json(best / Double(explainRows) * 1e6)), "
        + "\"leaves_per_tree\": \(json(Double(leaves) / Double(max(trees, 1))))"
}
let metricField = classCount > 0
    ? "\"classes\": \(classCount), \"logloss\": \(json(metrics.logLoss ?? .nan)), "
        + "\"accuracy\": \(json(metrics.accuracy ?? .nan))"
    : binary
    ? "\"logloss\": \(json(metrics.logLoss ?? .nan)), \"accuracy\": \(json(metrics.accuracy ?? .nan))"
    : "\"rmse\": \(json(metrics.rmse ?? .nan))"
print(
    "{\"train_seconds\": \(json(trainSeconds)), \"rounds\": \(result.iterations), "
        + "\"objective\": \"\(result.objective.rawValue)\", \(metricField), "
        + "\"predict_rows_per_second\": \(json(Double(batchRows) / bestSeconds)), "
        + "\"single_row_predict_ns\": \(json(singleNanoseconds))\(explainField)}"
)
