import NIOCore
import PostgresNIO
import XalorraCore

/// The prediction log in PostgreSQL, laid out as in SQLite (``StoredPrediction``): one record per block of at most
/// 1,024 rows, under the id of its last row.
///
/// Ids are allocated by the writer: the statement that inserts a group's records first moves `prediction_ids.last_id`
/// on by the group's row count, which locks that one row until the group's transaction commits. Every writer of every
/// process therefore takes its ids after the previous writer committed: ids are consecutive, never reused, and
/// increase in commit order across all instances, so a reader that has seen id `n` never later finds a new record at
/// or below `n` (what the keyset reads of a followed log rely on). The price is that group commits of all instances
/// take turns, each holding the lock for its insert and its commit (one group per instance at a time already).
struct PostgresPredictionRepository: PredictionRepository {
    let database: PostgresDatabase

    init(database: PostgresDatabase) { self.database = database }

    /// The columns a record is read from, by name in ``header(_:)`` and ``expand(_:descending:)``.
    private static let columns =
        "id, timestamp, model, version, user_id, tenant, latency_us, row_count, block, input, prediction"

    // MARK: Writing

    /// All of `batches` in one transaction with one multi-row insert (arrays unnested server-side), answered after
    /// the commit.
    func insert(batches: [PredictionBatch]) async throws(XalorraError) -> [[Int64]] {
        // Each record's last row, counted from the group's first row; the group's base id comes from the counter.
        var lastRows: [Int64] = [], timestamps: [Int64] = [], tenants: [String] = [], users: [String] = []
        var models: [String] = [], versions: [String] = [], latencies: [Int64] = [], counts: [Int64] = []
        var blocks: [ByteBuffer] = []
        var total: Int64 = 0
        var ranges: [(start: Int64, count: Int64)] = []
        for batch in batches {
            let rows = Int64(batch.predictions.count)
            ranges.append((total, rows))
            var done = 0
            for block in StoredPrediction.blocks(of: batch) {
                let blockRows = min(StoredPrediction.maxRows, batch.predictions.count - done)
                done += blockRows
                lastRows.append(total + Int64(done))
                timestamps.append(batch.timestamp.microseconds)
                tenants.append(batch.tenant)
                users.append(batch.userID)
                models.append(batch.model)
                versions.append(batch.version)
                latencies.append(batch.latencyMicros)
                counts.append(Int64(blockRows))
                blocks.append(ByteBuffer(bytes: block))
            }
            total += rows
        }
        guard total > 0 else { return batches.map { _ in [] } }
        let statement = InsertGroup(
            total: total, lastRows: lastRows, timestamps: timestamps, tenants: tenants, users: users, models: models,
            versions: versions, latencies: latencies, counts: counts, blocks: blocks)
        let base = try await database.withConnection { connection in
            guard let base = try await connection.rows(statement, database.logger).first else {
                throw XalorraError(.internal, "store: the prediction id counter is missing")
            }
            return base
        }
        return ranges.map { range in range.count == 0 ? [] : Array((base + range.start + 1)...(base + range.start + range.count)) }
    }

    // MARK: Reading

