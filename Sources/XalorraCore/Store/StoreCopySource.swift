#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import GRDB

/// The SQLite store `xalorra store copy` reads: opened read-only (nothing in it changes, the file is not created
/// when missing), in one read transaction from ``begin()`` to ``end()``, so every table is read as of one moment
/// while a server may keep writing to it (WAL mode: a reader holds no writer up).
package final class StoreCopySource: Sendable {
    /// The file, as given.
    package let path: String
    private let queue: DatabaseQueue

    /// Opens the store at `path`: 404 when there is no file, 422 when it is not a xalorra store or a newer one.
    package init(path: String) throws(XalorraError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw XalorraError(.notFound, "there is no SQLite store at \(path)")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = AppDatabase.busyMode
        // The snapshot's transaction stays open across page reads (see ``begin()``).
        configuration.allowsUnsafeTransactions = true
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw XalorraError(.validation, "cannot open \(path) as a SQLite store: \(StoreError.describe(error))")
        }
    }

    /// Starts the read transaction every later read sees, after checking that the file is a xalorra store this
    /// build reads.
    package func begin() throws(XalorraError) {
        let path = self.path
        try access { db in
            try db.execute(sql: "BEGIN DEFERRED")
            guard try db.tableExists("predictions"), try db.tableExists("users") else {
                throw XalorraError(.validation, "\(path) is not a xalorra store")
            }
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            guard version <= AppDatabase.schemaVersion else {
                throw XalorraError(
                    .validation,
                    "\(path) was written by a newer xalorra (schema \(version), this build knows "
                        + "\(AppDatabase.schemaVersion))", hint: "copy it with the newer xalorra")
            }
        }
    }

    /// Ends the read transaction and closes the file.
    package func end() {
        try? queue.inDatabase { db in if db.isInsideTransaction { try db.execute(sql: "COMMIT") } }
        try? queue.close()
    }

    /// The tables of ``StoreCopyPlan/tables`` the file has (an older store may lack the newer ones).
    package func tables() throws(XalorraError) -> [String] {
        try access { db in try StoreCopyPlan.tables.filter { try db.tableExists($0) } }
    }

    /// How many rows `table` holds (for `predictions`: records, each a block of rows).
    package func count(_ table: String) throws(XalorraError) -> Int64 {
        try access { db in try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
    }

    /// The prediction rows the log holds (a block's rows one by one; a store from before blocks counts records).
    package func predictionRows() throws(XalorraError) -> Int64 {
        try access { db in Int64(try SQLitePredictionRepository.rowCount(db)) }
    }

    /// The largest id SQLite's AUTOINCREMENT handed out for `table` (a deleted row's id included); 0 when none.
    package func usedID(_ table: String) throws(XalorraError) -> Int64 {
        try access { db in
            var used = try Int64.fetchOne(db, sql: "SELECT coalesce(max(rowid), 0) FROM \(table)") ?? 0
            if try db.tableExists("sqlite_sequence") {
                used = max(used, try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table]) ?? 0)
            }
            return used
        }
    }

    /// Up to `limit` rows of `table` after `rowid`, in `rowid` order: every column, as stored.
    package func page(_ table: String, after rowID: Int64, limit: Int) throws(XalorraError) -> CopyPage {
        try access { db in
            let columns = try db.columns(in: table).map(\.name)
            let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT rowid, \(list) FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                arguments: [rowID, limit])
            var rows: [[CopyValue]] = []
            var last = rowID
            while let row = try cursor.next() {
                let values = Array(row.databaseValues)
                last = Int64.fromDatabaseValue(values[0]) ?? last
                rows.append(values.dropFirst().map(Self.value))
            }
            return CopyPage(columns: columns, rows: rows, lastRowID: last)
        }
    }

    private static func value(_ value: DatabaseValue) -> CopyValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .integer(number)
        case .double(let number): .real(number)
        case .string(let text): .text(text)
        case .blob(let data): .blob(Array(data))
        }
    }

    private func access<T>(_ body: (Database) throws -> T) throws(XalorraError) -> T {
        do {
            return try queue.inDatabase(body)
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "reading \(path) failed: \(StoreError.describe(error))")
        }
    }
}
