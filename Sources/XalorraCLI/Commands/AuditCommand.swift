import XalorraCore

/// `xalorra audit`: one API call, offline or remote, printed the same way.
enum AuditCommand {
    static func show(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let query = try AuditQuery(
            user: arguments.text("--user"), action: arguments.text("--action"), since: arguments.time("--since"),
            limit: arguments.integer("--limit") ?? Paging.defaultLimit, offset: arguments.integer("--offset") ?? 0)
        let page = try await context.api().audit(query)
        if context.json {
            context.printJSON(page.json)
            return 0
        }
        var table = TextTable(["AT", "ACTOR", "KEY", "ORIGIN", "ACTION", "OBJECT", "OUTCOME"])
        for entry in page.items {
            table.add([
                entry.at.iso8601Seconds, entry.actor, entry.keyID ?? "-", entry.origin, entry.action, entry.object,
                entry.outcome,
            ])
        }
        context.printPage(page, table: table, noun: "change")
        return 0
    }
}
