import XalorraCore

/// `xalorra logs prune`: deletes old predictions from the store, SQLite or PostgreSQL (an admin's offline operation).
enum LogsPruneCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let settings = try context.settings()
        guard settings.url == nil else {
            throw UsageError(
                "`logs prune` acts on the local store (SQLite, or PostgreSQL with --database); drop --url / "
                    + "XALORRA_URL and run it where the store is.",
                path: context.arguments.path)
        }
        guard let age = context.arguments.duration("--older-than") else {
            throw UsageError("`logs prune` needs --older-than, such as 90d.", path: context.arguments.path)
        }
        let store = try await context.stores.store(settings)
        let dryRun = context.arguments.has("--dry-run")
        let report = try await Retention(store: store).prunePredictions(
            olderThan: age, model: context.arguments.text("--model"), dryRun: dryRun, actor: settings.user)
        if context.json {
            context.printJSON(report.json)
            return 0
        }
        let rows = report.deleted.rows
        let noun = rows == 1 ? "prediction" : "predictions"
        let scope = report.model.map { " of \($0)" } ?? ""
        context.terminal.print(
            "\(dryRun ? "would delete" : "deleted") \(rows) \(noun)\(scope) logged before \(report.cutoff.iso8601Seconds)")
        return 0
    }
}
