#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB

/// Backups of the SQLite store: a consistent copy taken while servers keep writing, checked before it is kept.
///
/// The copy is `VACUUM INTO` from a connection of its own: one read transaction, so the copy is the store as of one
/// commit (every prediction acknowledged before the backup started is in it), and in WAL mode that read blocks no
/// writer. The copy is written under a temporary name, checked with `PRAGMA integrity_check`, synced, and only then
/// given its name, 0600 like the store (it holds password hashes).
public enum StoreBackup {
    /// What a backup (or a file offered to restore) holds.
    public struct Summary: Sendable {
        /// Where it is.
        public let path: String
        /// Its size in bytes.
        public let bytes: Int
        /// `PRAGMA user_version`: the migrations it has.
        public let schemaVersion: Int
        /// Prediction rows (rows of batches counted one by one).
        public let predictions: Int
        /// User accounts.
        public let users: Int
        /// Model versions.
        public let modelVersions: Int
        /// Audit rows.
        public let auditRows: Int

        /// `{"path","bytes","schema_version","integrity":"ok","predictions","users","model_versions","audit_rows"}`.
        public var json: JSONValue {
            .object([
                ("path", .string(path)), ("bytes", .int(bytes)), ("schema_version", .int(schemaVersion)),
                ("integrity", .string("ok")), ("predictions", .int(predictions)), ("users", .int(users)),
                ("model_versions", .int(modelVersions)), ("audit_rows", .int(auditRows)),
            ])
        }
    }

    /// Writes a checked copy of the store at `storePath` to `file`.
    /// - Parameter force: replace an existing `file`; without it an existing file is refused and left alone.
    /// - Returns: what the copy holds.
    public static func write(store storePath: String, to file: String, force: Bool) async throws(XalorraError)
        -> Summary
    {
        guard FileSystem.exists(storePath) else {
            throw XalorraError(.notFound, "there is no store at \(storePath) to back up")
        }
        if !force, FileSystem.exists(file) {
            throw XalorraError(.alreadyExists, "\(file) exists", hint: "choose another name, or add --force to replace it")
        }
        let temporary = "\(file).partial-\(getpid())"
        _ = FileSystem.remove(temporary)
        // VACUUM INTO writes into an empty file as it finds it: make it 0600 first.
        guard try FileSystem.createExclusive(temporary, bytes: [], mode: 0o600) else {
            throw XalorraError(.internal, "cannot create \(temporary)")
        }
        do throws(XalorraError) {
            let source = try connection(storePath, readOnly: false)
            try await run(source) { db in try db.execute(sql: "VACUUM INTO ?", arguments: [temporary]) }
            try? source.close()
            // A self-contained file: rollback-journal mode, so no -wal beside it is part of the backup.
            let copy = try connection(temporary, readOnly: false)
            _ = try await run(copy) { db in try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE") }
            try? copy.close()
            let summary = try await inspect(temporary, reportedAs: file)
            try sync(temporary)
            if force {
                guard rename(temporary, file) == 0 else { throw failure("cannot rename the backup to \(file)") }
            } else {
                // link() fails if `file` appeared meanwhile, where rename() would replace it.
                guard link(temporary, file) == 0 else {
                    throw errno == EEXIST
                        ? XalorraError(.alreadyExists, "\(file) exists", hint: "add --force to replace it")
                        : failure("cannot create \(file)")
                }
                _ = FileSystem.remove(temporary)
            }
            syncDirectory(of: file)
            return summary
        } catch {
            _ = FileSystem.remove(temporary)
            throw error
        }
    }

    /// Checks that `file` is a whole xalorra store this build can open: the SQLite header, `PRAGMA integrity_check`,
    /// the store's tables, and a schema no newer than this build's. Nothing in the file is changed.
    public static func inspect(_ file: String, reportedAs name: String? = nil) async throws(XalorraError) -> Summary {
        let shown = name ?? file
        var info = stat()
        var header = [UInt8](repeating: 0, count: 16)
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0, fstat(fd, &info) == 0 else {
            if fd >= 0 { close(fd) }
            throw XalorraError(.notFound, "cannot read \(shown)")
        }
        let got = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        close(fd)
        guard got == 16, header == Array("SQLite format 3\0".utf8) else {
            throw XalorraError(.validation, "\(shown) is not an SQLite database (no SQLite header)")
        }
        let size = Int(info.st_size)
        let queue = try connection(file, readOnly: true)
        defer { try? queue.close() }
        let summary = try await run(queue) { db throws -> Summary in
            let problems = try String.fetchAll(db, sql: "PRAGMA integrity_check(20)")
            guard problems == ["ok"] else {
                throw XalorraError(
                    .validation, "\(shown) is damaged: " + problems.prefix(3).joined(separator: "; "))
            }
            guard try db.tableExists("predictions"), try db.tableExists("users") else {
                throw XalorraError(.validation, "\(shown) is an SQLite database but not a xalorra store")
            }
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            guard version <= AppDatabase.schemaVersion else {
                throw XalorraError(
                    .validation,
                    "\(shown) was written by a newer xalorra (schema \(version), this build knows "
                        + "\(AppDatabase.schemaVersion))", hint: "upgrade xalorra to restore it")
            }
            func count(_ table: String) throws -> Int {
                try db.tableExists(table) ? Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 : 0
            }
            return Summary(
                path: shown, bytes: size, schemaVersion: version,
                predictions: try SQLitePredictionRepository.rowCount(db), users: try count("users"),
                modelVersions: try count("model_versions"), auditRows: try count("audit_log"))
        }
        return summary
    }

    /// A connection of its own to `path`, waiting for locks as the store's own connections do.
    static func connection(_ path: String, readOnly: Bool) throws(XalorraError) -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = AppDatabase.busyMode
        configuration.readonly = readOnly
        do {
            return try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw XalorraError(.validation, "cannot open \(path): \(StoreError.describe(error))")
        }
    }

    /// Runs `body` outside any transaction (VACUUM cannot run inside one) on GRDB's queue, not the caller's thread.
    static func run<T: Sendable>(_ queue: DatabaseQueue, _ body: @escaping @Sendable (Database) throws -> T)
        async throws(XalorraError) -> T
    {
        do {
            return try await queue.writeWithoutTransaction(body)
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "store backup failed: \(StoreError.describe(error))")
        }
    }

    /// fsyncs `path`'s contents.
    static func sync(_ path: String) throws(XalorraError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("cannot open \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("cannot sync \(path)") }
    }

    /// fsyncs the directory holding `path`, so a rename in it survives a power loss.
    static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    static func failure(_ message: String) -> XalorraError {
        XalorraError(.internal, message + ": " + String(cString: strerror(errno)))
    }
}
