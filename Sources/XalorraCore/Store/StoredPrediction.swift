import XalorraML

/// How a prediction record is stored and read back, whichever database holds it: a batch is stored as
/// ``PredictionBlock``s of at most ``maxRows`` rows, each one record under the id of its last row (its rows own the ids
/// `id - row_count + 1 … id`); a record logged before blocks is one row with its input and prediction as JSON text.
/// The SQLite and PostgreSQL prediction repositories both expand records through here, so they read back the same.
package enum StoredPrediction {
    /// The most rows one record holds.
    package static var maxRows: Int { PredictionBlock.maxRows }

    /// The records `batch` is stored as, in order: each one's rows as a block.
    package static func blocks(of batch: PredictionBatch) -> [[UInt8]] { batch.blocks }

    /// What every row of a record shares.
    package struct Header: Sendable {
        /// The record's id: its last row's.
        package var id: Int64
        package var timestamp: Timestamp
        package var model: String
        package var version: String
        package var userID: String
        package var tenant: String
        package var latencyMicros: Int64
        /// How many rows the record holds.
        package var rowCount: Int

        package init(
            id: Int64, timestamp: Timestamp, model: String, version: String, userID: String, tenant: String,
            latencyMicros: Int64, rowCount: Int
        ) {
            self.id = id
            self.timestamp = timestamp
            self.model = model
            self.version = version
            self.userID = userID
            self.tenant = tenant
            self.latencyMicros = latencyMicros
            self.rowCount = rowCount
        }
    }

    /// The failure of a record that cannot be read back.
    package static func damaged(_ id: Int64) -> XalorraError { XalorraError(.internal, "store: prediction \(id) is damaged") }

    /// Every row of a block record, newest first when `descending`, with the ids its rows own.
    package static func rows(
        _ header: Header, block: UnsafeRawBufferPointer, descending: Bool
    ) throws(XalorraError) -> [PredictionRecord] {
        guard let rows = PredictionBlock.decode(block), rows.count == header.rowCount else {
            throw damaged(header.id)
        }
        let first = header.id - Int64(rows.count) + 1
        var records: [PredictionRecord] = []
        records.reserveCapacity(rows.count)
        for index in descending ? Array(rows.indices.reversed()) : Array(rows.indices) {
            records.append(PredictionRecord(
                id: first + Int64(index), timestamp: header.timestamp, model: header.model, version: header.version,
                input: rows[index].input, prediction: rows[index].prediction, userID: header.userID,
                tenant: header.tenant, latencyMicros: header.latencyMicros))
        }
        return records
    }

    /// The one row of a record logged before blocks: its input a JSON array (`null` for a missing value), its
    /// prediction a JSON number.
    package static func legacyRow(
        _ header: Header, input: UnsafeBufferPointer<UInt8>, prediction: UnsafeBufferPointer<UInt8>
    ) throws(XalorraError) -> PredictionRecord {
        let items: JSONValue, output: JSONValue
        do {
            items = try JSONParser.parse(input)
            output = try JSONParser.parse(prediction)
        } catch {
            throw damaged(header.id)
        }
        guard case .array(let values) = items, case .number(let number) = output else { throw damaged(header.id) }
        var cells: [Number?] = []
        cells.reserveCapacity(values.count)
        for value in values {
            switch value {
            case .number(let number): cells.append(number)
            case .null: cells.append(nil)
            default: throw damaged(header.id)
            }
        }
        return PredictionRecord(
            id: header.id, timestamp: header.timestamp, model: header.model, version: header.version, input: cells,
            prediction: number, userID: header.userID, tenant: header.tenant, latencyMicros: header.latencyMicros)
    }
}
