import GRDB

/// Deleting old predictions without stalling the requests that log new ones.
///
/// The log has one index, `(tenant, model, id)`, and adding one on the time would slow every insert (see the
/// migrations), so the old records are found by walking every record's id and timestamp in id order, a few thousand
/// a read. The walk does not stop at the first new record: ids follow commit order, not the clock (a clock set back,
/// a store copied in), and a prune must be exact. Reads run on a reader (in WAL mode they hold no writer up); each
/// delete is one short IMMEDIATE transaction of at most ``pruneBatchRecords`` records and ``pruneBatchRows`` rows,
/// sized as it goes so that it holds the writer about ``pruneTransactionTarget``, and the writer's queue serves the
/// commits waiting behind it before the next one.
extension SQLitePredictionRepository {
    /// Records read per read transaction of the walk.
    static let pruneScanRecords = 2_000
    /// Most records one delete transaction removes.
    public static let pruneBatchRecords = 500
    /// Most prediction rows one delete transaction removes (a record holds up to 1,024: freeing a batch's block
    /// pages is most of a delete's cost).
    public static let pruneBatchRows = 32_768
    /// How long one delete transaction should hold the writer: the requests' commits wait behind it. The records a
    /// transaction takes are halved while transactions take longer than twice this, and doubled (up to
    /// ``pruneBatchRecords``) while they take less than half of it.
    static let pruneTransactionTarget: Duration = .milliseconds(1)
    /// The records the first delete transaction takes.
    static let pruneFirstBatchRecords = 32

    public func prune(before cutoff: Timestamp, model: String?, dryRun: Bool) async throws(XalorraError)
        -> PruneCount
    {
        var after: Int64 = 0
        var total = PruneCount()
        var limit = dryRun ? Self.pruneBatchRecords : Self.pruneFirstBatchRecords
        while true {
            let from = after
            let chunk = try await database.reading { db in try Self.walk(db, after: from) }
            guard let last = chunk.last else { break }
            after = last.id
            var batch: [Int64] = []
            var batchRows = 0
            for record in chunk {
                guard record.timestamp < cutoff.microseconds, model == nil || record.model == model else { continue }
                if !batch.isEmpty, batch.count >= limit || batchRows + record.rows > Self.pruneBatchRows {
                    total += try await delete(batch, dryRun: dryRun, limit: &limit)
                    (batch, batchRows) = ([], 0)
                }
                batch.append(record.id)
                batchRows += record.rows
            }
            if !batch.isEmpty { total += try await delete(batch, dryRun: dryRun, limit: &limit) }
            // A server shutting down stops a prune here; what is deleted stays deleted, the rest waits a next round.
            if chunk.count < Self.pruneScanRecords || Task.isCancelled { break }
        }
        return total
    }

    /// The next ``pruneScanRecords`` records after `id`: id, timestamp, rows, model.
    private static func walk(_ db: Database, after id: Int64) throws -> [(id: Int64, timestamp: Int64, rows: Int, model: String)] {
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, timestamp, row_count, model FROM predictions WHERE id > ? ORDER BY id LIMIT ?",
            arguments: [id, pruneScanRecords])
        return rows.map { row in (row[0], row[1], row[2], row[3]) }
    }

    /// Deletes (or counts) the records `ids`, except the newest record of the whole log, in one transaction, and
    /// sets `limit`, the records the next transaction takes, from how long this one held the writer.
    private func delete(_ ids: [Int64], dryRun: Bool, limit: inout Int) async throws(XalorraError) -> PruneCount {
        let list = ids.map(String.init).joined(separator: ",")
        let count: @Sendable (Database) throws -> PruneCount = { db in
            let newest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM predictions") ?? 0
            let row = try Row.fetchOne(
                db,
                sql: "SELECT coalesce(sum(row_count), 0), count(*) FROM predictions WHERE id IN (\(list)) AND id < ?",
                arguments: [newest])
            return PruneCount(rows: row?[0] ?? 0, records: row?[1] ?? 0)
        }
        if dryRun { return try await database.reading(count) }
        let deleted: PruneCount
        let started = ContinuousClock.now
        do {
            deleted = try await database.writer.writeWithoutTransaction { db in
                var result = PruneCount()
                try db.inTransaction(.immediate) {
                    result = try count(db)
                    try db.execute(
                        sql: "DELETE FROM predictions WHERE id IN (\(list)) AND id < (SELECT max(id) FROM predictions)")
                    return .commit
                }
                return result
            }
        } catch {
            throw StoreError.wrap(error)
        }
        let held = ContinuousClock.now - started
        if held > Self.pruneTransactionTarget * 2 {
            limit = max(1, limit / 2)
        } else if held < Self.pruneTransactionTarget / 2 {
            limit = min(Self.pruneBatchRecords, limit * 2)
        }
        await Self.pace(since: started)
        return deleted
    }

    /// Prediction rows in the store open on `db` (a batch's rows counted one by one), for backups' summaries; a
    /// store from before batches (no `row_count`) counts its records.
    static func rowCount(_ db: Database) throws -> Int {
        let hasBlocks = try db.columns(in: "predictions").contains { $0.name == "row_count" }
        return try Int.fetchOne(
            db, sql: hasBlocks ? "SELECT coalesce(sum(row_count), 0) FROM predictions" : "SELECT count(*) FROM predictions"
        ) ?? 0
    }
}

extension PredictionRepository {
    /// A repository without retention support (test doubles) refuses to prune rather than pretend it did.
    public func prune(before cutoff: Timestamp, model: String?, dryRun: Bool) async throws(XalorraError) -> PruneCount {
        throw XalorraError(.unsupported, "this prediction store cannot prune")
    }
}

extension PredictionRepository {
    /// A prune's duty cycle: after a delete transaction that began at `started`, waits about as long as it took, so
    /// that on a machine with few cores a long prune takes at most about half of the CPU and the writer from the
    /// requests being served (a prune takes longer; serving keeps its share). A cancelled task does not wait.
    package static func pace(since started: ContinuousClock.Instant) async {
        let elapsed = ContinuousClock.now - started
        guard elapsed > .zero else { return await Task.yield() }
        try? await Task.sleep(for: min(elapsed, .milliseconds(250)))
    }
}
