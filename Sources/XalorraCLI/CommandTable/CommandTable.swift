import XalorraCore
import XalorraML

/// Every command, argument and option of `xalorra`, listed once. The parser, help, usage errors, shell completions
/// and the man page all read this table.
public enum CommandTable {
    /// The program's name.
    public static let program = "xalorra"

    /// Options every command accepts, before or after the subcommand.
    public static let globalOptions: [OptionSpec] = [
        .value("--url", .text, metaVar: "url", "Act over HTTP against a running `xalorra serve` (XALORRA_URL)"),
        .value("--token", .text, metaVar: "token", "Bearer token for remote mode (XALORRA_TOKEN, AUTH_TOKEN)"),
        .flag("--json", "Print the JSON body that the HTTP API returns for the same operation"),
        .value("--home", .file, metaVar: "dir", default: "~/.xalorra", "Data directory (XALORRA_HOME)"),
        .value("--database", .text, metaVar: "url", "The store: postgres://… or sqlite:PATH (XALORRA_DATABASE_URL)"),
        .value("--as", .text, metaVar: "user", "Acting user in local mode (XALORRA_USER; default: the OS user)"),
        .flag("--help", short: "h", "Show help information"),
        .flag("--version", "Show the version"),
    ]

    /// The root command: `xalorra` itself.
    public static let root = CommandSpec(
        program,
        summary: "Serve ML predictions and an AI chat behind JWT auth, offline or over HTTP.",
        discussion: """
            Every command runs offline against the SQLite store in $XALORRA_HOME, or with --url against a \
            running `xalorra serve`, with the same arguments and output.
            """,
        subcommands: [
            token, predict, train, models, logs, users, keys, audit, chat, routes, serve, health, help, completions,
            man, backup, restore, store,
        ],
        examples: ["xalorra predict xgb-v2 1 2 3", "xalorra logs --tail", "xalorra help predict"]
    )

    static let token = CommandSpec(
        "token", summary: "Mint a JWT from the deployment's secret, or verify one.",
        discussion: "Prints the bare token; with --json, {access_token, token_type, expires_in, claims}.",
        options: [
            .value("--user", .text, metaVar: "user", default: "the acting user", "Username for sub and user_id"),
            .value("--role", .choice(Role.allCases.map(\.rawValue)), metaVar: "role", default: "user", "Role claim"),
            .value("--tenant", .text, metaVar: "tenant", default: "default", "Tenant claim"),
            .value("--ttl", .duration, metaVar: "duration", default: "1h", "Lifetime: 90s, 15m, 1h, 30d"),
        ],
        subcommands: [
            CommandSpec(
                "verify", summary: "Verify a token and print its claims; exit 4 with the reason when refused.",
                arguments: [ArgumentSpec("token", "The token, with or without `Bearer `; - reads stdin")],
                examples: ["xalorra token verify eyJhbGciOi…"], run: TokenCommand.verify),
        ],
        examples: ["xalorra token --role admin", "xalorra token --user jek --tenant tenant1 --ttl 30d"],
        run: TokenCommand.mint)

    static let predict = CommandSpec(
        "predict", summary: "Predict one row from the arguments, or a batch from a CSV or NDJSON file or stdin.",
        discussion: """
            A model name with no trained version answers with the built-in baseline (the sum of the features). \
            A batch is CSV with a header row, or NDJSON lines of {"features": [...]}; it prints one prediction \
            per line (with --json, one response body per line) and logs every row in one transaction.
            """,
        arguments: [
            ArgumentSpec("model", "Model name, or NAME@VERSION to pin a version"),
            ArgumentSpec("feature", .number, optional: true, repeating: true, "Feature values, in the model's order"),
        ],
        options: [
            .value("--file", short: "f", .file, metaVar: "path", "Read a batch from a file; - reads stdin"),
            .value("--format", .choice(["csv", "ndjson"]), metaVar: "format",
                default: "by the file's extension, else its content", "Batch format"),
            .flag("--explain", "Also print each feature's contribution to the score and the base value (TreeSHAP)"),
        ],
        examples: [
            "xalorra predict xgb-v2 1 2 3", "xalorra predict xgb-v2 --file rows.csv --json",
            "xalorra predict xgb-v2 1 2 3 --explain",
        ],
        run: PredictCommand.run)

