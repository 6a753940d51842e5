import XalorraCore

/// `xalorra store migrate` and `xalorra store info`: the store itself, whichever backend holds it.
enum StoreCommand {
    static func migrate(_ context: CommandContext) async throws -> Int32 {
        let settings = try localSettings(context)
        let store = try await context.stores.store(settings, migrate: false)
        let applied = try await store.migrate()
        let status = try await store.migrationStatus()
        let current = status.applied.last
        if context.json {
            context.printJSON(.object([
                ("backend", .string(store.backend.rawValue)), ("applied", .array(applied.map { .string($0) })),
                ("current", current.map { .string($0) } ?? .null), ("migrations", .number(.int(Int64(status.known.count)))),
            ]))
        } else {
            context.terminal.print("applied: \(applied.isEmpty ? "none (up to date)" : applied.joined(separator: ", "))")
            context.terminal.print(
                "current: \(current ?? "none") (\(status.applied.count) of \(status.known.count) migrations, \(store.backend.rawValue))")
        }
        return 0
    }

    static func info(_ context: CommandContext) async throws -> Int32 {
        let settings = try localSettings(context)
        let store = try await context.stores.store(settings, migrate: false)
        let status = try await store.migrationStatus()
        let counts = status.applied.isEmpty ? [] : try await store.counts()
        if context.json {
            context.printJSON(.object([
                ("backend", .string(store.backend.rawValue)), ("location", .string(store.location)),
                ("schema", .object([
                    ("current", status.applied.last.map { .string($0) } ?? .null),
                    ("applied", .number(.int(Int64(status.applied.count)))),
                    ("pending", .array(status.pending.map { .string($0) })),
                ])),
                ("counts", .object(counts.map { ($0.table, .number(.int($0.rows))) })),
            ]))
            return 0
        }
        var table = TextTable(["ITEM", "VALUE"])
        table.add(["backend", store.backend.rawValue])
        table.add(["location", store.location])
        let pending = status.pending.isEmpty ? "up to date" : "\(status.pending.count) pending: xalorra store migrate"
        table.add(["schema", "\(status.applied.last ?? "empty") (\(status.applied.count) migrations, \(pending))"])
        for (name, rows) in counts { table.add([name, "\(rows)"]) }
        for line in table.render() { context.terminal.print(line) }
        return 0
    }

    /// The settings, refusing `--url`: a server's store is managed where it runs.
    private static func localSettings(_ context: CommandContext) throws -> Settings {
        let settings = try context.settings()
        guard settings.url == nil else {
            throw UsageError(
                "`store` acts on a store directly; drop --url / XALORRA_URL (use --database).",
                path: context.arguments.path)
        }
        return settings
    }
}
