import XalorraCore

/// `xalorra token` and `xalorra token verify`.
enum TokenCommand {
    /// Mints a token and prints it bare, or with --json as `{access_token, token_type, expires_in, claims}`.
    static func mint(_ context: CommandContext) async throws -> Int32 {
        let settings = try context.settings()
        let arguments = context.arguments
        let request = try TokenRequest(
            user: arguments.text("--user") ?? settings.user,
            role: Role(rawValue: arguments.text("--role") ?? "user") ?? .user,
            tenant: arguments.text("--tenant") ?? settings.defaultTenant,
            ttl: arguments.duration("--ttl") ?? TimeSpan(seconds: 3600))
        let issued = try await context.api().mintToken(request)
        if context.json {
            context.printJSON(issued.json)
        } else {
            context.terminal.print(issued.token)
        }
        return 0
    }

    /// Verifies a token and prints its claims; refusals exit 4 with the reason.
    static func verify(_ context: CommandContext) async throws -> Int32 {
        var token = context.arguments.argument("token") ?? ""
        if token == "-" {
            token = String(decoding: try FileSystem.readAll(fd: 0, name: "standard input"), as: UTF8.self)
                .filter { !$0.isWhitespace }
        }
        let claims = try await context.api().verifyToken(token)
        if context.json {
            context.printJSON(claims.json)
            return 0
        }
        var table = TextTable(["CLAIM", "VALUE"])
        let now = Timestamp.now().seconds
        for (name, value) in claimRows(claims, now: now) { table.add([name, value]) }
        for line in table.render() { context.terminal.print(line) }
        return 0
    }

    private static func claimRows(_ claims: TokenClaims, now: Int64) -> [(String, String)] {
        func time(_ seconds: Int64) -> String {
            let when = Timestamp(seconds: seconds).iso8601Seconds
            let delta = seconds.subtractingSaturating(now)
            let relative =
                delta == 0 ? "now" : delta > 0 ? "in \(TimeSpan(seconds: delta))" : "\(TimeSpan(seconds: -delta)) ago"
            return "\(seconds) (\(when), \(relative))"
        }
        var rows: [(String, String)] = [
            ("sub", claims.sub), ("user_id", claims.userID), ("role", claims.role.rawValue), ("tenant", claims.tenant),
            ("typ", (claims.typ ?? .access).rawValue),
        ]
        if let iat = claims.iat { rows.append(("iat", time(iat))) }
        rows.append(("exp", claims.exp.map(time) ?? "none (legacy token)"))
        if let nbf = claims.nbf { rows.append(("nbf", time(nbf))) }
        if let jti = claims.jti { rows.append(("jti", jti)) }
        return rows
    }
}