    static let logs = CommandSpec(
        "logs", summary: "Show the prediction log, filter it, follow it, export it.",
        discussion: """
            Prints the newest predictions, oldest first, in the seed's log format. With --json, prints the body of \
            GET /logs (newest first); with --tail --json, one log item per line as predictions arrive.
            """,
        options: logFilters + paging(
            max: LogQuery.maxLimit, limitHelp: "How many of the newest to show", offsetHelp: "Skip this many of the newest"
        ) + [
            logTenant,
            .flag("--tail", short: "f", "Keep printing predictions as any process logs them, until Ctrl-C"),
        ],
        subcommands: [
            CommandSpec(
                "export", summary: "Write every matching prediction, oldest first, as NDJSON or CSV.",
                discussion: """
                    No page and no cap: the log is read and written \(LogQuery.maxLimit) rows at a time, so memory \
                    stays small at any size, and predictions logged after the export starts are left out. NDJSON is one \
                    GET /logs item per line. CSV has the header \
                    \(LogExportFormat.csvColumns.joined(separator: ",")), input being the features joined by \
                    spaces, fields quoted as RFC 4180 says where needed, and LF line ends. With --url, the same \
                    bytes come from GET /logs/export.
                    """,
                options: [
                    .value("--format", .choice(LogExportFormat.allCases.map(\.rawValue)), metaVar: "format",
                        default: LogExportFormat.standard.rawValue,
                        "Output format: " + LogExportFormat.allCases.map(\.rawValue).joined(separator: " or ")),
                ] + logFilters + [
                    logTenant,
                    .value("--output", short: "o", .file, metaVar: "file",
                        "Write to this file instead of stdout (mode 0600; in place only once the export completes)"),
                ],
                examples: [
                    "xalorra logs export --since 1d > day.ndjson",
                    "xalorra logs export --format csv --model xgb-v2 -o xgb-v2.csv",
                ],
                run: LogsExportCommand.run),
            logsPrune,
        ],
        examples: [
            "xalorra logs", "xalorra logs --tail", "xalorra logs --model xgb-v2 --since 1h --json",
            "xalorra logs export --format csv -o log.csv",
        ],
        run: LogsCommand.run)

    /// The filters of `logs` and `logs export`: those of `GET /logs`.
    private static let logFilters: [OptionSpec] = [
        .value("--model", .text, metaVar: "model", "Only this model's predictions"),
        .value("--since", .time, metaVar: "time", "From this ISO time, or this long ago (15m, 2h, 7d)"),
        .value("--until", .time, metaVar: "time", "Up to this ISO time, or this long ago"),
    ]

    /// `--tenant` of `logs` and `logs export`.
    private static let logTenant = OptionSpec.value(
        "--tenant", .text, metaVar: "tenant", default: "every tenant", "Only this tenant's predictions")

