import GRDB
import XalorraML

/// The prediction log in the SQLite store.
public struct SQLitePredictionRepository: PredictionRepository {
    private let database: AppDatabase

    /// Creates the repository over `database`.
    public init(database: AppDatabase) { self.database = database }

    public func insert(_ batch: PredictionBatch) async throws(XalorraError) -> [Int64] {
        do {
            return try await database.writer.writeWithoutTransaction { db in
                var ids: [Int64] = []
                ids.reserveCapacity(batch.predictions.count)
                // IMMEDIATE takes the write lock up front, so a concurrent writer waits in the busy handler instead
                // of failing on a lock upgrade.
                try db.inTransaction(.immediate) {
                    let statement = try db.cachedStatement(sql: """
                        INSERT INTO predictions
                            (timestamp, tenant, user_id, model, version, input, prediction, latency_us)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                    var buffer: [UInt8] = []
                    for index in 0..<batch.predictions.count {
                        buffer.removeAll(keepingCapacity: true)
                        JSONWriter.write(numbers: batch.inputs.row(index).compactMap { $0 }, into: &buffer)
                        let input = String(decoding: buffer, as: UTF8.self)
                        try statement.execute(arguments: [
                            batch.timestamp.microseconds, batch.tenant, batch.userID, batch.model, batch.version,
                            input, batch.predictions[index].description, batch.latencyMicros,
                        ])
                        ids.append(db.lastInsertedRowID)
                    }
                    return .commit
                }
                return ids
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    public func list(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
        let (filter, arguments) = Self.filter(query)
        do {
            return try await database.writer.read { db in
                let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM predictions \(filter)", arguments: arguments)
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM predictions \(filter) ORDER BY id DESC LIMIT ? OFFSET ?",
                    arguments: arguments + [query.limit, query.offset])
                return Page(
                    items: try rows.map(Self.record), total: total ?? 0, limit: query.limit, offset: query.offset)
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    public func records(after id: Int64, matching query: LogQuery) async throws(XalorraError) -> [PredictionRecord] {
        let (filter, arguments) = Self.filter(query, after: id)
        do {
            return try await database.writer.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM predictions \(filter) ORDER BY id LIMIT ?",
                    arguments: arguments + [query.limit]
                ).map(Self.record)
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

    /// The WHERE clause for `query`'s filters.
    private static func filter(_ query: LogQuery, after id: Int64? = nil) -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let tenant = query.tenant {
            clauses.append("tenant = ?")
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

    private static func record(_ row: Row) throws -> PredictionRecord {
        let inputText: String = row["input"]
        let predictionText: String = row["prediction"]
        guard case .array(let items) = try JSONParser.parse(inputText),
            case .number(let prediction) = try JSONParser.parse(predictionText)
        else { throw XalorraError(.internal, "store: prediction \(row["id"] as Int64) is not valid JSON") }
        let input = items.compactMap { item -> Number? in
            if case .number(let number) = item { return number }
            return nil
        }
        return PredictionRecord(
            id: row["id"], timestamp: Timestamp(microseconds: row["timestamp"]), model: row["model"],
            version: row["version"], input: input, prediction: prediction, userID: row["user_id"],
            tenant: row["tenant"], latencyMicros: row["latency_us"])
    }
}
