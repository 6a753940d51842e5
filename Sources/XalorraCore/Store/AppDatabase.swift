#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import GRDB
public import Logging
import Synchronization

/// The SQLite store: one `DatabaseWriter` in WAL mode, opened the same way by the CLI and the server.
///
/// One-shot commands open a `DatabaseQueue` (one connection, cheapest to open); the server opens a `DatabasePool`.
/// Migrations run only when `PRAGMA user_version` says the schema is behind, so an up-to-date store opens with a
/// single pragma read.
public final class AppDatabase: Sendable {
    /// How long a writer waits for another process's write lock before failing.
    public static let busyTimeoutSeconds: Double = 15

    /// How every connection to the store waits for another process's lock: tries again every 100 µs for the first
    /// 20 ms, then every 2 ms, and gives up after ``busyTimeoutSeconds`` (``busyWait(afterTries:)``).
    ///
    /// SQLite's own `busy_timeout` sleeps 1, 2, 5, 10, 15, 20, 25 ms… between attempts, so a commit that found the
    /// lock taken for a millisecond (a `logs prune` in another process, or the CLI's batch predict) slept 8 ms or
    /// more after the lock was free again: the predict p99 under another process's prune was 4.3 to 5 times its
    /// unloaded value, and 1.0 to 1.2 times with this (`bench/prune.sh`, RESULTS §18.1).
    public static let busyMode: Database.BusyMode = .callback { tries in
        guard let wait = busyWait(afterTries: tries) else { return false }
        let (seconds, attoseconds) = wait.components
        usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        return true
    }

    /// What ``busyMode`` waits before attempt `tries + 1` (SQLite counts the failed attempts from 0), or nil once
    /// the waits add up to ``busyTimeoutSeconds``.
    package static func busyWait(afterTries tries: Int) -> Duration? {
        let quick = 200
        if tries < quick { return .microseconds(100) }
        let slow = Int((busyTimeoutSeconds - 0.02) / 0.002)
        return tries < quick + slow ? .milliseconds(2) : nil
    }

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

    /// Stores that one-shot processes keep open until `exit`, see ``open(path:pooled:keepOpenUntilExit:logger:)``.
    private static let keptOpen = Mutex<[AppDatabase]>([])

    /// Opens (creating if needed) the store at `path`.
    /// - Parameters:
    ///   - pooled: a `DatabasePool` for concurrent readers (the server); otherwise a `DatabaseQueue`.
    ///   - keepOpenUntilExit: never close the connection, for one-shot commands. Closing the last connection
    ///     checkpoints the WAL into the database file (an fsync) and deletes it, so the next command recreates it
    ///     (two more fsyncs): most of a one-shot `predict`'s time. SQLite treats an exit without close like a crash,
    ///     which WAL mode recovers from without loss, and auto-checkpoints still bound the WAL's size.
    public static func open(
        path: String, pooled: Bool = false, keepOpenUntilExit: Bool = false, logger: Logger? = nil
    ) throws(XalorraError) -> AppDatabase {
        let database = try open(path: path, pooled: pooled, logger: logger)
        if keepOpenUntilExit { keptOpen.withLock { $0.append(database) } }
        return database
    }

    private static func open(path: String, pooled: Bool, logger: Logger?) throws(XalorraError) -> AppDatabase {
        var configuration = Configuration()
        configuration.busyMode = busyMode
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // A pool puts the file in WAL mode itself. For a queue, GRDB's `journalMode = .wal` would also stat
            // the WAL through Foundation, which resolves owner and group names on Linux (about 3 ms of a one-shot
            // command); the pragma alone is enough, and is a no-op once the file is in WAL mode.
            if !pooled { try db.execute(sql: "PRAGMA journal_mode = WAL") }
            // NORMAL in WAL mode: a process crash loses nothing committed; a power loss may lose the last commits.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The server checkpoints from its own connection (``WALCheckpointer``): an automatic checkpoint runs
            // inside the commit that crosses 1,000 WAL pages and fsyncs there, stalling every request waiting on
            // that commit (the p99 of predict at 1,000/s was 8 ms of such stalls).
            if pooled { try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        }
        if let logger {
            configuration.prepareDatabase { db in
                db.trace(options: .statement) { logger.trace("sql", metadata: ["statement": "\($0)"]) }
            }
        }
        // The store holds password hashes and refresh-token ids: create it 0600 (SQLite would make it 0644 less the
        // umask), so it stays private even in a home that is not 0700. SQLite gives its -wal and -shm files the
        // database file's mode.
        if path != ":memory:", !FileSystem.exists(path) {
            // An empty file is an empty database to SQLite; a failure here is left for SQLite to report.
            _ = try? FileSystem.createExclusive(path, bytes: [], mode: 0o600)
        }
        let deadline = ContinuousClock.now + .seconds(busyTimeoutSeconds)
        while true {
            do {
                let writer: any DatabaseWriter =
                    pooled
                    ? try DatabasePool(path: path, configuration: configuration)
                    : try DatabaseQueue(path: path, configuration: configuration)
                return try AppDatabase(writer, path: path)
            } catch let error as XalorraError {
                throw error
            } catch let error as DatabaseError
                where error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline
            {
                // A new store is in rollback-journal mode until its creator has switched it to WAL, and in that
                // mode SQLite answers SQLITE_BUSY at once, without waiting, where waiting could deadlock (seen, about
                // once in 400 rounds of 8 processes opening a new store, before the migrations had started).
                // Opening is idempotent (pragmas, and migrations in their own transactions): try again shortly.
                usleep(.random(in: 2_000...20_000))
            } catch {
                throw XalorraError(.internal, "cannot open the store at \(path): \(StoreError.describe(error))")
            }
        }
    }

    /// Runs `SELECT 1`: the health check's round trip.
    public func ping() throws(XalorraError) {
        do {
            _ = try writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// A connection of its own that checkpoints the WAL of this (pooled) store, off the writer's path.
    public func checkpointer() throws(XalorraError) -> WALCheckpointer {
        var configuration = Configuration()
        configuration.busyMode = Self.busyMode
        do {
            return WALCheckpointer(connection: try DatabaseQueue(path: path, configuration: configuration))
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// An empty in-memory store, for tests.
    public static func inMemory() throws -> AppDatabase {
        try AppDatabase(DatabaseQueue(), path: ":memory:")
    }
}

/// Copies the WAL into the database file from a connection of its own: a passive checkpoint waits for no one, and
/// its fsync happens here instead of inside some request's commit.
public final class WALCheckpointer: Sendable {
    private let connection: DatabaseQueue

    init(connection: DatabaseQueue) { self.connection = connection }

    /// Checkpoints what it can without blocking readers or the writer (on GRDB's queue, not the caller's thread).
    /// - Returns: the WAL's size and how much of it is now in the database file, in pages.
    @discardableResult
    public func checkpoint() async throws(XalorraError) -> (walPages: Int, checkpointedPages: Int) {
        do {
            let result = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            return (result.walFrameCount, result.checkpointedFrameCount)
        } catch {
            throw StoreError.wrap(error)
        }
    }
}

extension AppDatabase {
    /// A read on the store's pool or queue, failures as ``XalorraError``.
    func reading<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(XalorraError) -> T {
        do {
            return try await writer.read(body)
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// A write transaction, failures as ``XalorraError`` (an `XalorraError` thrown inside passes through).
    func writing<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(XalorraError) -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw StoreError.wrap(error)
        }
    }
}
