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
            if arguments.has("--explain") {
                let explained = try await context.api().predictExplained(model: model, request: .single(features))
                if context.json {
                    context.printJSON(explained.json)
                } else if case .single(let prediction) = explained.answer {
                    context.terminal.print(prediction.prediction.description)
                    printContributions(context, explained)
                }
                return 0
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
        if context.arguments.has("--explain") {
            let explained = try await context.api().predictExplained(model: model, request: .batch(rows))
            progress.finish()
            writeExplained(context, explained, rows: rows)
            return 0
        }
        let answer = try await context.api().predictBatch(model: model, rows: rows)
        progress.finish()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16 + 1024)
        // A multi-class model's CSV has a header: the prediction, then each class's probability (`p_<label>`).
        if !context.json, let first = answer.probabilities?.first {
            out += "prediction".utf8
            appendProbabilityHeader(first, into: &out)
            out.append(0x0A)
        }
        for (index, prediction) in answer.predictions.enumerated() {
            let probabilities = answer.probabilities.flatMap { index < $0.count ? $0[index] : nil }
            if context.json {
                Prediction.writeJSON(
                    model: answer.model, input: rows.row(index), prediction: prediction,
                    version: answer.version, into: &out)
                if let probabilities { appendMember("probabilities", probabilities.json, into: &out) }
            } else {
                JSONWriter.write(number: prediction, into: &out)
                if let probabilities { appendProbabilities(probabilities, into: &out) }
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

    /// One row's contributions for people: a feature and its contribution per line, then the base value (the bias);
    /// the prediction's margin is their sum. A multi-class model's are the predicted class's (its margin), which a
    /// line above the table names; `--json` gives every class's.
    private static func printContributions(_ context: CommandContext, _ explained: ExplainedPrediction) {
        guard !explained.contributions.isEmpty else { return }
        var classIndex = 0
        if !explained.classLabels.isEmpty, case .single(let prediction) = explained.answer {
            let label = prediction.prediction.doubleValue
            classIndex = explained.classLabels.firstIndex { $0.doubleValue == label } ?? 0
            context.terminal.print(
                "contributions to the margin of class \(explained.classLabels[classIndex]) (the predicted class; "
                    + "--json gives every class's):")
        }
        var table = TextTable(["FEATURE", "CONTRIBUTION"])
        for (index, value) in explained.contributions(row: 0, class: classIndex).enumerated() {
            let name = index < explained.features.count ? explained.features[index] : "base value"
            table.add([name, Number.double(value).description])
        }
        for line in table.render() { context.terminal.print(line) }
    }

    /// A batch's explanations: with `--json`, each row's answer with its `"contributions"` (and a multi-class model's
    /// `"probabilities"`); otherwise CSV with a header, the prediction then one column per feature's contribution and
    /// `bias`. A multi-class model's CSV has each class's probability (`p_<label>`) after the prediction, then each
    /// class's contributions in class order, named `<feature>_<label>` and `bias_<label>`.
    private static func writeExplained(_ context: CommandContext, _ explained: ExplainedPrediction, rows: FeatureMatrix) {
        guard case .batch(let answer) = explained.answer else { return }
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16 + 1024)
        if !context.json {
            out += "prediction".utf8
            if let first = answer.probabilities?.first { appendProbabilityHeader(first, into: &out) }
            let names = explained.features + ["bias"]
            let suffixes = explained.classLabels.isEmpty ? [""] : explained.classLabels.map { "_\($0)" }
            for suffix in suffixes {
                for name in names {
                    out.append(UInt8(ascii: ","))
                    appendCSVField(name + suffix, into: &out)
                }
            }
            out.append(0x0A)
        }
        for (index, prediction) in answer.predictions.enumerated() {
            let contributions = index < explained.contributions.count ? explained.contributions[index] : []
            let probabilities = answer.probabilities.flatMap { index < $0.count ? $0[index] : nil }
            if context.json {
                Prediction.writeJSON(
                    model: answer.model, input: rows.row(index), prediction: prediction, version: answer.version,
                    into: &out)
                if let probabilities { appendMember("probabilities", probabilities.json, into: &out) }
                appendMember("contributions", explained.contributionsJSON(row: index), into: &out)
            } else {
                JSONWriter.write(number: prediction, into: &out)
                if let probabilities { appendProbabilities(probabilities, into: &out) }
                for value in contributions {
                    out.append(UInt8(ascii: ","))
                    JSONWriter.write(number: .double(value), into: &out)
                }
            }
            out.append(0x0A)
            if out.count >= 1 << 16 {
                context.terminal.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        context.terminal.write(out)
    }

    /// Adds `"name":value` to the JSON object just written at the end of `out` (its `}` reopened).
    private static func appendMember(_ name: String, _ value: JSONValue, into out: inout [UInt8]) {
        out.removeLast()
        out.append(UInt8(ascii: ","))
        JSONWriter.write(.string(name), into: &out)
        out.append(UInt8(ascii: ":"))
        JSONWriter.write(value, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// `,p_<label>` for each class, in class order.
    private static func appendProbabilityHeader(_ probabilities: ClassProbabilities, into out: inout [UInt8]) {
        for label in probabilities.labels {
            out.append(UInt8(ascii: ","))
            appendCSVField("p_\(label)", into: &out)
        }
    }

    /// `,p` for each class's probability, in class order.
    private static func appendProbabilities(_ probabilities: ClassProbabilities, into out: inout [UInt8]) {
        for value in probabilities.values {
            out.append(UInt8(ascii: ","))
            JSONWriter.write(number: .double(value), into: &out)
        }
    }

    /// `text` as one CSV field, quoted (its quotes doubled) when it holds a comma, a quote, CR or LF (RFC 4180).
    private static func appendCSVField(_ text: String, into out: inout [UInt8]) {
        let bytes = Array(text.utf8)
        guard bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D })
        else { return out += bytes }
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `ndjson` for `.ndjson`/`.jsonl` files or text starting with `{`; otherwise `csv`.
    static func detectFormat(source: String, bytes: [UInt8]) -> String {
        if source.hasSuffix(".ndjson") || source.hasSuffix(".jsonl") { return "ndjson" }
        if source.hasSuffix(".csv") { return "csv" }
        let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        return first == UInt8(ascii: "{") ? "ndjson" : "csv"
    }
}
