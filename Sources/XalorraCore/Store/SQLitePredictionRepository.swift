import GRDB
import GRDBSQLite
import XalorraML

/// The prediction log in the SQLite store.
public struct SQLitePredictionRepository: PredictionRepository {
    let database: AppDatabase

    /// Creates the repository over `database`.
    public init(database: AppDatabase) { self.database = database }

    public func insert(batches: [PredictionBatch]) async throws(XalorraError) -> [[Int64]] {
        do {
            return try await database.writer.writeWithoutTransaction { db in
                // IMMEDIATE takes the write lock up front, so a concurrent writer waits in the busy handler instead
                // of failing on a lock upgrade.
                var ids: [[Int64]] = []
                try db.inTransaction(.immediate) {
                    ids = try batches.map { batch in try Self.insertRows(batch, db) }
                    return .commit
                }
                return ids
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// One record per batch: its rows as one ``PredictionBlock``, under the id of its last row, so that the rows own
    /// the ids `id - row_count + 1 … id` and the next record (SQLite gives it `max(id) + 1`) follows them. A request
    /// of 1,000 rows is one B-tree insert of one value that needed no number formatted, where it was 1,000 rows of
    /// JSON text (16 statements of 64 rows): what logging a batch cost (bench/RESULTS.md §13).
    private static let insertSQL = """
        INSERT INTO predictions (id, timestamp, tenant, user_id, model, version, latency_us, input, prediction, \
        row_count, block) VALUES ((SELECT coalesce(max(id), 0) FROM predictions) + ?7, ?1, ?2, ?3, ?4, ?5, ?6, '', '', \
        ?7, ?8)
        """

    /// Binds straight through SQLite's C API: GRDB's `StatementArguments` would box every value first. A batch of
    /// more rows than a block holds is several records, one after another.
    private static func insertRows(_ batch: PredictionBatch, _ db: Database) throws -> [Int64] {
        let count = batch.predictions.count
        guard count > 0 else { return [] }
        let connection = db.sqliteConnection
        let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
        func check(_ code: CInt) throws {
            guard code == SQLITE_OK || code == SQLITE_DONE else {
                let message = String(cString: sqlite3_errmsg(connection))
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
            }
        }
        let statement = try db.cachedStatement(sql: insertSQL)
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        var rows = 0
        for block in batch.blocks {
            let blockRows = min(PredictionBlock.maxRows, count - rows)
            try check(sqlite3_reset(handle))
            try check(sqlite3_bind_int64(handle, 1, batch.timestamp.microseconds))
            for (index, text) in [batch.tenant, batch.userID, batch.model, batch.version].enumerated() {
                try check(sqlite3_bind_text(handle, CInt(index + 2), text, -1, transient))
            }
            try check(sqlite3_bind_int64(handle, 6, batch.latencyMicros))
            try check(sqlite3_bind_int64(handle, 7, Int64(blockRows)))
            try block.withUnsafeBytes { bytes in
                // SQLITE_STATIC: the bytes outlive the step below.
                try check(sqlite3_bind_blob(handle, 8, bytes.baseAddress, CInt(bytes.count), nil))
                try check(sqlite3_step(handle))
            }
            rows += blockRows
        }
        // One transaction, one writer: the blocks' ids are consecutive, ending at the last one inserted.
        let last = sqlite3_last_insert_rowid(connection)
        return Array((last - Int64(count) + 1)...last)
    }

    public func list(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
        let (filter, arguments) = Self.filter(query)
        do {
            return try await database.writer.read { db in
                let total = try Int.fetchOne(
                    db, sql: "SELECT coalesce(sum(row_count), 0) FROM predictions \(filter)", arguments: arguments) ?? 0
                // The offset counts rows: skip whole records by their row counts, newest first, to the record the
                // page starts in (as SQLite's OFFSET would step over records), then that record's newer rows.
                var skip = query.offset
                var start: Int64?
                if skip > 0 {
                    let statement = try db.cachedStatement(
                        sql: "SELECT id, row_count FROM predictions \(filter) ORDER BY id DESC")
                    try statement.setArguments(arguments)
                    let handle = statement.sqliteStatement
                    defer { sqlite3_reset(handle) }
                    while start == nil {
                        let code = sqlite3_step(handle)
                        guard code == SQLITE_ROW else {
                            guard code == SQLITE_DONE else { throw Self.error(code, db) }
                            return Page(items: [], total: total, limit: query.limit, offset: query.offset)
                        }
                        let rows = Int(sqlite3_column_int64(handle, 1))
                        if skip < rows { start = sqlite3_column_int64(handle, 0) } else { skip -= rows }
                    }
                }
                let (pageFilter, pageArguments) = Self.filter(query, atMost: start)
                let items = try Self.fetch(
                    db, sql: "SELECT \(Self.columns) FROM predictions \(pageFilter) ORDER BY id DESC LIMIT ?",
                    arguments: pageArguments + [query.limit], descending: true, skip: skip, limit: query.limit)
                return Page(items: items, total: total, limit: query.limit, offset: query.offset)
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    public func records(after id: Int64, matching query: LogQuery) async throws(XalorraError) -> [PredictionRecord] {
        let (sql, arguments) = Self.keysetSQL(query, after: id)
        do {
            return try await database.writer.read { db in
                // The first record may hold rows up to `id` too: its id is its last row's.
                try Self.fetch(db, sql: sql, arguments: arguments, descending: false, after: id, limit: query.limit)
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    public func newestID() async throws(XalorraError) -> Int64 {
        do {
            return try await database.writer.read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM predictions") ?? 0 }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    public func changeCounter() async throws(XalorraError) -> Int64 {
        do {
            // `data_version` changes when another connection commits; our own commits go through the same
            // connection (a DatabaseQueue), so add the total change count to see those too.
            return try await database.writer.read { db in
                let version = try Int64.fetchOne(db, sql: "PRAGMA data_version") ?? 0
                let ours = try Int64.fetchOne(db, sql: "SELECT total_changes()") ?? 0
                return version &* 1_000_003 &+ ours
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// The keyset read of ``records(after:matching:)``: the next `query.limit` matches after `id`, in id order.
    ///
    /// With a tenant but no model, the tenant test is written `+tenant = ?` so that SQLite walks the rowids from `id`
    /// and tests each row, instead of taking every row of the tenant from the `(tenant, model, id)` index and sorting
    /// them all for each page: that made each page cost the whole tenant (0.4 s a page at 1M rows, so an export grew
    /// with the square of the log, and a followed log paid it on every poll); the walk costs what it reads. With a
    /// model too, the index gives exactly the rows wanted, in order.
    static func keysetSQL(_ query: LogQuery, after id: Int64) -> (String, StatementArguments) {
        let (filter, arguments) = filter(query, after: id, walkRowids: query.model == nil)
        return ("SELECT \(columns) FROM predictions \(filter) ORDER BY id LIMIT ?", arguments + [query.limit])
    }

    /// The WHERE clause for `query`'s filters.
    /// - Parameter walkRowids: keep SQLite off the tenant index (see ``keysetSQL(_:after:)``).
    /// - Parameter atMost: only records up to this id (where a page of the newest-first list starts).
    private static func filter(
        _ query: LogQuery, after id: Int64? = nil, atMost: Int64? = nil, walkRowids: Bool = false
    ) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let tenant = query.tenant {
            clauses.append(walkRowids ? "+tenant = ?" : "tenant = ?")
            arguments += [tenant]
        }
        if let model = query.model {
            clauses.append("model = ?")
            arguments += [model]
        }
        if let since = query.since {
            clauses.append("timestamp >= ?")
            arguments += [since.microseconds]
        }
        if let until = query.until {
            clauses.append("timestamp <= ?")
            arguments += [until.microseconds]
        }
        if let id {
            clauses.append("id > ?")
            arguments += [id]
        }
        if let atMost {
            clauses.append("id <= ?")
            arguments += [atMost]
        }
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    /// The columns a record is read from, in the order ``appendRecords(_:descending:into:)`` reads them.
    static let columns = "id, timestamp, model, version, user_id, tenant, latency_us, input, prediction, row_count, block"

    /// The rows of the records `sql` (selecting ``columns``) finds, each record's rows in the order of the records
    /// (`descending`: newest first), at most `limit` of them, leaving out the first `skip` and every one up to `after`.
    /// Rows are read through SQLite's C API by column index: GRDB's `Row` looks each column up by a lower-cased name,
    /// which was most of the cost of reading the log (exports read it whole).
    private static func fetch(
        _ db: Database, sql: String, arguments: StatementArguments, descending: Bool, skip: Int = 0,
        after: Int64? = nil, limit: Int
    ) throws -> [PredictionRecord] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        var records: [PredictionRecord] = []
        records.reserveCapacity(min(limit, 4096))
        var skip = skip
        while records.count < limit {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw error(code, db) }
            for record in try rows(handle, descending: descending) {
                if let after, record.id <= after { continue }
                if skip > 0 {
                    skip -= 1
                    continue
                }
                records.append(record)
                if records.count == limit { break }
            }
        }
        return records
    }

    private static func error(_ code: CInt, _ db: Database) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    /// The rows of the record at the current row of `handle`, a statement selecting ``columns``: one for a row
    /// logged before blocks (its input and prediction as JSON text), every row of a block otherwise.
    static func rows(_ handle: OpaquePointer, descending: Bool) throws(XalorraError) -> [PredictionRecord] {
        func bytes(_ column: CInt) -> UnsafeBufferPointer<UInt8> {
            guard let text = sqlite3_column_text(handle, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column)))
        }
        func text(_ column: CInt) -> String { String(decoding: bytes(column), as: UTF8.self) }
        // The record's rows as every store reads them (StoredPrediction, shared with the PostgreSQL store).
        let header = StoredPrediction.Header(
            id: sqlite3_column_int64(handle, 0), timestamp: Timestamp(microseconds: sqlite3_column_int64(handle, 1)),
            model: text(2), version: text(3), userID: text(4), tenant: text(5),
            latencyMicros: sqlite3_column_int64(handle, 6), rowCount: Int(sqlite3_column_int64(handle, 9)))
        guard sqlite3_column_type(handle, 10) == SQLITE_BLOB else {
            return [try StoredPrediction.legacyRow(header, input: bytes(7), prediction: bytes(8))]
        }
        let block = UnsafeRawBufferPointer(
            start: sqlite3_column_blob(handle, 10), count: Int(sqlite3_column_bytes(handle, 10)))
        return try StoredPrediction.rows(header, block: block, descending: descending)
    }
}
