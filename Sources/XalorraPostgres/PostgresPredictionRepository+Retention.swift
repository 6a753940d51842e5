import NIOCore
import PostgresNIO
import XalorraCore
import XalorraML

/// Retention and drift on the PostgreSQL log, as SQLite does them (SQLitePredictionRepository+Prune, +Drift): the
/// same walk by id from the oldest record (ids follow commit order, not the clock, so the walk covers the whole log
/// and a prune is exact), deletes in short transactions of at most 500 records and 32,768 rows with the pool free
/// between them, the newest record always kept; drift bins each block where it lies, 500 records a read.
extension PostgresPredictionRepository {
    /// Records read per step of the walk.
    private static let scanRecords = 2_000
    /// Most records and most rows one delete transaction removes.
    private static let batchRecords = 500
    private static let batchRows = 32_768
    /// Records per read of drift's keyset walk: memory stays bounded whatever the window holds.
    private static let driftPage = 500

    func prune(before cutoff: Timestamp, model: String?, dryRun: Bool) async throws(XalorraError) -> PruneCount {
        var after: Int64 = 0
        var total = PruneCount()
        while true {
            let chunk = try await database.rows(
                """
                SELECT id, timestamp, row_count, model FROM predictions WHERE id > \(after) ORDER BY id
                LIMIT \(Int64(Self.scanRecords))
                """)
            guard !chunk.isEmpty else { break }
            var batch: [Int64] = []
            var batchRows = 0
            for row in chunk {
                let (id, timestamp, rows, recordModel): (Int64, Int64, Int32, String)
                do {
                    (id, timestamp, rows, recordModel) = try row.decode((Int64, Int64, Int32, String).self)
                } catch {
                    throw XalorraError(.internal, "store: a prediction record cannot be read")
                }
                after = id
                guard timestamp < cutoff.microseconds, model == nil || recordModel == model else { continue }
                if !batch.isEmpty, batch.count == Self.batchRecords || batchRows + Int(rows) > Self.batchRows {
                    total += try await delete(batch, dryRun: dryRun)
                    (batch, batchRows) = ([], 0)
                }
                batch.append(id)
                batchRows += Int(rows)
            }
            if !batch.isEmpty { total += try await delete(batch, dryRun: dryRun) }
            // A server shutting down stops a prune here; what is deleted stays deleted, the rest waits a next round.
            if chunk.count < Self.scanRecords || Task.isCancelled { break }
        }
        return total
    }

    /// Deletes (or counts) the records `ids`, except the newest record of the whole log, in one transaction.
    private func delete(_ ids: [Int64], dryRun: Bool) async throws(XalorraError) -> PruneCount {
        let counts: [PostgresRow]
        let started = ContinuousClock.now
        if dryRun {
            counts = try await database.rows(
                """
                SELECT row_count FROM predictions
                WHERE id = ANY(\(ids)) AND id < (SELECT max(id) FROM predictions)
                """)
        } else {
            let logger = database.logger
            counts = try await database.inTransaction { connection in
                try await connection.rows(
                    """
                    DELETE FROM predictions WHERE id = ANY(\(ids)) AND id < (SELECT max(id) FROM predictions)
                    RETURNING row_count
                    """, logger)
            }
        }
        var result = PruneCount()
        for row in counts {
            result.records += 1
            result.rows += Int((try? row.decode(Int32.self)) ?? 0)
        }
        if dryRun { await Task.yield() } else { await Self.pace(since: started) }
        return result
    }

    func driftCounts(
        tenant: String, model: String, version: String, since: Timestamp, until: Timestamp, profile: FeatureProfile
    ) async throws(XalorraError) -> DriftCounter {
        var counter = DriftCounter(profile: profile)
        var row = [Double](repeating: .nan, count: profile.features.count)
        var after: Int64 = 0
        while true {
            let records = try await database.rows(
                """
                SELECT id, row_count, block, input, prediction FROM predictions
                WHERE tenant = \(tenant) AND model = \(model) AND version = \(version)
                    AND timestamp >= \(since.microseconds) AND timestamp <= \(until.microseconds) AND id > \(after)
                ORDER BY id LIMIT \(Int64(Self.driftPage))
                """)
            for record in records {
                let cells = record.makeRandomAccess()
                let id: Int64 = try cells.value("id")
                after = id
                let rowCount = Int(try cells.value("row_count", as: Int32.self))
                if let block = try cells.value("block", as: ByteBuffer?.self) {
                    let counted = block.withUnsafeReadableBytes { bytes in
                        StoredPrediction.forEachRow(bytes) { values, prediction in
                            counter.add(row: values, prediction: prediction)
                        }
                    }
                    guard counted == rowCount else { throw StoredPrediction.damaged(id) }
                } else {
                    // A row logged before blocks: read as the log reads it.
                    let header = StoredPrediction.Header(
                        id: id, timestamp: since, model: model, version: version, userID: "", tenant: tenant,
                        latencyMicros: 0, rowCount: 1)
                    let input = Array(try cells.value("input", as: String.self).utf8)
                    let output = Array(try cells.value("prediction", as: String.self).utf8)
                    let legacy = try input.withUnsafeBufferPointer { input throws(XalorraError) in
                        try output.withUnsafeBufferPointer { output throws(XalorraError) in
                            try StoredPrediction.legacyRow(header, input: input, prediction: output)
                        }
                    }
                    let width = min(legacy.input.count, row.count)
                    for index in row.indices {
                        row[index] = index < width ? legacy.input[index]?.doubleValue ?? .nan : .nan
                    }
                    row.withUnsafeBufferPointer { counter.add(row: $0, prediction: legacy.prediction.doubleValue) }
                }
            }
            if records.count < Self.driftPage { break }
        }
        return counter
    }
}