    func list(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
        // One snapshot for the total and the page, as SQLite's one read transaction.
        try await database.inTransaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            var sql = SQLBuilder()
            let filter = Self.filter(query, &sql)
            let total = try await connection.rows(
                sql.statement("SELECT coalesce(sum(row_count), 0)::bigint FROM predictions \(filter)"), database.logger
            ).first?.decode(Int64.self) ?? 0
            // The offset counts rows: find the record the page starts in by the running row count, newest first
            // (reading only as many records as the offset and the page span), then each record the page reaches.
            let offset = sql.bind(Int64(query.offset))
            let limit = sql.bind(Int64(query.limit))
            let spans = try await connection.rows(
                sql.statement("""
                    SELECT id, row_count, cum FROM (
                        SELECT id, row_count, sum(row_count) OVER (ORDER BY id DESC ROWS UNBOUNDED PRECEDING) AS cum
                        FROM predictions \(filter)) s
                    WHERE cum > \(offset) ORDER BY id DESC LIMIT \(limit)
                    """), database.logger
            ).map { row in try row.decode((Int64, Int32, Int64).self) }
            guard let first = spans.first else {
                return Page(items: [], total: Int(total), limit: query.limit, offset: query.offset)
            }
            let end = Int64(query.offset + query.limit)
            let last = spans.last { $0.2 - Int64($0.1) < end } ?? first
            var page = SQLBuilder()
            let pageFilter = Self.filter(query, &page, after: last.0 - 1, atMost: first.0)
            let records = try await connection.rows(
                page.statement("SELECT \(Self.columns) FROM predictions \(pageFilter) ORDER BY id DESC"), database.logger)
            var skip = query.offset - Int(first.2 - Int64(first.1))
            var items: [PredictionRecord] = []
            items.reserveCapacity(query.limit)
            for row in records {
                for record in try Self.expand(row, descending: true) {
                    if skip > 0 {
                        skip -= 1
                        continue
                    }
                    items.append(record)
                    if items.count == query.limit { break }
                }
                if items.count == query.limit { break }
            }
            return Page(items: items, total: Int(total), limit: query.limit, offset: query.offset)
        }
    }

    func records(after id: Int64, matching query: LogQuery) async throws(XalorraError) -> [PredictionRecord] {
        guard query.limit > 0 else { return [] }
        // Which records hold the next `limit` rows (the first may also hold rows up to `id`: its id is its last
        // row's), then those records whole: never more blocks than the page needs.
        var sql = SQLBuilder()
        let filter = Self.filter(query, &sql, after: id)
        let limit = sql.bind(Int64(query.limit))
        let spans = try await database.rows(
            sql.statement("SELECT id, row_count FROM predictions \(filter) ORDER BY id LIMIT \(limit)"))
        var rows = 0
        var through = id
        for span in spans {
            let (record, count) = try Self.decode(span, (Int64, Int32).self)
            rows += Int(min(Int64(count), record - id))
            through = record
            if rows >= query.limit { break }
        }
        guard through > id else { return [] }
        var page = SQLBuilder()
        let pageFilter = Self.filter(query, &page, after: id, atMost: through)
        let records = try await database.rows(
            page.statement("SELECT \(Self.columns) FROM predictions \(pageFilter) ORDER BY id"))
        var items: [PredictionRecord] = []
        items.reserveCapacity(query.limit)
        for row in records {
            for record in try Self.expand(row, descending: false) where record.id > id {
                items.append(record)
                if items.count == query.limit { return items }
            }
        }
        return items
    }

    func newestID() async throws(XalorraError) -> Int64 {
        let rows = try await database.rows("SELECT coalesce(max(id), 0)::bigint FROM predictions")
        return try rows.first.map { row throws(XalorraError) in try Self.decode(row, Int64.self) } ?? 0
    }

    /// The id counter: it moves with every committed group of any process (and only then).
    func changeCounter() async throws(XalorraError) -> Int64 {
        let rows = try await database.rows("SELECT last_id FROM prediction_ids")
        return try rows.first.map { row throws(XalorraError) in try Self.decode(row, Int64.self) } ?? 0
    }

    // MARK: Rows

    /// The WHERE clause for `query`'s filters, binding into `sql`.
    /// - Parameters:
    ///   - after: only records with a larger id.
    ///   - atMost: only records up to this id.
    private static func filter(
        _ query: LogQuery, _ sql: inout SQLBuilder, after: Int64? = nil, atMost: Int64? = nil
    ) -> String {
        var clauses: [String] = []
        if let tenant = query.tenant { clauses.append("tenant = \(sql.bind(tenant))") }
        if let model = query.model { clauses.append("model = \(sql.bind(model))") }
        if let since = query.since { clauses.append("timestamp >= \(sql.bind(since.microseconds))") }
        if let until = query.until { clauses.append("timestamp <= \(sql.bind(until.microseconds))") }
        if let after { clauses.append("id > \(sql.bind(after))") }
        if let atMost { clauses.append("id <= \(sql.bind(atMost))") }
        return clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
    }

    private static func decode<T: PostgresDecodable>(_ row: PostgresRow, _ type: T.Type) throws(XalorraError) -> T {
        do {
            return try row.decode(T.self)
        } catch {
            throw XalorraError(.internal, "store: a prediction record cannot be read")
        }
    }

    private static func decode<each T: PostgresDecodable>(
        _ row: PostgresRow, _ type: (repeat each T).Type
    ) throws(XalorraError) -> (repeat each T) {
        do {
            return try row.decode((repeat each T).self)
        } catch {
            throw XalorraError(.internal, "store: a prediction record cannot be read")
        }
    }

    /// The rows of the record `row` (selecting ``columns``), newest first when `descending`.
    private static func expand(_ row: PostgresRow, descending: Bool) throws(XalorraError) -> [PredictionRecord] {
        let cells = row.makeRandomAccess()
        let header = StoredPrediction.Header(
            id: try cells.value("id"), timestamp: Timestamp(microseconds: try cells.value("timestamp")),
            model: try cells.value("model"), version: try cells.value("version"), userID: try cells.value("user_id"),
            tenant: try cells.value("tenant"), latencyMicros: try cells.value("latency_us"),
            rowCount: Int(try cells.value("row_count", as: Int32.self)))
        guard let block = try cells.value("block", as: ByteBuffer?.self) else {
            let input = Array(try cells.value("input", as: String.self).utf8)
            let prediction = Array(try cells.value("prediction", as: String.self).utf8)
            return [try input.withUnsafeBufferPointer { input throws(XalorraError) in
                try prediction.withUnsafeBufferPointer { prediction throws(XalorraError) in
                    try StoredPrediction.legacyRow(header, input: input, prediction: prediction)
                }
            }]
        }
        return try block.withUnsafeReadableBytes { bytes throws(XalorraError) in
            try StoredPrediction.rows(header, block: bytes, descending: descending)
        }
    }
}

