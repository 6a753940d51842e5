import XalorraCore

/// The `keys` command's rows of the table.
extension CommandTable {
    static let keys = CommandSpec(
        "keys", summary: "Create, list, show and revoke API keys (long-lived, scoped, revocable credentials).",
        discussion: """
            A key acts as its owner, never more, and only on routes of its scopes (\
            \(APIKeyScope.allCases.map(\.rawValue).joined(separator: ", ")); admin is all the owner may do). \
            Send it as `Authorization: Bearer xal_…` or `X-API-Key: xal_…`. `create` prints the key once: only \
            its hash is stored. Offline, keys are made for the acting user (--as), or with --user for any account.
            """,
        subcommands: [
            CommandSpec(
                "create", summary: "Create a key and print it (the only time it is shown).",
                arguments: [ArgumentSpec("name", "A label for people, such as ci-bot")],
                options: [
                    .value("--user", .text, metaVar: "user", default: "yourself", "The owner (admins: any account)"),
                    .value("--scopes", .text, metaVar: "scopes", default: "predict",
                        "Comma-separated: " + APIKeyScope.allCases.map(\.rawValue).joined(separator: ",")),
                    .value("--models", .text, metaVar: "models", default: "any", "Comma-separated models it may use"),
                    .value("--expires", .duration, metaVar: "duration", default: "never", "Lifetime: 90d, 12h"),
                    .value("--rate", .text, metaVar: "rate", default: "none", "Its own rate limit: 600/m, 100/15m"),
                ],
                examples: [
                    "xalorra keys create ci-bot --scopes predict --models xgb-v2 --expires 90d",
                    "xalorra keys create etl --user jek --scopes predict,logs:read --rate 600/m",
                ],
                run: KeysCommand.create),
            CommandSpec(
                "list", summary: "List your keys; admins: --all, or --user U.",
                options: [
                    .flag("--all", "Every user's keys (admins)"),
                    .value("--user", .text, metaVar: "user", "This user's keys (admins)"),
                ] + paging(max: APIKeyQuery.maxLimit),
                examples: ["xalorra keys list", "xalorra keys list --all --json"], run: KeysCommand.list),
            CommandSpec(
                "show", summary: "Show one key (never its secret).",
                arguments: [ArgumentSpec("id", "The key's id (the 16 hex digits after xal_)")],
                examples: ["xalorra keys show 3f2a9c0d1b2e4f56"], run: KeysCommand.show),
            CommandSpec(
                "revoke", summary: "Revoke a key: every request with it is refused from now on.",
                arguments: [ArgumentSpec("id", "The key's id (the 16 hex digits after xal_)")],
                examples: ["xalorra keys revoke 3f2a9c0d1b2e4f56"], run: KeysCommand.revoke),
        ],
        examples: ["xalorra keys create ci-bot --scopes predict --models xgb-v2 --expires 90d", "xalorra keys list"])
}
