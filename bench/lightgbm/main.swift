// xalorra-lgbbench: loads a LightGBM text model with xalorra's importer (LightGBMModel) and measures the imported
// ensemble's prediction throughput on one thread. Built by bench/lightgbm.sh in a throwaway package that compiles
// XalorraML and the importer's files from this repository (the bench needs neither the store nor the server).
//
//   xalorra-lgbbench MODEL.txt ROWS.f64 FEATURES EXPECTED.f64 [PREDICT_ROWS]
//
// ROWS.f64 holds the rows as float64, row after row (NaN = missing); EXPECTED.f64 LightGBM's predictions of them.
// Prints one JSON line: load_seconds, predict_rows_per_second (one batch predict of the rows repeated to at least
// PREDICT_ROWS rows, best of 3), single_row_predict_ns (mean of one-row predicts, as a server request makes) and
// max_relative_difference from LightGBM's predictions.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraML

func fail(_ message: String) -> Never {
    var line = "xalorra-lgbbench: \(message)\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    exit(2)
}

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

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

func doubles(_ path: String) -> [Double] {
    let bytes = readFile(path)
    return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Double.self)) }
}

let arguments = CommandLine.arguments
guard arguments.count >= 5, let width = Int(arguments[3]) else {
    fail("usage: xalorra-lgbbench MODEL.txt ROWS.f64 FEATURES EXPECTED.f64 [PREDICT_ROWS]")
}
let predictRows = arguments.count > 5 ? Int(arguments[5]) ?? 1_000_000 : 1_000_000

let started = now()
let ensemble: TreeEnsemble
do {
    ensemble = try LightGBMModel.load(readFile(arguments[1]), limits: .defaults).ensemble
} catch {
    fail("\(arguments[1]): \(error)")
}
let loadSeconds = now() - started
let rows = doubles(arguments[2])
let expected = doubles(arguments[4])
let count = rows.count / width
guard count == expected.count, count > 0, ensemble.featureCount == width else {
    fail("\(count) rows of \(width), \(expected.count) expected values, a model of \(ensemble.featureCount) features")
}

var output = [Double](repeating: 0, count: count)
rows.withUnsafeBufferPointer { flat in output.withUnsafeMutableBufferPointer { ensemble.predict(rows: flat, into: $0) } }
var worst = 0.0
for (got, want) in zip(output, expected) { worst = max(worst, abs(got - want) / max(abs(want), 1e-12)) }

let repeats = max(1, (predictRows + count - 1) / count)
var best = Double.infinity
for _ in 0..<3 {
    let start = now()
    for _ in 0..<repeats {
        rows.withUnsafeBufferPointer { flat in
            output.withUnsafeMutableBufferPointer { ensemble.predict(rows: flat, into: $0) }
        }
    }
    best = min(best, now() - start)
}
var sink = 0.0
let singles = min(count, 20_000)
let singleStart = now()
rows.withUnsafeBufferPointer { flat in
    for row in 0..<singles {
        sink += ensemble.predict(UnsafeBufferPointer(rebasing: flat[(row * width)..<((row + 1) * width)]))
    }
}
let singleNs = (now() - singleStart) / Double(singles) * 1e9
print(
    "{\"library\": \"xalorra\", \"trees\": \(ensemble.trees.count), \"rows\": \(count), "
        + "\"load_seconds\": \(loadSeconds), \"predict_rows_per_second\": \(Double(repeats * count) / best), "
        + "\"single_row_predict_ns\": \(singleNs), \"max_relative_difference\": \(worst), \"sink\": \(sink.isNaN ? 0 : 1)}"
)
