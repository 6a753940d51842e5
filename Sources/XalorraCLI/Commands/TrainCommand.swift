import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import XalorraCore
import XalorraML

/// `xalorra train NAME --data CSV --target COLUMN …`, and `train jobs|show|cancel`: the same API calls offline
/// (training in this process) and remote (a server's job, followed).
enum TrainCommand {
    static func train(_ context: CommandContext) async throws -> Int32 {
        var draft = try settings(context)
        draft.data = try readData(context)
        if !context.arguments.has("--threads"), try context.settings().url == nil {
            // Offline the user waits for the result: use every core (the model is the same for any count).
            draft.parameters.threads = min(256, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        }
        let request = draft
        let api = try await context.api()
        if context.arguments.has("--detach") {
            let job = try await api.submitTraining(request)
            if context.json {
                context.printJSON(Envelope.success(job.json, message: ModelMessageText.jobQueued))
            } else {
                context.terminal.print(job.id)
                context.terminal.printError("queued; follow it with `xalorra train show \(job.id)`")
            }
            return 0
        }
        let view = TrainingView(terminal: context.terminal)
        let task = Task { try await api.train(request) { job in view.show(job) } }
        // Ctrl-C cancels the training (remotely: the server's job); a second one stops at once.
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if task.isCancelled {
                    signal(number, SIG_DFL)
                    raise(number)
                }
                task.cancel()
            }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        let job: TrainingJob
        do {
            job = try await task.value
        } catch {
            view.finish()
            throw error
        }
        view.finish()
        if context.json {
            context.printJSON(Envelope.success(job.json, message: ModelMessageText.jobRetrieved))
            return 0
        }
        guard let number = job.version else {
            context.terminal.print("\(job.id) \(job.status.rawValue)")
            return 0
        }
        let version = try await api.modelVersion("\(job.model)@\(number)")
        printSummary(job, version, context)
        return 0
    }

    static func jobs(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let query = TrainingJobQuery(
            tenant: arguments.text("--tenant"), model: arguments.text("--model"),
            status: arguments.text("--status").flatMap(TrainingJob.Status.init(rawValue:)),
            limit: arguments.integer("--limit") ?? Paging.defaultLimit, offset: arguments.integer("--offset") ?? 0)
        let page = try await context.api().trainingJobs(query)
        if context.json {
            context.printJSON(page.json)
            return 0
        }
        var table = TextTable(["ID", "MODEL", "KIND", "STATUS", "PROGRESS", "VERSION", "CREATED"])
        for job in page.items {
            table.add([
                job.id, job.model, job.kind.rawValue, job.status.rawValue, "\(job.progressDone)/\(job.progressTotal)",
                job.version.map(String.init) ?? "-", job.createdAt.iso8601Seconds,
            ])
        }
        context.printPage(page, table: table, noun: "job")
        return 0
    }

    static func show(_ context: CommandContext) async throws -> Int32 {
        let job = try await context.api().trainingJob(context.arguments.argument("job") ?? "")
        printJob(job, context, message: ModelMessageText.jobRetrieved)
        return 0
    }

    static func cancel(_ context: CommandContext) async throws -> Int32 {
        let job = try await context.api().cancelTrainingJob(context.arguments.argument("job") ?? "")
        if context.json {
            context.printJSON(Envelope.success(job.json, message: ModelMessageText.jobCancelled))
        } else {
            context.terminal.print("cancelled \(job.id) (\(job.model), was at \(job.progressDone)/\(job.progressTotal))")
        }
        return 0
    }

    // MARK: The request

    /// The request without its data, from `--kind`, `--target` and the settings' flags: each flag is its API field
    /// (`--max-depth` is `max_depth`), so the API's own rules check them; a refused value names its flag.
    private static func settings(_ context: CommandContext) throws -> TrainingRequest {
        let arguments = context.arguments
        for required in ["--data", "--target"] where !arguments.has(required) {
            let spec = arguments.command.options.first { $0.long == required }
            throw UsageError("Missing expected option '\(spec?.synopsis ?? required)'.", path: arguments.path)
        }
        let known = Set(["kind", "target"] + Hyperparameters.fieldNames)
        var fields: [(String, JSONValue)] = []
        var given: [String: String] = [:]
        for option in arguments.command.options {
            let field = fieldName(option.long)
            guard known.contains(field), let value = arguments.options[option.long]?.last else { continue }
            switch value {
            case .integer(let number): fields.append((field, .int(number)))
            case .number(let number): fields.append((field, .number(number)))
            case .text(let text): fields.append((field, .string(text)))
            case .duration, .time: continue
            }
            given[field] = describe(value)
        }
        let refused: XalorraError
        do {
            return try TrainingRequest(model: arguments.argument("model") ?? "", fields: fields, data: FeatureMatrix())
        } catch {
            refused = error
        }
        guard !refused.details.isEmpty else { throw refused }
        let problems = refused.details.map { detail in
            let flag = "--" + String(detail.field.map { $0 == "_" ? "-" : $0 })
            let spec = arguments.command.options.first { $0.long == flag }
            let name = spec?.synopsis ?? flag
            return given[detail.field].map { "The value '\($0)' is invalid for '\(name)': \(detail.message)." }
                ?? "'\(name)' \(detail.message)."
        }
        throw UsageError(problems.joined(separator: " "), path: arguments.path)
    }

    /// `--max-depth` → `max_depth`.
    private static func fieldName(_ long: String) -> String {
        String(long.dropFirst(2).map { $0 == "-" ? "_" : $0 })
    }

