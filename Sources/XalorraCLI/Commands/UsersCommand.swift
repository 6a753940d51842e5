import XalorraClient
import XalorraCore

/// `xalorra users …`: each subcommand is one API call, offline or remote, printed the same way.
enum UsersCommand {
    static func add(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let role = arguments.text("--role").flatMap(Role.init(rawValue:)) ?? .user
        let user = try await newUser(context, role: role, tenant: arguments.text("--tenant"))
        let created = try await context.api().createUser(user)
        printUser(created, context, message: UserMessage.created)
        return 0
    }

    static func register(_ context: CommandContext) async throws -> Int32 {
        let created = try await context.api().register(try await newUser(context, role: .user, tenant: nil))
        printUser(created, context, message: UserMessage.registered)
        return 0
    }

    static func list(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let query = try UserQuery(
            search: arguments.text("--search"), limit: arguments.integer("--limit") ?? Paging.defaultLimit,
            offset: arguments.integer("--offset") ?? 0)
        let page = try await context.api().users(query)
        if context.json {
            context.printJSON(page.json)
            return 0
        }
        var table = TextTable(["USERNAME", "EMAIL", "NAME", "ROLE", "TENANT", "ACTIVE", "CREATED"])
        for user in page.items {
            table.add([
                user.username, user.email, user.fullName, user.role.rawValue, user.tenant, user.isActive ? "yes" : "no",
                user.createdAt.iso8601Seconds,
            ])
        }
        context.printPage(page, table: table, noun: "user")
        return 0
    }

    static func show(_ context: CommandContext) async throws -> Int32 {
        printUser(try await context.api().user(username(context)), context, message: UserMessage.retrieved)
        return 0
    }

    static func update(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let changes = try UserChanges(
            email: arguments.text("--email"), fullName: arguments.text("--name"),
            role: arguments.text("--role").flatMap(Role.init(rawValue:)), tenant: arguments.text("--tenant"))
        guard changes != (try UserChanges()) else {
            throw UsageError("nothing to change: give --email, --name, --role or --tenant", path: context.arguments.path)
        }
        printUser(try await context.api().updateUser(username(context), changes), context, message: UserMessage.updated)
        return 0
    }

    static func disable(_ context: CommandContext) async throws -> Int32 { try await setActive(false, context) }
    static func enable(_ context: CommandContext) async throws -> Int32 { try await setActive(true, context) }

    private static func setActive(_ active: Bool, _ context: CommandContext) async throws -> Int32 {
        let user = try await context.api().updateUser(username(context), try UserChanges(isActive: active))
        printUser(user, context, message: UserMessage.updated)
        return 0
    }

    static func delete(_ context: CommandContext) async throws -> Int32 {
        let name = username(context)
        if context.terminal.stdinIsTTY, !context.arguments.has("--yes") {
            let answer = try TerminalInput.ask("Delete user \(name) and their refresh tokens? [y/N] ", echo: true)
            guard ["y", "yes"].contains(answer.lowercased()) else {
                context.terminal.printError("not deleted")
                return 1
            }
        }
        try await context.api().deleteUser(name)
        if !context.json { context.terminal.print("deleted user \(name)") }
        return 0
    }

    /// With a name: an admin sets that user's password. Without: the caller changes their own, proving the
    /// current one.
    static func passwd(_ context: CommandContext) async throws -> Int32 {
        let api = try await context.api()
        if let name = context.arguments.argument("username") {
            let password = try TerminalInput.read(context, prompt: "New password for \(name): ", confirm: true)
            let user = try await api.updateUser(name, try UserChanges(password: password))
            printUser(user, context, message: UserMessage.updated)
            return 0
        }
        let (current, new) = try TerminalInput.readChange(context)
        try await api.changePassword(current: current, new: new)
        if context.json {
            context.printJSON(Envelope.success(.null, message: UserMessage.passwordChanged))
        } else {
            context.terminal.print("password changed; every session was signed out")
        }
        return 0
    }

