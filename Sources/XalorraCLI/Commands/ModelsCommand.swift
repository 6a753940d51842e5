#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCore
import XalorraML

/// `xalorra models …`: the registry, one API call per subcommand, offline or remote, printed the same way.
enum ModelsCommand {
    static func list(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let query = ModelQuery(
            tenant: arguments.text("--tenant"), limit: arguments.integer("--limit") ?? Paging.defaultLimit,
            offset: arguments.integer("--offset") ?? 0)
        let page = try await context.api().models(query)
        if context.json {
            context.printJSON(page.json)
            return 0
        }
        var table = TextTable(["NAME", "LATEST", "KIND", "FEATURES", "METRIC", "UPDATED"])
        for summary in page.items {
            let latest = summary.latest
            table.add([
                latest.name, "\(latest.version)", latest.kind.rawValue, "\(latest.features.count)",
                latest.metrics.map(ModelText.headline) ?? "-", latest.createdAt.iso8601Seconds,
            ])
        }
        context.printPage(page, table: table, noun: "model")
        return 0
    }

    /// `NAME@VERSION` shows that version (`GET /models/{name}/versions/{v}`); `NAME` the model with its newest
    /// version in full (`GET /models/{name}`).
    static func show(_ context: CommandContext) async throws -> Int32 {
        let reference = context.arguments.argument("model") ?? ""
        let api = try await context.api()
        guard !reference.contains("@") else {
            let version = try await api.modelVersion(reference)
            if context.json {
                context.printJSON(Envelope.success(version.json, message: ModelMessageText.versionRetrieved))
            } else {
                ModelText.printFields(fields(version), context)
            }
            return 0
        }
        let detail = try await api.model(reference)
        if context.json {
            context.printJSON(Envelope.success(detail.json, message: ModelMessageText.modelRetrieved))
            return 0
        }
        guard let newest = detail.versions.first else {
            context.terminal.print("\(detail.name) has no versions")
            return 0
        }
        let numbers = detail.versions.map { "\($0.version)" }.joined(separator: ", ")
        ModelText.printFields(fields(newest) + [("versions", numbers)], context)
        return 0
    }

    static func importModel(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let source = arguments.argument("file") ?? "-"
        if source == "-", context.terminal.stdinIsTTY {
            throw UsageError("standard input is a terminal; pipe the model in, or give a file", path: arguments.path)
        }
        let document = try readModelFile(source, limit: try context.settings().maxUpload)
        let progress = Progress(terminal: context.terminal)
        progress.status("importing \(source == "-" ? "standard input" : source)…")
        let version: ModelVersion
        do {
            version = try await context.api().importModel(arguments.argument("model") ?? "", document: document)
        } catch {
            progress.finish()
            throw error
        }
        progress.finish()
        if context.json {
            context.printJSON(Envelope.success(version.json, message: ModelMessageText.imported))
        } else {
            context.terminal.print("imported \(version.reference) (\(ModelText.shape(version)))")
        }
        return 0
    }

