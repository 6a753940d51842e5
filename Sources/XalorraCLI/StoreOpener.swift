import Logging
import XalorraCore
import XalorraPostgres

/// The store a command runs on, opened once per process from the settings (`XALORRA_DATABASE_URL` /
/// `--database`) and closed when the command ends (``CLI/main(_:environment:)``).
actor StoreOpener {
    private var opened: (any Store)?

    /// The store the settings name, opened on first use.
    /// - Parameter serving: `serve`'s store (a pool for concurrent requests); otherwise one-shot command's.
    /// - Parameter migrate: PostgreSQL: apply the missing migrations on opening (SQLite always does).
    func store(_ settings: Settings, serving: Bool = false, migrate: Bool = true) async throws(XalorraError) -> any Store {
        if let opened { return opened }
        let store: any Store
        switch settings.database {
        case .sqlite:
            try FileSystem.makeDirectories(settings.home)
            store = try AppDatabase.open(path: settings.databasePath, pooled: serving, keepOpenUntilExit: !serving)
        case .postgres(let location):
            store = try await PostgresStore.open(
                location, logger: serving ? Self.serverLogger : PostgresStore.quietLogger, migrate: migrate,
                maximumConnections: serving ? 20 : 2,
                connectionWait: serving ? .seconds(1) : .seconds(10),
                trainingLease: .seconds(settings.trainingLease.seconds))
        }
        opened = store
        return store
    }

    /// `serve`'s store logs into the server's log, warnings and worse only (review V, L3): the database going away
    /// and coming back are in the log, not only in the 503s clients see. One-shot commands keep the store quiet
    /// (their failures reach the user as errors).
    private static var serverLogger: Logger {
        var logger = Logger(label: "xalorra.postgres")
        logger.logLevel = .warning
        return logger
    }

    /// The store when it was opened, for a PostgreSQL store only (SQLite opens lazily by itself).
    func postgresStore(_ settings: Settings) async throws(XalorraError) -> (any Store)? {
        guard case .postgres = settings.database else { return nil }
        return try await store(settings)
    }

    /// Closes the store if one was opened.
    func close() async {
        guard let opened else { return }
        self.opened = nil
        await opened.close()
    }
}
