import XalorraCore

/// `xalorra routes`: the HTTP route table.
enum RoutesCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let routes = try await context.api().routes()
        if context.json {
            context.printJSON(Envelope.success(.array(routes.map(\.json)), message: "Route table"))
            return 0
        }
        var table = TextTable(["METHOD", "PATH", "AUTH", "KEY SCOPE", "RATE LIMIT", "SUMMARY"])
        for route in routes {
            table.add([route.method, route.path, route.access.rawValue, route.scopeText ?? "-", route.rateLimit.text, route.summary])
        }
        for (index, line) in table.render().enumerated() {
            context.terminal.print(line, style: index == 0 ? .bold : nil)
        }
        return 0
    }
}