    /// The model file at `source` (`-`: standard input), refused once it passes `limit` bytes
    /// (`XALORRA_MAX_UPLOAD`, as a server refuses an upload): at most `limit + 1` bytes are read, so an endless
    /// source (`/dev/zero`, a pipe that never ends) costs no more than that.
    private static func readModelFile(_ source: String, limit: Int) throws(XalorraError) -> [UInt8] {
        let name = source == "-" ? "standard input" : source
        let fd = source == "-" ? 0 : open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw XalorraError(.validation, "\(source): no such file") }
            throw XalorraError(.validation, "cannot read \(source): \(String(cString: strerror(errno)))")
        }
        defer { if fd != 0 { close(fd) } }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while out.count <= limit {
            let wanted = min(chunk.count, limit + 1 - out.count)
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                throw XalorraError(.validation, "cannot read \(name): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return out }
            out.append(contentsOf: chunk[0..<count])
        }
        throw XalorraError(
            .payloadTooLarge, "\(name) is larger than \(limit) bytes, the most a model file may have",
            hint: "XALORRA_MAX_UPLOAD raises the limit")
    }

    static func export(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let reference = arguments.argument("model") ?? ""
        let target = arguments.argument("file") ?? "-"
        let document = try await context.api().exportModel(reference)
        if target == "-" {
            context.terminal.write(document)
            return 0
        }
        try FileSystem.replace(target, bytes: document, mode: 0o644)
        if !context.json {
            let version = (try? JSONParser.parse(document))?["version"]?.stringValue
            let name = reference.contains("@") ? reference : version.map { "\(reference)@\($0)" } ?? reference
            context.terminal.print("exported \(name) to \(target) (\(ModelText.bytes(document.count)))")
        }
        return 0
    }

    static func delete(_ context: CommandContext) async throws -> Int32 {
        let reference = context.arguments.argument("model") ?? ""
        let what = reference.contains("@") ? reference : "model \(reference) and every version of it"
        if context.terminal.stdinIsTTY, !context.arguments.has("--yes") {
            let answer = try TerminalInput.ask("Delete \(what)? [y/N] ", echo: true)
            guard ["y", "yes"].contains(answer.lowercased()) else {
                context.terminal.printError("not deleted")
                return 1
            }
        }
        try await context.api().deleteModel(reference)
        if !context.json { context.terminal.print("deleted \(what)") }
        return 0
    }

    /// A version as `key: value` pairs, for `models show`.
    /// `models drift NAME[@VERSION] [--since 24h]`: one row a feature and one for the predictions; the window's
    /// start is fixed here, so offline and remote compare the same rows.
    static func drift(_ context: CommandContext) async throws -> Int32 {
        let since = context.arguments.time("--since") ?? Timestamp.now().adding(seconds: -DriftReport.defaultWindow)
        let report = try await context.api().drift(model: context.arguments.argument("model") ?? "", since: since)
        if context.json {
            context.printJSON(Envelope.success(report.json, message: report.message))
            return 0
        }
        context.terminal.print(report.message)
        guard report.rows > 0 else { return 0 }
        func share(_ value: Double?) -> String { value.map { ModelText.format($0 * 100) + "%" } ?? "-" }
        var table = TextTable(["COLUMN", "PSI", "MISSING", "TRAINING MISSING", "VERDICT"])
        for column in report.features + [report.prediction] {
            table.add([
                column.name, column.psi.map(ModelText.format) ?? "-", share(column.missingShare),
                share(column.trainingMissingShare), column.verdict.rawValue,
            ])
        }
        for line in table.render() { context.terminal.print(line) }
        return 0
    }

    private static func fields(_ version: ModelVersion) -> [(String, String)] {
        var lines: [(String, String)] = [
            ("model", version.reference), ("kind", version.kind.rawValue), ("tenant", version.tenant),
        ]
        if version.trees > 0 { lines.append(("trees", "\(version.trees)")) }
        lines.append(("features (\(version.features.count))", version.features.joined(separator: ", ")))
        if let metrics = version.metrics {
            lines.append(("metrics", "\(ModelText.metrics(metrics)) (validation, \(TrainCommand.plural(metrics.rows, "row")))"))
        } else {
            lines.append(("metrics", "none"))
        }
        lines += [
            ("hyperparameters", ModelText.settings(version.hyperparameters)), ("size", ModelText.bytes(version.size, exact: true)),
            ("created", "\(version.createdAt.iso8601Seconds) by \(version.createdBy)"),
        ]
        if let importances = version.importances {
            lines.append(("importances", importanceText(importances, features: version.features)))
        }
        return lines
    }

    /// `f3 41.2% (12 splits), f1 30.5% (9), …`: the ten features the trees gained most from (by split count when
    /// the trees carry no gains), each gain as a share of the total.
    private static func importanceText(_ importances: FeatureImportances, features: [String]) -> String {
        let total = importances.gain?.reduce(0, +) ?? 0
        let ranked = features.indices.sorted { a, b in
            if let gain = importances.gain, gain[a] != gain[b] { return gain[a] > gain[b] }
            return importances.splits[a] > importances.splits[b]
        }.filter { importances.splits[$0] > 0 }
        guard !ranked.isEmpty else { return "no splits" }
        let shown = ranked.prefix(10).map { index in
            let splits = TrainCommand.plural(importances.splits[index], "split")
            guard let gain = importances.gain, total > 0 else { return "\(features[index]) (\(splits))" }
            let share = (gain[index] / total * 1000).rounded() / 10
            return "\(features[index]) \(share)% (\(splits))"
        }
        return shown.joined(separator: ", ") + (ranked.count > 10 ? ", …" : "")
    }
}

/// The words and number formats the model and training commands share. The envelope messages are the server's
/// for the same routes.
enum ModelText {
    /// `gbdt, 100 trees, 8 features`.
    static func shape(_ version: ModelVersion) -> String {
        var parts = [version.kind.rawValue]
        if version.trees > 0 { parts.append(TrainCommand.plural(version.trees, "tree")) }
        parts.append(TrainCommand.plural(version.features.count, "feature"))
        return parts.joined(separator: ", ")
    }

    /// `rmse 1.0213  mae 0.81  r2 0.9562`: every measure the version has.
    static func metrics(_ metrics: Metrics) -> String {
        Metrics.fields(metrics).compactMap { name, value in value.map { "\(name) \(format($0))" } }
            .joined(separator: "  ")
    }

    /// The one measure a list shows: AUC or accuracy for classifiers, RMSE for regression.
    static func headline(_ metrics: Metrics) -> String {
        if let auc = metrics.auc { return "auc \(format(auc))" }
        if let accuracy = metrics.accuracy { return "accuracy \(format(accuracy))" }
        if let rmse = metrics.rmse { return "rmse \(format(rmse))" }
        return "-"
    }

    /// `trees=100 max_depth=6 …`, or `none` (imports have no settings).
    static func settings(_ json: JSONValue) -> String {
        guard case .object(let members) = json, !members.isEmpty else { return "none" }
        return members.map { name, value in
            "\(name)=\(value == .null ? "off" : value.stringValue ?? JSONWriter.compact(value))"
        }.joined(separator: " ")
    }

    /// A measure for people: four decimals (four significant digits below 1), trailing zeros dropped.
    static func format(_ value: Double) -> String {
        guard value.isFinite, value != 0 else { return value == 0 ? "0" : "\(value)" }
        let magnitude = Int(log10(abs(value)).rounded(.down))
        let decimals = min(max(4, 3 - magnitude), 15)
        let scale = pow(10, Double(decimals))
        var text = Number.format((value * scale).rounded() / scale)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// `12.3 KiB`, with `exact`: `12.3 KiB (12345 bytes)`.
    static func bytes(_ count: Int, exact: Bool = false) -> String {
        guard count >= 1024 else { return "\(count) bytes" }
        let units = ["KiB", "MiB", "GiB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let short = "\(format((value * 10).rounded() / 10)) \(units[unit])"
        return exact ? "\(short) (\(count) bytes)" : short
    }

    /// `key: value` lines with the values aligned.
    static func printFields(_ lines: [(String, String)], _ context: CommandContext) {
        let width = (lines.map(\.0.count).max() ?? 0) + 2
        for (key, value) in lines {
            let label = key + ":"
            context.terminal.print(label + String(repeating: " ", count: width - label.count) + value)
        }
    }
}
