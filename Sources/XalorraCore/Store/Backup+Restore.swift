#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GRDB

extension StoreBackup {
    /// What a restore did.
    public struct Restored: Sendable {
        /// What the restored store holds.
        public let summary: Summary
        /// Where the store it replaced now is (`xalorra.db.before-restore`), or `nil` when there was none.
        public let previous: String?

        /// `{"restored": <summary>, "previous": path|null}`.
        public var json: JSONValue {
            .object([("restored", summary.json), ("previous", previous.map { .string($0) } ?? .null)])
        }
    }

    /// Why ``restore(from:home:storePath:)`` refused to run: a server holds the store.
    public static func serverRunningError(home: String) -> XalorraError {
        XalorraError(
            .conflict, "a running `xalorra serve` is using the store in \(home); nothing was restored",
            hint: "stop the server (it holds \(ServeLock.path(home: home))) and run restore again")
    }

    /// Replaces the store at `storePath` with a checked copy of `file`.
    ///
    /// Refused (``serverRunningError(home:)``) while a server holds ``ServeLock``, which is held exclusively meanwhile
    /// so no server starts halfway. The old store is checkpointed (so its WAL is in its file), kept as
    /// `<store>.before-restore` (replacing an earlier one), its `-wal` and `-shm` removed, and the copy renamed into
    /// place: at every moment the store's path names a whole database, the old or the new.
    public static func restore(from file: String, home: String, storePath: String) async throws(XalorraError)
        -> Restored
    {
        let checked = try await inspect(file)
        guard let lock = try ServeLock.exclusive(home: home) else { throw serverRunningError(home: home) }
        defer { withExtendedLifetime(lock) {} }
        let incoming = "\(storePath).restoring-\(getpid())"
        _ = FileSystem.remove(incoming)
        guard try FileSystem.createExclusive(incoming, bytes: [], mode: 0o600) else {
            throw XalorraError(.internal, "cannot create \(incoming)")
        }
        do throws(XalorraError) {
            // Through SQLite rather than a byte copy: a backup with a -wal of its own is read whole.
            let source = try connection(file, readOnly: true)
            try await run(source) { db in try db.execute(sql: "VACUUM INTO ?", arguments: [incoming]) }
            try? source.close()
            try sync(incoming)
            var previous: String?
            if FileSystem.exists(storePath) {
                let old = try connection(storePath, readOnly: false)
                try await run(old) { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
                try? old.close()
                let kept = storePath + ".before-restore"
                _ = FileSystem.remove(kept)
                guard link(storePath, kept) == 0 else { throw failure("cannot keep the old store as \(kept)") }
                previous = kept
            }
            // Stale after the checkpoint, and never valid for the new file.
            _ = FileSystem.remove(storePath + "-wal")
            _ = FileSystem.remove(storePath + "-shm")
            guard rename(incoming, storePath) == 0 else { throw failure("cannot move the restored store into place") }
            syncDirectory(of: storePath)
            let summary = Summary(
                path: storePath, bytes: checked.bytes, schemaVersion: checked.schemaVersion,
                predictions: checked.predictions, users: checked.users, modelVersions: checked.modelVersions,
                auditRows: checked.auditRows)
            return Restored(summary: summary, previous: previous)
        } catch {
            _ = FileSystem.remove(incoming)
            throw error
        }
    }
}
