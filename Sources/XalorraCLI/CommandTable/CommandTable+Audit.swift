import XalorraCore

/// The `audit` command's row of the table.
extension CommandTable {
    static let audit = CommandSpec(
        "audit", summary: "Show the audit log of changes: who, from where, what, on which object, and the outcome.",
        discussion: """
            Admins only over HTTP (GET /admin/audit). Newest first; with --json, the body of GET /admin/audit.
            """,
        options: [
            .value("--user", .text, metaVar: "user", "Only this actor's changes"),
            .value("--action", .text, metaVar: "action", "Only this action (keys.create) or family (keys)"),
            .value("--since", .time, metaVar: "time", "From this ISO time, or this long ago (1d)"),
        ] + paging(max: AuditQuery.maxLimit),
        examples: ["xalorra audit --since 1d", "xalorra audit --user jek --action keys --json"],
        run: AuditCommand.show)
}
