import GRDB
import GRDBSQLite
import XalorraML

/// Drift's read of the log: the matching records' blocks are binned where they lie, in the read transaction, with
/// no ``PredictionRecord`` made (a million rows as records was most of the cost, and their memory).
extension SQLitePredictionRepository {
    public func driftCounts(
        tenant: String, model: String, version: String, since: Timestamp, until: Timestamp, profile: FeatureProfile
    ) async throws(XalorraError) -> DriftCounter {
        do {
            return try await database.writer.read { db in
                // The (tenant, model, id) index gives exactly this model's records; time and version are tested on
                // each, before its block is read.
                let statement = try db.cachedStatement(sql: """
                    SELECT \(Self.columns) FROM predictions
                    WHERE tenant = ? AND model = ? AND version = ? AND timestamp >= ? AND timestamp <= ?
                    """)
                try statement.setArguments([tenant, model, version, since.microseconds, until.microseconds])
                let handle = statement.sqliteStatement
                defer { sqlite3_reset(handle) }
                var counter = DriftCounter(profile: profile)
                var row = [Double](repeating: .nan, count: profile.features.count)
                while true {
                    let code = sqlite3_step(handle)
                    if code == SQLITE_DONE { break }
                    guard code == SQLITE_ROW else {
                        throw DatabaseError(
                            resultCode: ResultCode(rawValue: code),
                            message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                    }
                    guard sqlite3_column_type(handle, 10) == SQLITE_BLOB else {
                        // A row logged before blocks: read as the log reads it.
                        for record in try Self.rows(handle, descending: false) {
                            Self.count(record.input, record.prediction, into: &counter, row: &row)
                        }
                        continue
                    }
                    let block = UnsafeRawBufferPointer(
                        start: sqlite3_column_blob(handle, 10), count: Int(sqlite3_column_bytes(handle, 10)))
                    let counted = PredictionBlock.forEachRow(block) { values, prediction in
                        counter.add(row: values, prediction: prediction)
                    }
                    guard counted == Int(sqlite3_column_int64(handle, 9)) else {
                        throw XalorraError(.internal, "store: prediction \(sqlite3_column_int64(handle, 0)) is damaged")
                    }
                }
                return counter
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// Counts one legacy row (its cells as numbers, `nil` missing).
    private static func count(_ input: [Number?], _ prediction: Number, into counter: inout DriftCounter, row: inout [Double]) {
        let width = min(input.count, row.count)
        for index in row.indices { row[index] = index < width ? input[index]?.doubleValue ?? .nan : .nan }
        row.withUnsafeBufferPointer { counter.add(row: $0, prediction: prediction.doubleValue) }
    }
}

extension PredictionBlock {
    /// Calls `body` with each row of the block in `bytes`: its cells as doubles (NaN where missing; an integer cell
    /// converted) and its prediction. Returns the rows visited, or `nil` when `bytes` is not a block this build reads
    /// (nothing visited then: the whole layout is checked first, as ``decode(_:)`` checks it).
    static func forEachRow(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeBufferPointer<Double>, Double) -> Void
    ) -> Int? {
        var offset = 0
        func take(_ count: Int) -> UnsafeRawBufferPointer? {
            guard count >= 0, count <= bytes.count - offset else { return nil }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        }
        func u32() -> Int? { take(4).map { Int($0.loadUnaligned(as: UInt32.self).littleEndian) } }
        guard let head = take(2), head[0] == format, let count = u32(), let width = u32(), count <= bytes.count / 8
        else { return nil }
        let flags = Flags(rawValue: head[1])
        var widths: [Int] = []
        if flags.contains(.ragged) {
            widths.reserveCapacity(count)
            for _ in 0..<count {
                guard let value = u32() else { return nil }
                widths.append(value)
            }
        }
        let cells = flags.contains(.ragged) ? widths.reduce(0, +) : count * width
        guard cells <= bytes.count / 8, let values = take(8 * cells) else { return nil }
        let bitmapSize = (cells + 7) / 8
        let integers = flags.contains(.integerCells) ? take(bitmapSize) : nil
        let missing = flags.contains(.missingCells) ? take(bitmapSize) : nil
        guard !flags.contains(.integerCells) || integers != nil, !flags.contains(.missingCells) || missing != nil,
            let outputs = take(8 * count)
        else { return nil }
        let integerOutputs = flags.contains(.integerPredictions) ? take((count + 7) / 8) : nil
        guard !flags.contains(.integerPredictions) || integerOutputs != nil, offset == bytes.count else { return nil }
        @inline(__always) func bit(_ map: UnsafeRawBufferPointer?, _ index: Int) -> Bool {
            guard let map else { return false }
            return map[index >> 3] & (1 << UInt8(index & 7)) != 0
        }
        @inline(__always) func number(_ buffer: UnsafeRawBufferPointer, _ index: Int, integer: Bool) -> Double {
            let bits = buffer.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self).littleEndian
            return integer ? Double(Int64(bitPattern: bits)) : Double(bitPattern: bits)
        }
        let widest = flags.contains(.ragged) ? widths.max() ?? 0 : width
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: max(widest, 1)) { row in
            var cell = 0
            for index in 0..<count {
                let rowWidth = flags.contains(.ragged) ? widths[index] : width
                for column in 0..<rowWidth {
                    row[column] = bit(missing, cell) ? .nan : number(values, cell, integer: bit(integers, cell))
                    cell += 1
                }
                body(UnsafeBufferPointer(rebasing: row[0..<rowWidth]),
                     number(outputs, index, integer: bit(integerOutputs, index)))
            }
            return count
        }
    }
}

extension PredictionRepository {
    /// A store that does not implement drift's read says so (an error, not empty counts that would read as no drift).
    public func driftCounts(
        tenant: String, model: String, version: String, since: Timestamp, until: Timestamp, profile: FeatureProfile
    ) async throws(XalorraError) -> DriftCounter {
        throw XalorraError(.internal, "this prediction store cannot report drift")
    }
}
