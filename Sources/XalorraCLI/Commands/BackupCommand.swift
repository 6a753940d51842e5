import XalorraCore

/// `xalorra backup FILE` and `xalorra restore FILE`: act on the local store's file, never over HTTP.
enum BackupCommand {
    static func backup(_ context: CommandContext) async throws -> Int32 {
        let settings = try localSettings(context, "backup")
        let file = context.arguments.argument("file") ?? ""
        let summary = try await StoreBackup.write(
            store: settings.databasePath, to: file, force: context.arguments.has("--force"))
        if context.json {
            context.printJSON(summary.json)
        } else {
            context.terminal.print("wrote \(file) (\(describe(summary)))")
        }
        return 0
    }

    static func restore(_ context: CommandContext) async throws -> Int32 {
        let settings = try localSettings(context, "restore")
        let file = context.arguments.argument("file") ?? ""
        let restored: StoreBackup.Restored
        do {
            restored = try await StoreBackup.restore(from: file, home: settings.home, storePath: settings.databasePath)
        } catch {
            // A running server is a usage problem of this command (exit 2), not a failure of the store.
            guard error.code == .conflict else { throw error }
            context.terminal.error(error.message, hint: error.hint)
            return 2
        }
        if context.json {
            context.printJSON(restored.json)
        } else {
            context.terminal.print("restored \(file) into \(settings.databasePath) (\(describe(restored.summary)))")
            if let previous = restored.previous { context.terminal.print("the replaced store is kept as \(previous)") }
        }
        return 0
    }

    /// The settings, refusing `--url`: these commands copy or replace the local store's file.
    static func localSettings(_ context: CommandContext, _ name: String) throws -> Settings {
        let settings = try context.settings()
        guard settings.url == nil else {
            throw UsageError(
                "`\(name)` acts on the local store's file; drop --url / XALORRA_URL and run it where the store is.",
                path: context.arguments.path)
        }
        if case .postgres = settings.database {
            throw UsageError(
                "`\(name)` copies a SQLite store's file; a PostgreSQL database is backed up and restored with its own "
                    + "tools: pg_dump / pg_restore (logical) or pg_basebackup (physical, with point-in-time recovery).",
                path: context.arguments.path)
        }
        return settings
    }

    private static func describe(_ summary: StoreBackup.Summary) -> String {
        "\(ModelText.bytes(summary.bytes)), schema \(summary.schemaVersion), integrity ok: "
            + "\(summary.predictions) predictions, \(summary.users) users, \(summary.modelVersions) model versions, "
            + "\(summary.auditRows) audit rows"
    }
}
