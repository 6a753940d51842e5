import XalorraCore
import XalorraML

/// `xalorra predict MODEL FEATURE...` and batches from `--file` or stdin.
enum PredictCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let model = arguments.argument("model") ?? ""
        let features = arguments.numbers("feature")
        let file = arguments.text("--file")
        if !features.isEmpty {
            guard file == nil else {
                throw UsageError("Give features or --file, not both.", path: arguments.path)
            }
            let prediction = try await context.api().predict(model: model, features: features)
            if context.json {
                context.printJSON(prediction.json)
            } else {
                context.terminal.print(prediction.prediction.description)
            }
            return 0
        }
        guard file != nil || !context.terminal.stdinIsTTY else {
            throw UsageError(
                "Missing expected argument '<feature>' (or --file, or rows on standard input).", path: arguments.path)
        }
        return try await batch(context, model: model, source: file ?? "-")
    }

    /// Reads every row, predicts them in one call (one transaction), then prints one line per row.
    private static func batch(_ context: CommandContext, model: String, source: String) async throws -> Int32 {
        let progress = Progress(terminal: context.terminal)
        progress.status("reading \(source == "-" ? "standard input" : source)…")
        let bytes: [UInt8]
        if source == "-" {
            bytes = try FileSystem.readAll(fd: 0, name: "standard input")
        } else {
            guard let read = try FileSystem.read(source) else {
                throw XalorraError(.validation, "\(source): no such file")
            }
            bytes = read
        }
        let format = context.arguments.text("--format") ?? detectFormat(source: source, bytes: bytes)
        let rows: FeatureMatrix
        do {
            rows = format == "ndjson" ? try NDJSONReader.read(bytes) : try CSVReader.read(bytes)
        } catch {
            progress.finish()
            let name = source == "-" ? "standard input" : source
            throw XalorraError(.validation, "\(name) (\(format)): \(error)")
        }
        progress.status("predicting and logging \(rows.rowCount) rows…")
        let answer = try await context.api().predictBatch(model: model, rows: rows)
        progress.finish()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16 + 1024)
        for (index, prediction) in answer.predictions.enumerated() {
            if context.json {
                Prediction.writeJSON(
                    model: answer.model, input: rows.row(index), prediction: prediction,
                    version: answer.version, into: &out)
            } else {
                JSONWriter.write(number: prediction, into: &out)
            }
            out.append(0x0A)
            if out.count >= 1 << 16 {
                context.terminal.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        context.terminal.write(out)
        return 0
    }

    /// `ndjson` for `.ndjson`/`.jsonl` files or text starting with `{`; otherwise `csv`.
    static func detectFormat(source: String, bytes: [UInt8]) -> String {
        if source.hasSuffix(".ndjson") || source.hasSuffix(".jsonl") { return "ndjson" }
        if source.hasSuffix(".csv") { return "csv" }
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        return first == UInt8(ascii: "{") ? "ndjson" : "csv"
    }
}
