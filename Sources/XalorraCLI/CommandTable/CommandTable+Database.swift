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
        ],
        examples: ["xalorra store info", "xalorra store migrate"])
}
