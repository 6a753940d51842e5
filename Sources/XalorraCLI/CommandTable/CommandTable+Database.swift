import XalorraCore

/// The `store` command's row of the table: the store's schema and contents, on either backend.
extension CommandTable {
    static let store = CommandSpec(
        "store", summary: "Show or migrate the store (SQLite in $XALORRA_HOME, or PostgreSQL with --database).",
        discussion: """
            Acts on the store XALORRA_DATABASE_URL / --database names (postgres://… or sqlite:PATH; unset: \
            xalorra.db in $XALORRA_HOME), never over --url.
            """,
        subcommands: [
            CommandSpec(
                "migrate",
                summary: "Apply the schema migrations the store lacks (each once, even when several processes start together).",
                discussion: "Prints the migrations applied now and the current one; with --json, {backend, applied, current, migrations}.",
                examples: ["xalorra store migrate", "xalorra store migrate --database postgres://xalorra@db/xalorra"],
                run: StoreCommand.migrate),
            CommandSpec(
                "info", summary: "Print the store's backend, location (never a password), schema and row counts.",
                examples: ["xalorra store info", "xalorra store info --database postgres://xalorra@db/xalorra --json"],
                run: StoreCommand.info),
            CommandSpec(
                "copy", summary: "Copy a SQLite store into a PostgreSQL database, verifying every table's count.",
                discussion: """
                    Reads the SQLite file read-only as of one moment (a server may keep running on it) and writes \
                    every table: accounts, refresh tokens and deleted names, chats, models with their versions and \
                    training profiles, training jobs, API keys, the audit log and the prediction log (its blocks as \
                    they are), then moves the destination's id counters past the copied ids. A job still queued or \
                    running is copied as failed (start it again on PostgreSQL). The destination must be empty or an \
                    earlier copy of the same file: a second run copies only what is new, and a run that was \
                    interrupted finishes the copy. A table whose counts differ afterwards exits 1 naming it. \
                    PostgreSQL to SQLite is not supported (use pg_dump). With --json, {source, destination, \
                    resumed, copied, prediction_rows, tables: [{table, source, destination, copied}], verified, \
                    mismatched, seconds}.
                    """,
                options: [
                    .value("--from", .text, metaVar: "sqlite:PATH", "The SQLite store to copy"),
                    .value("--to", .text, metaVar: "postgres://…", "The PostgreSQL database to copy into"),
                ],
                examples: [
                    "xalorra store copy --from sqlite:/var/lib/xalorra/xalorra.db --to postgres://xalorra@db/xalorra",
                ],
                run: StoreCopyCommand.run),
        ],
        examples: ["xalorra store info", "xalorra store migrate"])
}
