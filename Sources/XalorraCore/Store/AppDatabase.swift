public import GRDB
public import Logging

/// The SQLite store: one `DatabaseWriter` in WAL mode, opened the same way by the CLI and the server.
///
/// One-shot commands open a `DatabaseQueue` (one connection, cheapest to open); the server opens a `DatabasePool`.
/// Migrations run only when `PRAGMA user_version` says the schema is behind, so an up-to-date store opens with a
/// single pragma read.
public final class AppDatabase: Sendable {
    /// How long a writer waits for another process's write lock before failing.
    public static let busyTimeoutSeconds: Double = 15

    /// The connection (or pool) every repository goes through.
    public let writer: any DatabaseWriter
    /// The store's file path, or `:memory:`.
    public let path: String

    /// Wraps an open writer, migrating it when its schema is behind.
    public init(_ writer: any DatabaseWriter, path: String) throws {
        self.writer = writer
        self.path = path
        try Self.migrateIfNeeded(writer)
    }

    /// Opens (creating if needed) the store at `path`.
    /// - Parameters:
    ///   - pooled: a `DatabasePool` for concurrent readers (the server); otherwise a `DatabaseQueue`.
    public static func open(path: String, pooled: Bool = false, logger: Logger? = nil) throws(XalorraError) -> AppDatabase {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // NORMAL in WAL mode: a process crash loses nothing committed; a power loss may lose the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        if let logger {
            configuration.prepareDatabase { db in
                db.trace(options: .statement) { logger.trace("sql", metadata: ["statement": "\($0)"]) }
            }
        }
        do {
            let writer: any DatabaseWriter =
                pooled
                ? try DatabasePool(path: path, configuration: configuration)
                : try DatabaseQueue(path: path, configuration: configuration)
            return try AppDatabase(writer, path: path)
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "cannot open the store at \(path): \(StoreError.describe(error))")
        }
    }

    /// An empty in-memory store, for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(), path: ":memory:")
    }
}
