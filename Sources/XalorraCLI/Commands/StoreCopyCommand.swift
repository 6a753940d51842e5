import XalorraCore
import XalorraML
import XalorraPostgres

/// `xalorra store copy --from sqlite:PATH --to postgres://…`: moves a SQLite store into a PostgreSQL database (see
/// ``PostgresCopy``), with a progress bar on a terminal and every table's count verified at the end. One direction
/// only: a PostgreSQL store is copied with PostgreSQL's own tools (pg_dump).
enum StoreCopyCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let settings = try context.settings()
        guard settings.url == nil else {
            throw UsageError(
                "`store copy` acts on stores directly; drop --url / XALORRA_URL.", path: context.arguments.path)
        }
        let path = try sourcePath(context)
        let location = try destination(context)
        let started = Timestamp.now()
        let source = try StoreCopySource(path: path)
        defer { source.end() }
        try source.begin()
        let store = try await PostgresStore.open(location, maximumConnections: 2)
        do {
            let code = try await copy(context, source: source, store: store, started: started)
            await store.close()
            return code
        } catch {
            await store.close()
            throw error
        }
    }

    private static func copy(
        _ context: CommandContext, source: StoreCopySource, store: PostgresStore, started: Timestamp
    ) async throws -> Int32 {
        let copier = PostgresCopy(source: source, store: store)
        let resumed = try await copier.claim()
        let tables = try source.tables()
        var sourceCounts: [String: Int64] = [:]
        for table in tables { sourceCounts[table] = try source.count(table) }
        let total = sourceCounts.values.reduce(0, +)
        let progress = Progress(terminal: context.terminal)
        var reports: [PostgresCopy.TableReport] = []
        var done: Int64 = 0
        for table in tables {
            let before = done
            let copied = try await copier.copy(table) { read in
                progress.update("copying \(table)", done: Int(before + read), total: Int(total))
            }
            done += sourceCounts[table] ?? 0
            reports.append(PostgresCopy.TableReport(
                table: table, source: sourceCounts[table] ?? 0, destination: try await copier.count(table),
                copied: copied))
        }
        progress.finish()
        let sourceRows = try source.predictionRows()
        let destinationRows = try await copier.predictionRows()
        var mismatched = reports.filter { $0.source != $0.destination }.map(\.table)
        if sourceRows != destinationRows, !mismatched.contains("predictions") { mismatched.append("predictions") }
        if mismatched.isEmpty { try await copier.finish() }
        let copied = reports.reduce(0) { $0 + $1.copied }
        let seconds = Double(Timestamp.now().microseconds - started.microseconds) / 1_000_000
        if context.json {
            context.printJSON(.object([
                ("source", .string(source.path)), ("destination", .string(store.location)),
                ("resumed", .bool(resumed)), ("copied", .int(Int(copied))),
                ("prediction_rows", .object([
                    ("source", .int(Int(sourceRows))), ("destination", .int(Int(destinationRows))),
                ])),
                ("tables", .array(reports.map { report in
                    .object([
                        ("table", .string(report.table)), ("source", .int(Int(report.source))),
                        ("destination", .int(Int(report.destination))), ("copied", .int(Int(report.copied))),
                    ])
                })),
                ("verified", .bool(mismatched.isEmpty)), ("mismatched", .array(mismatched.map { .string($0) })),
                ("seconds", .number(.double((seconds * 10).rounded() / 10))),
            ]))
        } else {
            var table = TextTable(["TABLE", "SOURCE", "DESTINATION", "COPIED"])
            for report in reports {
                table.add([report.table, "\(report.source)", "\(report.destination)", "\(report.copied)"])
            }
            for line in table.render() { context.terminal.print(line) }
            let tenths = Int((seconds * 10).rounded())
            let elapsed = "\(tenths / 10).\(tenths % 10)"
            if copied == 0, mismatched.isEmpty {
                context.terminal.print(
                    "nothing new to copy: \(store.location) already holds every row of \(source.path); counts verified")
            } else if mismatched.isEmpty {
                context.terminal.print(
                    "copied \(copied) rows (\(destinationRows) prediction rows in all) from \(source.path) to "
                        + "\(store.location) in \(elapsed)s; counts verified")
            }
        }
        guard mismatched.isEmpty else {
            let details = reports.filter { mismatched.contains($0.table) }.map {
                "\($0.table): source \($0.source), destination \($0.destination)"
            }
            context.terminal.error(
                "counts differ after the copy (\(details.joined(separator: "; ")))",
                hint: "the destination changed during the copy or was written to since an earlier one; "
                    + "copy into an empty database")
            return 1
        }
        return 0
    }

    /// `--from sqlite:PATH` (a plain path is taken as one too); PostgreSQL as the source is refused.
    private static func sourcePath(_ context: CommandContext) throws -> String {
        guard let text = context.arguments.text("--from") else {
            throw UsageError("`store copy` needs --from sqlite:PATH.", path: context.arguments.path)
        }
        let lower = text.lowercased()
        if lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://") {
            throw UsageError(
                "`store copy` copies a SQLite store into PostgreSQL only; copy a PostgreSQL database with pg_dump.",
                path: context.arguments.path)
        }
        let path = text.hasPrefix("sqlite:") ? String(text.dropFirst("sqlite:".count)) : text
        guard !path.isEmpty, !path.utf8.contains(0) else {
            throw UsageError("--from needs a file: sqlite:/var/lib/xalorra/xalorra.db.", path: context.arguments.path)
        }
        return path
    }

    /// `--to postgres://…`; its errors never repeat the URL (it holds a password).
    private static func destination(_ context: CommandContext) throws -> PostgresLocation {
        guard let text = context.arguments.text("--to") else {
            throw UsageError("`store copy` needs --to postgres://USER:PASSWORD@HOST:PORT/DATABASE.", path: context.arguments.path)
        }
        if text.lowercased().hasPrefix("sqlite:") {
            throw UsageError(
                "`store copy` copies into PostgreSQL only (--to postgres://…); a SQLite store is copied with "
                    + "`xalorra backup`.", path: context.arguments.path)
        }
        do {
            return try PostgresLocation(parsing: text)
        } catch {
            let reason = error.message.replacingOccurrences("XALORRA_DATABASE_URL (--database)", with: "--to")
            throw UsageError(reason, path: context.arguments.path)
        }
    }
}