    /// Logs in to the server at `--url` and saves the tokens for later remote commands.
    static func login(_ context: CommandContext) async throws -> Int32 {
        let (settings, url) = try serverURL(context, "logs in to")
        let name = username(context)
        let password = try TerminalInput.read(context, prompt: "Password for \(name): ", confirm: false)
        let result = try await RemoteAPI(baseURL: url, token: nil).login(name, password: password)
        try Credentials(url: url, username: result.user.username, tokens: result.tokens).save(settings)
        if context.json {
            context.printJSON(Envelope.success(result.json, message: UserMessage.loggedIn))
        } else {
            context.terminal.print(
                "logged in as \(result.user.username) (role \(result.user.role.rawValue), tenant \(result.user.tenant))")
            context.terminal.printError("credentials saved to \(settings.credentialsPath)")
        }
        return 0
    }

    /// Revokes the saved refresh token on the server and deletes the saved credentials.
    static func logout(_ context: CommandContext) async throws -> Int32 {
        let (settings, url) = try serverURL(context, "logs out of")
        guard let saved = try context.savedCredentials(for: url) else {
            throw XalorraError(.notFound, "not logged in to \(url)", hint: "xalorra users login NAME --url \(url)")
        }
        // The access token may have expired; revoke with a fresh one when it can be had, else just forget.
        if let problem = await revoke(saved, url: url, context) {
            guard problem.code == .tokenExpired || problem.code == .authenticationFailed else { throw problem }
            context.terminal.warning("the saved session had already ended on the server")
        }
        Credentials.delete(settings)
        if !context.json { context.terminal.print("logged out of \(url) (was \(saved.username))") }
        return 0
    }

    /// Revokes the saved refresh token, renewing the access token first if needed; the failure, if any.
    private static func revoke(_ saved: Credentials, url: String, _ context: CommandContext) async -> XalorraError? {
        do {
            let fresh = try await context.renewed(saved)
            try await RemoteAPI(baseURL: url, token: fresh.accessToken).logout(fresh.refreshToken)
            return nil
        } catch {
            return error
        }
    }

    static func whoami(_ context: CommandContext) async throws -> Int32 {
        printUser(try await context.api().profile(), context, message: UserMessage.profile)
        return 0
    }

    // MARK: Helpers

    /// The settings and the server URL of a command that only makes sense remotely.
    private static func serverURL(_ context: CommandContext, _ does: String) throws -> (Settings, String) {
        let settings = try context.settings()
        guard let url = settings.url else {
            let command = context.arguments.path.joined(separator: " ")
            throw UsageError("`\(command)` \(does) a server: give --url (or set XALORRA_URL)", path: context.arguments.path)
        }
        return (settings, url)
    }

    private static func username(_ context: CommandContext) -> String { context.arguments.argument("username") ?? "" }

    private static func newUser(_ context: CommandContext, role: Role, tenant: String?) async throws -> NewUser {
        let arguments = context.arguments
        guard let email = arguments.text("--email") else {
            throw UsageError("missing --email", path: arguments.path)
        }
        guard let name = arguments.text("--name") else {
            throw UsageError("missing --name (the full name, nama_lengkap)", path: arguments.path)
        }
        let username = username(context)
        // Check everything but the password before asking for it.
        _ = try NewUser(username: username, email: email, fullName: name, password: "checked-later", role: role, tenant: tenant)
        let password = try TerminalInput.read(context, prompt: "Password for \(username): ", confirm: true)
        return try NewUser(username: username, email: email, fullName: name, password: password, role: role, tenant: tenant)
    }

    /// The user as `KEY  VALUE` lines, or with --json the API's envelope for the same operation.
    private static func printUser(_ user: User, _ context: CommandContext, message: String) {
        if context.json {
            context.printJSON(Envelope.success(user.json, message: message))
            return
        }
        var table = TextTable(["FIELD", "VALUE"])
        for (field, value) in [
            ("username", user.username), ("email", user.email), ("name", user.fullName), ("role", user.role.rawValue),
            ("tenant", user.tenant), ("active", user.isActive ? "yes" : "no"), ("id", "\(user.id)"),
            ("created", user.createdAt.iso8601Seconds), ("updated", user.updatedAt.iso8601Seconds),
        ] {
            table.add([field, value])
        }
        for line in table.render() { context.terminal.print(line) }
    }
}
