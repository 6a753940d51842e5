import XalorraCore

/// `xalorra keys …`: each subcommand is one API call, offline or remote, printed the same way.
enum KeysCommand {
    static func create(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let request = try APIKeyRequest(
            name: arguments.argument("name") ?? "", user: arguments.text("--user"),
            scopes: try arguments.text("--scopes").map { text throws(XalorraError) in
                try APIKeyScope.list(text, field: "--scopes")
            } ?? [.predict],
            models: arguments.text("--models").map { $0.split(separator: ",").map(String.init) },
            expiresIn: arguments.duration("--expires"),
            rate: try arguments.text("--rate").map { text throws(XalorraError) in try APIKeyRate(text, field: "--rate") })
        let created = try await context.api().createKey(request)
        if context.json {
            context.printJSON(Envelope.success(created.json, message: APIKeyMessage.created))
            return 0
        }
        // The key alone on stdout (for `$(xalorra keys create …)`), what it is on stderr.
        context.terminal.print(created.secret)
        context.terminal.printError(
            "created key \(created.key.prefix) '\(created.key.name)' for \(created.key.user) "
                + "(scopes \(created.key.scopes.map(\.rawValue).joined(separator: ","))); "
                + "it is shown this once: store it now")
        return 0
    }

    static func list(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let owner: APIKeyQuery.Owner =
            arguments.text("--user").map { .user($0) } ?? (arguments.has("--all") ? .all : .own)
        let query = try APIKeyQuery(
            owner: owner, limit: arguments.integer("--limit") ?? Paging.defaultLimit,
            offset: arguments.integer("--offset") ?? 0)
        let page = try await context.api().keys(query)
        if context.json {
            context.printJSON(page.json)
            return 0
        }
        var table = TextTable(["ID", "NAME", "USER", "SCOPES", "MODELS", "STATUS", "EXPIRES", "LAST USED"])
        for key in page.items {
            table.add([
                key.id, key.name, key.user, key.scopes.map(\.rawValue).joined(separator: ","),
                key.models?.joined(separator: ",") ?? "any", key.status(), key.expiresAt?.iso8601Seconds ?? "never",
                key.lastUsedAt?.iso8601Seconds ?? "never",
            ])
        }
        context.printPage(page, table: table, noun: "key")
        return 0
    }

    static func show(_ context: CommandContext) async throws -> Int32 {
        printKey(try await context.api().key(id(context)), context, message: APIKeyMessage.retrieved)
        return 0
    }

    static func revoke(_ context: CommandContext) async throws -> Int32 {
        printKey(try await context.api().revokeKey(id(context)), context, message: APIKeyMessage.revoked)
        return 0
    }

    private static func id(_ context: CommandContext) -> String { context.arguments.argument("id") ?? "" }

    /// The key as `FIELD  VALUE` lines, or with --json the API's envelope for the same operation.
    private static func printKey(_ key: APIKey, _ context: CommandContext, message: String) {
        if context.json {
            context.printJSON(Envelope.success(key.json, message: message))
            return
        }
        var table = TextTable(["FIELD", "VALUE"])
        for (field, value) in [
            ("id", key.id), ("prefix", key.prefix), ("name", key.name), ("user", key.user),
            ("role", key.role.rawValue), ("tenant", key.tenant),
            ("scopes", key.scopes.map(\.rawValue).joined(separator: ",")),
            ("models", key.models?.joined(separator: ",") ?? "any"), ("rate", key.rate?.description ?? "none"),
            ("status", key.status()), ("created", key.createdAt.iso8601Seconds), ("created by", key.createdBy),
            ("expires", key.expiresAt?.iso8601Seconds ?? "never"), ("last used", key.lastUsedAt?.iso8601Seconds ?? "never"),
            ("revoked", key.revokedAt?.iso8601Seconds ?? "no"),
        ] {
            table.add([field, value])
        }
        for line in table.render() { context.terminal.print(line) }
    }
}