    static let users = CommandSpec(
        "users", summary: "Manage users (admin) and your own account.",
        discussion: """
            Offline, `users` administers the store directly (like a database's own shell). With --url, admin \
            subcommands need an admin token, and `register`, `login`, `logout`, `whoami` and `passwd` (without a \
            name) act on your own account. Passwords are never arguments: they are asked for without echo on a \
            terminal, or read from standard input with --password-stdin (one line; `passwd` without a name reads \
            the current password, then the new one).
            """,
        subcommands: [
            CommandSpec(
                "add", summary: "Create a user with any role and tenant.",
                arguments: [ArgumentSpec("username", "3-50 letters, digits or underscores")],
                options: [
                    .value("--email", .text, metaVar: "email", "Email address (required)"),
                    .value("--name", .text, metaVar: "name", "Full name, nama_lengkap (required)"),
                    .value("--role", .choice(Role.allCases.map(\.rawValue)), metaVar: "role", default: "user", "Role"),
                    .value("--tenant", .text, metaVar: "tenant", default: "XALORRA_DEFAULT_TENANT", "Tenant"),
                    passwordStdin,
                ],
                examples: ["xalorra users add jek --email jek@x.io --name 'Jek Doe' --role admin"],
                run: UsersCommand.add),
            CommandSpec(
                "list", summary: "List users, optionally those matching a search.",
                options: [
                    .value("--search", .text, metaVar: "text", "Only usernames, emails or names containing this"),
                ] + paging(max: UserQuery.maxLimit),
                examples: ["xalorra users list", "xalorra users list --search jek --json"], run: UsersCommand.list),
            CommandSpec(
                "show", summary: "Show one user.", arguments: [ArgumentSpec("username", "The user")],
                examples: ["xalorra users show jek"], run: UsersCommand.show),
            CommandSpec(
                "update", summary: "Change a user's email, name, role or tenant.",
                arguments: [ArgumentSpec("username", "The user")],
                options: [
                    .value("--email", .text, metaVar: "email", "New email address"),
                    .value("--name", .text, metaVar: "name", "New full name"),
                    .value("--role", .choice(Role.allCases.map(\.rawValue)), metaVar: "role", "New role"),
                    .value("--tenant", .text, metaVar: "tenant", "New tenant"),
                ],
                examples: ["xalorra users update jek --role admin"], run: UsersCommand.update),
            CommandSpec(
                "passwd",
                summary: "Set a user's password (admin), or change your own: without a name, asks the current one.",
                arguments: [ArgumentSpec("username", optional: true, "The user; omit to change your own")],
                options: [passwordStdin],
                examples: ["xalorra users passwd jek", "xalorra users passwd --url http://127.0.0.1:8001"],
                run: UsersCommand.passwd),
            CommandSpec(
                "disable", summary: "Disable a user: no logins, and their tokens stop working at once.",
                arguments: [ArgumentSpec("username", "The user")],
                examples: ["xalorra users disable jek"], run: UsersCommand.disable),
            CommandSpec(
                "enable", summary: "Enable a disabled user.", arguments: [ArgumentSpec("username", "The user")],
                examples: ["xalorra users enable jek"], run: UsersCommand.enable),
            CommandSpec(
                "delete", summary: "Delete a user and their refresh tokens.",
                arguments: [ArgumentSpec("username", "The user")],
                options: [.flag("--yes", short: "y", "Do not ask for confirmation on a terminal")],
                examples: ["xalorra users delete jek --yes"], run: UsersCommand.delete),
            CommandSpec(
                "register", summary: "Create your own account (role user, a tenant of its own; XALORRA_REGISTRATION=closed refuses).",
                arguments: [ArgumentSpec("username", "3-50 letters, digits or underscores")],
                options: [
                    .value("--email", .text, metaVar: "email", "Email address (required)"),
                    .value("--name", .text, metaVar: "name", "Full name, nama_lengkap (required)"),
                    passwordStdin,
                ],
                examples: ["xalorra users register jek --email jek@x.io --name 'Jek Doe' --url http://127.0.0.1:8001"],
                run: UsersCommand.register),
            CommandSpec(
                "login",
                summary: "Log in to a server and save the tokens in $XALORRA_HOME/credentials.json (0600).",
                arguments: [ArgumentSpec("username", "Username or email")],
                options: [passwordStdin],
                examples: ["xalorra users login jek --url http://127.0.0.1:8001"], run: UsersCommand.login),
            CommandSpec(
                "logout", summary: "Revoke the saved refresh token and delete the saved credentials.",
                examples: ["xalorra users logout --url http://127.0.0.1:8001"], run: UsersCommand.logout),
            CommandSpec(
                "whoami", summary: "Show your own account.",
                examples: ["xalorra users whoami --url http://127.0.0.1:8001"], run: UsersCommand.whoami),
        ],
        examples: ["xalorra users add jek --email jek@x.io --name 'Jek Doe' --role admin", "xalorra users list"])

    /// `--limit/-n` and `--offset`, as every paginated list takes them, with the bounds and default of ``Paging``.
    static func paging(
        max: Int, default limit: Int = Paging.defaultLimit, limitHelp: String = "How many to show",
        offsetHelp: String = "Skip this many"
    ) -> [OptionSpec] {
        [
            .value(
                "--limit", short: "n", .integer(Paging.limit(max: max).range), metaVar: "n", default: "\(limit)",
                limitHelp),
            .value("--offset", .integer(Paging.offset.range), metaVar: "n", default: "0", offsetHelp),
        ]
    }

    private static let passwordStdin = OptionSpec.flag(
        "--password-stdin", "Read the password from standard input instead of asking on the terminal")

    static let chat = CommandSpec(
        "chat", summary: "Talk to the AI; list, show, rename, delete and export conversations.",
        discussion: """
            `chat "message"` starts a conversation and prints the reply as it arrives; -c ID or --last continues \
            one. Without a message, a terminal opens an interactive session (/new, /title TEXT, /exit), and piped \
            standard input sends each line as a message of one conversation. Replies come from the built-in \
            responder, or from the OpenAI-compatible server at XALORRA_CHAT_URL.
            """,
        arguments: [ArgumentSpec("message", optional: true, "The message; a new conversation unless -c or --last")],
        options: [
            .value("--conversation", short: "c", .text, metaVar: "id", "Continue this conversation (conv_…)"),
            .flag("--last", "Continue the most recently active conversation"),
        ],
        subcommands: [
            CommandSpec(
                "list", summary: "List your conversations.",
                options: [
                    .value("--search", .text, metaVar: "text", "Only titles containing this"),
                ] + paging(max: ConversationQuery.maxLimit) + [
                    .value("--sort", .choice(ConversationQuery.Sort.allCases.map(\.rawValue)), metaVar: "field",
                        default: "created_at", "Sort by"),
                    .value("--order", .choice(ConversationQuery.Order.allCases.map(\.rawValue)), metaVar: "order",
                        default: "desc", "Sort order"),
                ],
                examples: ["xalorra chat list --search AI --sort updated_at"], run: ChatCommand.list),
            CommandSpec(
                "show", summary: "Show a conversation's messages, oldest first.",
                arguments: [ArgumentSpec("id", "The conversation (conv_…)")],
                options: paging(
                    max: ChatRules.maxMessagesPage, default: ChatRules.defaultMessagesPage, limitHelp: "How many messages"),
                examples: ["xalorra chat show conv_3"], run: ChatCommand.show),
            CommandSpec(
                "rename", summary: "Retitle a conversation.",
                arguments: [ArgumentSpec("id", "The conversation (conv_…)"), ArgumentSpec("title", "1-200 characters")],
                examples: ["xalorra chat rename conv_3 'Pricing questions'"], run: ChatCommand.rename),
            CommandSpec(
                "delete", summary: "Delete a conversation and its messages.",
                arguments: [ArgumentSpec("id", "The conversation (conv_…)")],
                examples: ["xalorra chat delete conv_3"], run: ChatCommand.delete),
            CommandSpec(
                "export", summary: "Print a whole conversation as Markdown or JSON.",
                arguments: [ArgumentSpec("id", "The conversation (conv_…)")],
                options: [.value("--format", .choice(["md", "json"]), metaVar: "format", default: "md", "Output format")],
                examples: ["xalorra chat export conv_3 --format md > chat.md"], run: ChatCommand.export),
        ],
        examples: ["xalorra chat \"what is AI?\"", "xalorra chat --last \"and then?\"", "xalorra chat list --search AI"],
        run: ChatCommand.send)

