import GRDB
import GRDBSQLite
import XalorraML

/// The prediction log in the SQLite store.
public struct SQLitePredictionRepository: PredictionRepository {
    private let database: AppDatabase

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

    /// Rows per INSERT statement on the batch path.
    static let rowsPerStatement = 64

    /// ``insertSQL(rows:)`` for a full statement, made once: every statement of a large batch but its last is one.
    private static let fullInsertSQL = insertSQL(rows: rowsPerStatement)

    /// `INSERT … VALUES (?1, …, ?6, ?7, ?8), (?1, …, ?6, ?9, ?10), …` for `rows` rows: the six columns every row
    /// of a batch shares are bound once.
    static func insertSQL(rows: Int) -> String {
        let tuples = (0..<rows).map { "(?1, ?2, ?3, ?4, ?5, ?6, ?\(7 + 2 * $0), ?\(8 + 2 * $0))" }
        return "INSERT INTO predictions (timestamp, tenant, user_id, model, version, latency_us, input, prediction) "
            + "VALUES " + tuples.joined(separator: ", ")
    }

    /// The batch path binds straight through SQLite's C API, 64 rows per statement, each row's JSON as the batch
    /// formatted it (``FormattedRows``, shared with the text log): GRDB's `StatementArguments` would box eight values
    /// and allocate two strings per row, and one statement per row spends most of its time in statement dispatch
    /// rather than in the b-trees.
    private static func insertRows(_ batch: PredictionBatch, _ db: Database) throws -> [Int64] {
        let count = batch.predictions.count
        if count > 1_000 {
            // Keep the whole batch's pages in memory instead of spilling them to the WAL mid-transaction.
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        defer { if count > 1_000 { try? db.execute(sql: "PRAGMA cache_size = -2000") } }
        let connection = db.sqliteConnection
        let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
        func check(_ code: CInt) throws {
            guard code == SQLITE_OK || code == SQLITE_DONE else {
                let message = String(cString: sqlite3_errmsg(connection))
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
            }
        }
        var ids: [Int64] = []
        ids.reserveCapacity(count)
        let formatted = batch.formatted
        var start = 0
        while start < count {
            let rows = min(rowsPerStatement, count - start)
            let sql = rows == rowsPerStatement ? fullInsertSQL : insertSQL(rows: rows)
            let statement = try db.cachedStatement(sql: sql)
            let handle = statement.sqliteStatement
            try check(sqlite3_reset(handle))
            try check(sqlite3_bind_int64(handle, 1, batch.timestamp.microseconds))
            for (index, text) in [batch.tenant, batch.userID, batch.model, batch.version].enumerated() {
                try check(sqlite3_bind_text(handle, CInt(index + 2), text, -1, transient))
            }
            try check(sqlite3_bind_int64(handle, 6, batch.latencyMicros))
            try formatted.bytes.withUnsafeBufferPointer { text in
                // Never empty here: every row has at least `[]` and a number.
                guard let base = text.baseAddress else { return }
                for offset in 0..<rows {
                    let (input, prediction) = formatted.ranges(start + offset)
                    let parameter = CInt(7 + 2 * offset)
                    try check(sqlite3_bind_text(
                        handle, parameter, base + input.lowerBound, CInt(input.count), transient))
                    try check(sqlite3_bind_text(
                        handle, parameter + 1, base + prediction.lowerBound, CInt(prediction.count), transient))
                }
            }
            try check(sqlite3_step(handle))
            // Under the write lock, one statement's rows get consecutive rowids ending at the last one inserted.
            let last = sqlite3_last_insert_rowid(connection)
            ids.append(contentsOf: (last - Int64(rows) + 1)...last)
            try check(sqlite3_reset(handle))
            try check(sqlite3_clear_bindings(handle))
            start += rows
        }
        return ids
    }

    public func list(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
        let (filter, arguments) = Self.filter(query)
        do {
            return try await database.writer.read { db in
                let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM predictions \(filter)", arguments: arguments)
                let items = try Self.fetch(
                    db, sql: "SELECT \(Self.columns) FROM predictions \(filter) ORDER BY id DESC LIMIT ? OFFSET ?",
                    arguments: arguments + [query.limit, query.offset], capacity: query.limit)
                return Page(items: items, total: total ?? 0, limit: query.limit, offset: query.offset)
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    public func records(after id: Int64, matching query: LogQuery) async throws(XalorraError) -> [PredictionRecord] {
        let (sql, arguments) = Self.keysetSQL(query, after: id)
        do {
            return try await database.writer.read { db in
                try Self.fetch(db, sql: sql, arguments: arguments, capacity: query.limit)
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
    private static func filter(
        _ query: LogQuery, after id: Int64? = nil, walkRowids: Bool = false
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
        return (clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND "), arguments)
    }

    /// The columns a record is read from, in the order ``record(_:)`` reads them.
    static let columns = "id, timestamp, model, version, user_id, tenant, latency_us, input, prediction"

    /// The records `sql` (selecting ``columns``) finds. Rows are read through SQLite's C API by column index: GRDB's
    /// `Row` looks each column up by a lower-cased name, which was most of the cost of reading the log (exports read
    /// it whole).
    private static func fetch(
        _ db: Database, sql: String, arguments: StatementArguments, capacity: Int
    ) throws -> [PredictionRecord] {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments(arguments)
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        var records: [PredictionRecord] = []
        records.reserveCapacity(capacity)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return records }
            guard code == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            records.append(try record(handle))
        }
    }

    /// The record at the current row of `handle`, a statement selecting ``columns``.
    private static func record(_ handle: OpaquePointer) throws(XalorraError) -> PredictionRecord {
        func bytes(_ column: CInt) -> UnsafeBufferPointer<UInt8> {
            guard let text = sqlite3_column_text(handle, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
            return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column)))
        }
        func text(_ column: CInt) -> String { String(decoding: bytes(column), as: UTF8.self) }
        let id = sqlite3_column_int64(handle, 0)
        let input: JSONValue, prediction: JSONValue
        do {
            input = try JSONParser.parse(bytes(7))
            prediction = try JSONParser.parse(bytes(8))
        } catch {
            throw XalorraError(.internal, "store: prediction \(id) is not valid JSON")
        }
        guard case .array(let items) = input, case .number(let output) = prediction else {
            throw XalorraError(.internal, "store: prediction \(id) is not valid JSON")
        }
        // A missing value is stored as `null` in its place; rows written before missing values were logged have none.
        var cells: [Number?] = []
        cells.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .number(let number): cells.append(number)
            case .null: cells.append(nil)
            default: throw XalorraError(.internal, "store: prediction \(id) is not valid JSON")
            }
        }
        return PredictionRecord(
            id: id, timestamp: Timestamp(microseconds: sqlite3_column_int64(handle, 1)), model: text(2),
            version: text(3), input: cells, prediction: output, userID: text(4), tenant: text(5),
            latencyMicros: sqlite3_column_int64(handle, 6))
    }
}