    private static func describe(_ value: ParsedValue) -> String {
        switch value {
        case .integer(let number): "\(number)"
        case .number(let number): number.description
        case .text(let text): text
        case .duration(let span): "\(span.seconds)s"
        case .time(let time): time.iso8601
        }
    }

    /// The rows of `--data`, a file or standard input; a bad cell is refused naming its line and column.
    private static func readData(_ context: CommandContext) throws -> FeatureMatrix {
        let source = context.arguments.text("--data") ?? "-"
        let name = source == "-" ? "standard input" : source
        let bytes: [UInt8]
        if source == "-" {
            guard !context.terminal.stdinIsTTY else {
                throw UsageError(
                    "--data -: standard input is a terminal; pipe the CSV in, or give a file",
                    path: context.arguments.path)
            }
            bytes = try FileSystem.readAll(fd: 0, name: name)
        } else {
            guard let read = try FileSystem.read(source) else { throw XalorraError(.validation, "\(source): no such file") }
            bytes = read
        }
        do {
            return try CSVReader.read(bytes)
        } catch {
            throw XalorraError(.validation, "\(name): \(error)")
        }
    }

    // MARK: Output

    /// `trained price@3 (gbdt, 100 trees, 8 features) on 16000 rows in 4.2s`, then the validation metrics.
    private static func printSummary(_ job: TrainingJob, _ version: ModelVersion, _ context: CommandContext) {
        let trainRows = job.rows - (version.metrics?.rows ?? 0)
        var line = "trained \(version.reference) (\(ModelText.shape(version))) on \(plural(trainRows, "row"))"
        if let started = job.startedAt, let finished = job.finishedAt {
            line += " in \(seconds(finished.microseconds - started.microseconds))"
        }
        context.terminal.print(line)
        if let metrics = version.metrics {
            context.terminal.print("validation (\(plural(metrics.rows, "row"))): \(ModelText.metrics(metrics))")
        } else {
            context.terminal.print("no validation split (--valid-fraction 0): no metrics")
        }
    }

    /// The job as `key: value` lines, or with --json the API's envelope.
    private static func printJob(_ job: TrainingJob, _ context: CommandContext, message: String) {
        if context.json {
            context.printJSON(Envelope.success(job.json, message: message))
            return
        }
        var lines: [(String, String)] = [
            ("id", job.id), ("model", job.model), ("kind", job.kind.rawValue), ("status", job.status.rawValue),
            ("progress", "\(job.progressDone)/\(job.progressTotal)"),
        ]
        if let loss = job.validationLoss { lines.append(("validation loss", ModelText.format(loss))) }
        if let error = job.error { lines.append(("error", error)) }
        if let version = job.version { lines.append(("version", "\(job.model)@\(version)")) }
        lines += [
            ("target", job.target), ("rows", "\(job.rows)"),
            ("hyperparameters", ModelText.settings(job.hyperparameters)), ("tenant", job.tenant),
            ("created", "\(job.createdAt.iso8601Seconds) by \(job.createdBy)"),
        ]
        if let started = job.startedAt { lines.append(("started", started.iso8601Seconds)) }
        if let finished = job.finishedAt { lines.append(("finished", finished.iso8601Seconds)) }
        ModelText.printFields(lines, context)
    }

    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

    /// `4.2s`, `3m12s`.
    static func seconds(_ microseconds: Int64) -> String {
        let tenths = max(microseconds, 0) / 100_000
        if tenths < 600 { return "\(tenths / 10).\(tenths % 10)s" }
        let whole = tenths / 10
        return whole < 3600 ? "\(whole / 60)m\(whole % 60)s" : "\(whole / 3600)h\(whole / 60 % 60)m"
    }
}

/// The progress bar of a training run: rounds done of planned, the validation loss, an estimate of the time left.
/// Shared with the API's progress callback, which may run on another task.
private final class TrainingView: Sendable {
    private struct State {
        let bar: Progress
        /// When rounds were first seen advancing, and how many were done then.
        var since: (ContinuousClock.Instant, Int)?
    }

    private let state: Mutex<State>

    init(terminal: Terminal) {
        state = Mutex(State(bar: Progress(terminal: terminal), since: nil))
    }

    func show(_ job: TrainingJob) {
        state.withLock { state in
            switch job.status {
            case .queued:
                state.bar.status("\(job.id) queued, waiting for a worker…")
            case .running:
                let now = ContinuousClock.now
                if state.since == nil { state.since = (now, job.progressDone) }
                var label = "training \(job.model) (\(job.kind.rawValue)) \(job.progressDone)/\(job.progressTotal)"
                if let loss = job.validationLoss { label += ", valid loss \(ModelText.format(loss))" }
                if case let (start, startDone)? = state.since, job.progressDone > startDone,
                    job.progressTotal > job.progressDone
                {
                    let elapsed = now - start
                    let perRound = elapsed / (job.progressDone - startDone)
                    let left = perRound * (job.progressTotal - job.progressDone)
                    let (secs, attos) = left.components
                    label += ", ETA \(TrainCommand.seconds(secs * 1_000_000 + attos / 1_000_000_000_000))"
                }
                state.bar.update(label, done: job.progressDone, total: job.progressTotal)
            case .succeeded, .failed, .cancelled:
                state.bar.finish()
            }
        }
    }

    func finish() { state.withLock { $0.bar.finish() } }
}