/// The statement that stores a prediction group, prepared once per connection (postgres-nio keeps it by name): a
/// group's text is always the same (its records are arrays unnested in the server), and parsing and planning it was
/// as long as running it (`EXPLAIN (ANALYZE, SUMMARY)`: 0.17–0.19 ms of planning next to 0.17–0.24 ms of
/// execution, RESULTS §18.2).
///
/// * `greatest(…, max(id))`: a store filled by `xalorra store copy` (explicit ids) moves the counter on by itself.
/// * `pg_notify`: every instance's listener hears `p <last id>` when the group commits (``PostgresEvents``);
///   notifications are delivered in commit order, which is id order here.
/// * One statement is one transaction of its own (the counter's row stays locked until it commits): one round trip
///   per group instead of three with `BEGIN` and `COMMIT` (RESULTS §18).
///
/// A connection pooler in transaction mode (PgBouncer) must keep prepared statements per server connection
/// (PgBouncer 1.21's `max_prepared_statements`).
struct InsertGroup: PostgresPreparedStatement {
    static let name = "xalorra_insert_predictions_1"
    static let sql = """
        WITH ids AS (
            UPDATE prediction_ids
            SET last_id = greatest(last_id, (SELECT coalesce(max(id), 0) FROM predictions)) + $1
            RETURNING last_id - $1 AS base, pg_notify('\(PostgresEvents.channel)', 'p ' || last_id::text) AS notified
        ), stored AS (
            INSERT INTO predictions (id, timestamp, tenant, user_id, model, version, latency_us, row_count, block)
            SELECT ids.base + r.last_row, r.ts, r.tenant, r.user_id, r.model, r.version, r.latency, r.row_count,
                r.block
            FROM ids, unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::bigint[], $9::bigint[], $10::bytea[])
                AS r(last_row, ts, tenant, user_id, model, version, latency, row_count, block)
        )
        SELECT base FROM ids
        """
    typealias Row = Int64

    /// The group's row count.
    let total: Int64
    /// Per record: its last row counted from the group's first (its id is the group's base plus this), and its
    /// columns.
    let lastRows: [Int64], timestamps: [Int64], tenants: [String], users: [String], models: [String]
    let versions: [String], latencies: [Int64], counts: [Int64], blocks: [ByteBuffer]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 10)
        bindings.append(total)
        bindings.append(lastRows)
        bindings.append(timestamps)
        bindings.append(tenants)
        bindings.append(users)
        bindings.append(models)
        bindings.append(versions)
        bindings.append(latencies)
        bindings.append(counts)
        bindings.append(blocks)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}
