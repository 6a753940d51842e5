#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import PostgresNIO
import XalorraCore

/// `xalorra store copy`: a SQLite store's rows into a PostgreSQL store, table by table (``StoreCopyPlan``), then the
/// id counters moved past the copied ids and every table's count compared.
///
/// - Idempotent: each page is one `INSERT … ON CONFLICT DO NOTHING` (its own transaction), so a row already there
///   is skipped; the prediction log, the large table, resumes after the destination's newest record. A copy
///   stopped anywhere leaves whole pages, and running it again finishes it.
/// - The destination must be empty or a copy of the same source (a row of `store_copies`, keyed by the source
///   file's real path); anything else is refused before a row is written.
/// - Training jobs still queued or running in the source are copied as failed ("not finished when the store was
///   copied"), without their data: the source's server may still be running them, and the job must not run twice.
package struct PostgresCopy: Sendable {
    /// What one table's copy did.
    package struct TableReport: Sendable {
        package let table: String
        /// Rows in the source (records for `predictions`).
        package let source: Int64
        /// Rows in the destination after the copy.
        package let destination: Int64
        /// Rows this run inserted.
        package let copied: Int64

        package init(table: String, source: Int64, destination: Int64, copied: Int64) {
            self.table = table
            self.source = source
            self.destination = destination
            self.copied = copied
        }
    }

    package let source: StoreCopySource
    package let store: PostgresStore

    package init(source: StoreCopySource, store: PostgresStore) {
        self.source = source
        self.store = store
    }

    private var database: PostgresDatabase { store.database }

    /// The key `store_copies` knows the source by: its real path.
    package static func sourceKey(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Refuses a destination holding data that is not a copy of this source; records this source otherwise.
    /// Returns whether an earlier copy of it was there.
    package func claim(now: Timestamp = .now()) async throws(XalorraError) -> Bool {
        let key = Self.sourceKey(source.path)
        let marks = try await database.rows("SELECT source FROM store_copies")
        let sources = marks.compactMap { try? $0.decode(String.self) }
        if sources.contains(key) { return true }
        if let other = sources.first {
            throw XalorraError(
                .conflict, "\(store.location) holds a copy of another store (\(other)): nothing copied",
                hint: "copy into an empty database")
        }
        for table in StoreCopyPlan.tables {
            let rows = try await database.rows(PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))"))
            if (try? rows.first?.decode(Bool.self)) == true {
                throw XalorraError(
                    .conflict, "\(store.location) already holds data (table \(table)) that is not a copy of "
                        + "\(source.path): nothing copied",
                    hint: "copy into an empty database (createdb), or drop this one's tables first")
            }
        }
        try await database.execute(
            """
            INSERT INTO store_copies (source, started_at) VALUES (\(key), \(now.microseconds))
            ON CONFLICT (source) DO NOTHING
            """)
        return false
    }

    /// Copies `table` page by page; `progress` is told how many source rows were read so far.
    package func copy(
        _ table: String, now: Timestamp = .now(), progress: (Int64) -> Void
    ) async throws(XalorraError) -> Int64 {
        let types = try await columnTypes(table)
        var after: Int64 = 0
        var read: Int64 = 0
        if table == "predictions" {
            // The log is copied in id order, one page a transaction: what is there is a prefix of it.
            let rows = try await database.rows("SELECT coalesce(max(id), 0) FROM predictions")
            after = (try? rows.first?.decode(Int64.self)) ?? 0
            if after > 0 {
                let skipped = try await database.rows("SELECT count(*) FROM predictions")
                read = (try? skipped.first?.decode(Int64.self)) ?? 0
                progress(read)
            }
        }
        var copied: Int64 = 0
        while true {
            let page = try source.page(table, after: after, limit: StoreCopyPlan.pageRows(table))
            guard !page.rows.isEmpty else { break }
            after = page.lastRowID
            copied += table == "predictions"
                ? try await insertPredictions(page) : try await insert(table, page, types: types, now: now)
            read += Int64(page.rows.count)
            progress(read)
            if Task.isCancelled { throw XalorraError(.conflict, "store copy interrupted") }
        }
        try await advanceCounters(table)
        return copied
    }

    /// Marks the copy finished (after its counts were verified).
    package func finish(now: Timestamp = .now()) async throws(XalorraError) {
        try await database.execute(
            "UPDATE store_copies SET finished_at = \(now.microseconds) WHERE source = \(Self.sourceKey(source.path))")
    }

    /// How many rows `table` holds in the destination.
    package func count(_ table: String) async throws(XalorraError) -> Int64 {
        let rows = try await database.rows(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))
        return (try? rows.first?.decode(Int64.self)) ?? 0
    }

    /// Prediction rows (a block's rows one by one) in the destination.
    package func predictionRows() async throws(XalorraError) -> Int64 {
        let rows = try await database.rows("SELECT coalesce(sum(row_count), 0)::bigint FROM predictions")
        return (try? rows.first?.decode(Int64.self)) ?? 0
    }

    /// The destination's columns of `table` and their types (`bigint`, `boolean`, `bytea`, …).
    private func columnTypes(_ table: String) async throws(XalorraError) -> [String: String] {
        let rows = try await database.rows(
            """
            SELECT column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            """)
        var types: [String: String] = [:]
        for row in rows {
            guard let (name, type) = try? row.decode((String, String).self) else { continue }
            types[name] = type
        }
        return types
    }

    /// One page as one multi-row insert; returns the rows inserted (the others were there).
    private func insert(
        _ table: String, _ page: CopyPage, types: [String: String], now: Timestamp
    ) async throws(XalorraError) -> Int64 {
        let indices = page.columns.indices.filter { types[page.columns[$0]] != nil }
        let columns = indices.map { page.columns[$0] }
        var bindings = PostgresBindings(capacity: indices.count * page.rows.count)
        var tuples: [String] = []
        tuples.reserveCapacity(page.rows.count)
        var placeholder = 0
        for source in page.rows {
            let row = StoreCopyPlan.adapt(table, columns: page.columns, row: source, now: now)
            var cells: [String] = []
            for index in indices {
                placeholder += 1
                cells.append("$\(placeholder)")
                try Self.bind(row[index], as: types[page.columns[index]] ?? "text", column: page.columns[index], into: &bindings)
            }
            tuples.append("(" + cells.joined(separator: ", ") + ")")
        }
        let names = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let sql = "INSERT INTO \(table) (\(names)) VALUES \(tuples.joined(separator: ", ")) ON CONFLICT DO NOTHING RETURNING 1"
        let inserted = try await database.rows(PostgresQuery(unsafeSQL: sql, binds: bindings))
        return Int64(inserted.count)
    }

    /// Most block bytes one insert of prediction records carries.
    private static let predictionBatchBytes = 8 << 20

    /// A page of prediction records as inserts of whole arrays (`unnest`, eleven parameters whatever the count), at
    /// most ``predictionBatchBytes`` of blocks each: a one-row record costs its values, not eleven placeholders.
    private func insertPredictions(_ page: CopyPage) async throws(XalorraError) -> Int64 {
        func column(_ name: String) throws(XalorraError) -> Int {
            guard let index = page.columns.firstIndex(of: name) else {
                throw XalorraError(.validation, "the source's predictions have no column \(name)")
            }
            return index
        }
        let (id, timestamp, tenant, user, model, version) = (
            try column("id"), try column("timestamp"), try column("tenant"), try column("user_id"), try column("model"),
            try column("version"))
        let (input, prediction, latency) = (try column("input"), try column("prediction"), try column("latency_us"))
        // A store from before blocks has neither column: one row each, no block.
        let rowCount = page.columns.firstIndex(of: "row_count")
        let block = page.columns.firstIndex(of: "block")
        var inserted: Int64 = 0
        var start = 0
        while start < page.rows.count {
            var ids: [Int64] = [], timestamps: [Int64] = [], latencies: [Int64] = [], counts: [Int64] = []
            var tenants: [String] = [], users: [String] = [], models: [String] = [], versions: [String] = []
            var inputs: [String] = [], predictions: [String] = [], blocks: [ByteBuffer] = []
            var bytes = 0
            var end = start
            while end < page.rows.count, end == start || bytes < Self.predictionBatchBytes {
                let row = page.rows[end]
                guard case .integer(let rowID) = row[id], case .integer(let time) = row[timestamp],
                    case .integer(let micros) = row[latency]
                else { throw XalorraError(.validation, "the source's prediction record \(end) cannot be read") }
                ids.append(rowID)
                timestamps.append(time)
                latencies.append(micros)
                if let rowCount, case .integer(let count) = row[rowCount] { counts.append(count) } else { counts.append(1) }
                tenants.append(Self.text(row[tenant]))
                users.append(Self.text(row[user]))
                models.append(Self.text(row[model]))
                versions.append(Self.text(row[version]))
                inputs.append(Self.text(row[input]))
                predictions.append(Self.text(row[prediction]))
                // An empty buffer stands for "no block" (arrays of bytea carry no NULL here): NULLIF below.
                if let block, case .blob(let data) = row[block] {
                    blocks.append(ByteBuffer(bytes: data))
                    bytes += data.count
                } else {
                    blocks.append(ByteBuffer())
                }
                end += 1
            }
            let rows = try await database.rows(
                """
                INSERT INTO predictions (id, timestamp, tenant, user_id, model, version, input, prediction, latency_us,
                    row_count, block)
                SELECT id, ts, tenant, user_id, model, version, input, prediction, latency_us, row_count::integer,
                    nullif(block, ''::bytea)
                FROM unnest(\(ids), \(timestamps), \(tenants), \(users), \(models), \(versions), \(inputs), \(predictions),
                    \(latencies), \(counts), \(blocks))
                    AS t(id, ts, tenant, user_id, model, version, input, prediction, latency_us, row_count, block)
                ON CONFLICT DO NOTHING RETURNING 1
                """)
            inserted += Int64(rows.count)
            start = end
        }
        return inserted
    }

    /// A text cell as text (SQLite may hold a number in a text column).
    private static func text(_ value: CopyValue) -> String {
        switch value {
        case .null: ""
        case .integer(let number): String(number)
        case .real(let number): String(number)
        case .text(let text): text
        case .blob(let bytes): String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Moves the destination's id counters for `table` past every id the source used.
    private func advanceCounters(_ table: String) async throws(XalorraError) {
        if table == "predictions" {
            let used = try source.usedID(table)
            try await database.execute(
                """
                UPDATE prediction_ids SET last_id = greatest(last_id, \(used),
                    (SELECT coalesce(max(id), 0) FROM predictions))
                """)
        } else if StoreCopyPlan.identityTables.contains(table) {
            let used = try source.usedID(table)
            let rows = try await database.rows(PostgresQuery(unsafeSQL: "SELECT coalesce(max(id), 0) FROM \(table)"))
            let target = max(used, (try? rows.first?.decode(Int64.self)) ?? 0)
            guard target > 0 else { return }
            // Never backwards: a sequence already past the copied ids stays where it is.
            try await database.execute(
                """
                SELECT setval(pg_get_serial_sequence(\(table), 'id'),
                    greatest(\(target), nextval(pg_get_serial_sequence(\(table), 'id')) - 1))
                """)
        }
    }

    /// Binds one SQLite cell as the destination column's type.
    private static func bind(
        _ value: CopyValue, as type: String, column: String, into bindings: inout PostgresBindings
    ) throws(XalorraError) {
        func refuse() -> XalorraError {
            XalorraError(.validation, "the source's column \(column) holds a value PostgreSQL's \(type) cannot take")
        }
        switch (type, value) {
        case (_, .null):
            bindings.appendNull()
        case ("bigint", .integer(let number)):
            bindings.append(number)
        case ("integer", .integer(let number)):
            guard let small = Int32(exactly: number) else { throw refuse() }
            bindings.append(small)
        case ("boolean", .integer(let number)):
            bindings.append(number != 0)
        case ("double precision", .real(let number)):
            bindings.append(number)
        case ("double precision", .integer(let number)):
            bindings.append(Double(number))
        case ("bytea", .blob(let bytes)):
            bindings.append(ByteBuffer(bytes: bytes))
        case ("bytea", .text(let text)):
            bindings.append(ByteBuffer(string: text))
        case ("text", .text(let text)):
            guard !text.utf8.contains(0) else { throw refuse() }
            bindings.append(text)
        case ("text", .integer(let number)):
            bindings.append(String(number))
        case ("text", .real(let number)):
            bindings.append(String(number))
        case ("text", .blob(let bytes)):
            guard let text = String(validating: bytes, as: UTF8.self), !bytes.contains(0) else { throw refuse() }
            bindings.append(text)
        default:
            throw refuse()
        }
    }
}
