import Logging
import XalorraCore
import XalorraClient
import XalorraServer

/// `xalorra serve`: the HTTP API on the local store.
enum ServeCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let settings = try context.settings()
        guard settings.url == nil else {
            throw UsageError("`serve` runs on the local store; drop --url / XALORRA_URL.", path: context.arguments.path)
        }
        // Several instances on one database must sign and verify tokens with one secret: a generated secret.key is
        // per home, so on PostgreSQL the secret is required, not generated.
        if case .postgres = settings.database, settings.secretKey == nil {
            throw UsageError(
                "`serve` on PostgreSQL needs SECRET_KEY: every instance must sign and verify tokens with the same "
                    + "secret (32 or more random bytes, the same in each instance's environment).",
                path: context.arguments.path)
        }
        let host = context.arguments.text("--host") ?? "127.0.0.1"
        let port = context.arguments.integer("--port") ?? 8001
        LoggingSystem.bootstrap { _ in LineLogHandler() }
        let logger = Logger(label: "xalorra")
        try FileSystem.makeDirectories(settings.home)
        // Held (shared) while serving: `restore` refuses while any server holds it.
        let lock = try ServeLock.serving(home: settings.home)
        defer { withExtendedLifetime(lock) {} }
        let database = try await context.stores.store(settings, serving: true)
        let terminal = context.terminal
        let server = try await XalorraServer(
            settings: settings, host: host, port: port, database: database, logger: logger,
            responder: OpenAIResponder.responder(for: settings),
            onRunning: { bound in
                terminal.printError("xalorra \(XalorraVersion.current) serving http://\(host):\(bound) (store \(database.location))")
                terminal.printError("dashboard: http://\(host):\(bound)/ui")
            })
        try await server.run()
        return 0
    }
}