    static let routes = CommandSpec(
        "routes", summary: "Print the HTTP route table: method, path, auth, rate limit, summary.",
        examples: ["xalorra routes", "xalorra routes --json"], run: RoutesCommand.run)

    static let serve = CommandSpec(
        "serve", summary: "Run the HTTP server over the same operations.",
        discussion: """
            Serves the route table (`xalorra routes`) on the store in $XALORRA_HOME until SIGINT or SIGTERM, then \
            finishes the requests in flight. Logs one line per request on stderr. Port 0 picks a free port.
            """,
        options: [
            .value("--host", .text, metaVar: "host", default: "127.0.0.1", "Address to listen on"),
            .value("--port", .integer(0...65_535), metaVar: "port", default: "8001", "Port to listen on"),
            .value("--rate-limit", .choice(["on", "off"]), metaVar: "on|off", default: "on",
                "Rate limiting (XALORRA_RATE_LIMIT)"),
            .value("--cors-origin", .text, metaVar: "origin",
                "Allow a browser origin cross-origin; repeat for more, `*` for any (XALORRA_CORS_ORIGINS)"),
            .value("--backup-every", .text, metaVar: "duration",
                "Write a backup into $XALORRA_HOME/backups this often, off the request path (XALORRA_BACKUP_EVERY)"),
            .value("--backup-keep", .text, metaVar: "n", default: "7",
                "Backups kept there, the oldest removed first (XALORRA_BACKUP_KEEP)"),
        ],
        examples: [
            "xalorra serve --port 8001", "xalorra serve --rate-limit off",
            "xalorra serve --cors-origin https://app.example.com",
        ], run: ServeCommand.run)

    static let health = CommandSpec(
        "health", summary: "Store and server health, as GET /health/detailed.",
        examples: ["xalorra health", "xalorra health --url http://127.0.0.1:8001 --json"], run: HealthCommand.run)

    static let help = CommandSpec(
        "help", summary: "Show help for a command.",
        arguments: [ArgumentSpec("command", optional: true, repeating: true, "A command, and a subcommand of it")],
        examples: ["xalorra help train", "xalorra help token verify"], run: HelpCommand.run)

    static let completions = CommandSpec(
        "completions", summary: "Print a shell completion script (generated from this command table).",
        arguments: [ArgumentSpec("shell", .choice(["bash", "zsh", "fish"]), "bash, zsh or fish")],
        examples: ["xalorra completions bash > /etc/bash_completion.d/xalorra"], run: GeneratorCommands.completions)

    static let man = CommandSpec(
        "man", summary: "Print the man page (roff), generated from this command table.",
        examples: ["xalorra man > /usr/local/share/man/man1/xalorra.1"], run: GeneratorCommands.man)

    /// The command at `path` below the root (`["token", "verify"]`).
    public static func command(at path: [String]) -> CommandSpec? {
        var current = root
        for name in path {
            guard let next = current.subcommand(name) else { return nil }
            current = next
        }
        return current
    }

    /// Every command with its path, depth first: what the generators walk.
    public static func walk() -> [(path: [String], command: CommandSpec)] {
        var result: [(path: [String], command: CommandSpec)] = []
        func visit(_ command: CommandSpec, _ path: [String]) {
            result.append((path, command))
            for sub in command.subcommands { visit(sub, path + [sub.name]) }
        }
        visit(root, [])
        return result
    }
}
