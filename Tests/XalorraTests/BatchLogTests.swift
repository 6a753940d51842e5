import Foundation
import GRDB
import Testing
@testable import XalorraCore
import XalorraML

/// A batch is one record of the prediction log (issue 19): its rows in one ``PredictionBlock`` under the id of its
/// last row. Every reader still sees one item per row, with the ids, order, filters and pages it saw when each row
/// was a record of its own, and rows stored before blocks read back as they did.
@Suite struct BatchLogTests {
    // MARK: The block encoding

    /// Rows of every shape the log meets come back exactly: integers and doubles (and which each was), gaps, rows of
    /// different widths, integer and double predictions.
    @Test func blockRoundTrips() throws {
        let shapes: [([[Number?]], [Number])] = [
            ([[.int(1), .int(2), .int(3)]], [.int(6)]),
            ([[.double(0.5), nil], [.int(.max), .double(-0.0)], [nil, nil]], [.double(1.5), .int(.min), .double(1e300)]),
            ([[.int(1)], [.double(2), .int(3), nil], [.double(.leastNonzeroMagnitude)]], [.int(1), .double(5), .int(0)]),
            ((0..<1_000).map { row in (0..<10).map { Number.double(Double(row) + Double($0) / 16) } },
             (0..<1_000).map { Number.double(Double($0) * 0.1) }),
        ]
        for (rows, predictions) in shapes {
            var matrix = FeatureMatrix()
            for row in rows { matrix.append(row: row) }
            let blocks = PredictionBlock.encode(inputs: matrix, predictions: predictions)
            #expect(blocks.count == 1)
            let bytes = try #require(blocks.first)
            let decoded = try #require(bytes.withUnsafeBytes { PredictionBlock.decode($0) })
            #expect(decoded.map(\.input) == rows)
            #expect(decoded.map(\.prediction) == predictions)
            #expect(bytes.withUnsafeBytes { PredictionBlock.rowCount($0) } == rows.count)
        }
    }

    /// A damaged block (cut short anywhere, one byte changed anywhere, a huge row count) reads as damaged or as some
    /// rows, never a crash or an allocation the bytes cannot back.
    @Test func damagedBlocksAreRefusedWithoutCrashing() {
        var matrix = FeatureMatrix()
        matrix.append(row: [Number.int(1), nil, .double(2.5)])
        matrix.append(row: [Number.double(4)])
        let bytes = PredictionBlock.encode(inputs: matrix, predictions: [.int(3), .double(4)])[0]
        for length in 0..<bytes.count {
            #expect(Array(bytes[..<length]).withUnsafeBytes { PredictionBlock.decode($0) } == nil, "cut at \(length)")
        }
        var extra = bytes
        extra.append(0)
        #expect(extra.withUnsafeBytes { PredictionBlock.decode($0) } == nil)
        for position in bytes.indices {
            for value: UInt8 in [0, 0xFF, bytes[position] ^ 0x10] {
                var changed = bytes
                changed[position] = value
                _ = changed.withUnsafeBytes { PredictionBlock.decode($0) }
            }
        }
        var huge = bytes
        huge.replaceSubrange(2..<6, with: [0xFF, 0xFF, 0xFF, 0x7F])
        #expect(huge.withUnsafeBytes { PredictionBlock.decode($0) } == nil)
    }

    // MARK: The store

    /// One batch of `rows` rows (a single prediction when 1) of `model` in `tenant`, its cells numbered from `start`.
    static func batch(_ rows: Int, start: Int, model: String = "m", tenant: String = "t") -> PredictionBatch {
        var matrix = FeatureMatrix()
        for row in 0..<rows { matrix.append(row: [Number.int(Int64(start + row)), .double(0.5)]) }
        return PredictionBatch(
            timestamp: Timestamp(microseconds: 1_700_000_000_000_000 + Int64(start)), tenant: tenant, userID: "u",
            model: model, version: "1", inputs: matrix,
            predictions: (0..<rows).map { .int(Int64(start + $0)) }, latencyMicros: 2)
    }

    /// Single rows, batches and rows stored before blocks, interleaved and in several tenants and models, as the naive
    /// list of rows they stand for: every read must agree with filtering and paging this list.
    static func fill() async throws -> (SQLitePredictionRepository, [PredictionRecord]) {
        let repository = SQLitePredictionRepository(database: try AppDatabase.inMemory())
        var start = 0
        let plan: [(rows: Int, model: String, tenant: String)] = [
            (1, "m", "t"), (5, "m", "t"), (1, "n", "t"), (3, "m", "u"), (0, "legacy", "t"), (7, "n", "t"),
            (1, "m", "u"), (0, "legacy", "u"), (2, "m", "t"), (64, "m", "t"), (1, "n", "u"),
        ]
        for step in plan {
            if step.rows == 0 {
                let id = start
                // A row as it was stored before batches were one record: its input and prediction as JSON text.
                try await repository.database.writer.write { db in
                    try db.execute(
                        sql: """
                            INSERT INTO predictions (timestamp, tenant, user_id, model, version, latency_us, input, \
                            prediction) VALUES (?, ?, 'u', ?, '1', 2, ?, ?)
                            """,
                        arguments: [1_700_000_000_000_000 + id, step.tenant, step.model, "[\(id),0.5]", "\(id)"])
                }
                start += 1
                continue
            }
            let first = batch(step.rows, start: start, model: step.model, tenant: step.tenant)
            _ = try await repository.insert(batches: [first])
            start += step.rows
        }
        let all = try await repository.records(after: 0, matching: try LogQuery(limit: 1_000))
        return (repository, all)
    }

    /// Ids run on without a gap across single rows, batches and old rows, each row's cells say which it was, and a
    /// group commit's batches get consecutive ids in their order.
    @Test func idsAreConsecutiveAcrossBatchesAndOldRows() async throws {
        let (repository, all) = try await Self.fill()
        #expect(all.count == 87)
        #expect(all.map(\.id) == Array(1...87))
        #expect(all.map(\.input.first) == (0..<87).map { Number.int(Int64($0)) })
        let ids = try await repository.insert(batches: [Self.batch(3, start: 87), Self.batch(1, start: 90)])
        #expect(ids == [[88, 89, 90], [91]])
        #expect(try await repository.newestID() == 91)
    }

    /// `list` (newest first, by offset and limit, filtered) and `records(after:)` (oldest first, from any id, even
    /// one inside a batch) give exactly the rows the naive list gives.
    @Test func pagesAndKeysetReadsMatchTheRows() async throws {
        let (repository, all) = try await Self.fill()
        for (model, tenant) in [(nil, nil), ("m", nil), (nil, "t"), ("m", "t"), ("n", "u"), ("legacy", nil)] {
            let matching = all.filter { (model == nil || $0.model == model) && (tenant == nil || $0.tenant == tenant) }
            for limit in [1, 3, 10, 100] {
                for offset in [0, 1, 2, 4, 5, 9, 30, 70, 90] {
                    var query = try LogQuery(model: model, tenant: tenant)
                    query.limit = limit
                    query.offset = offset
                    let page = try await repository.list(query)
                    let expected = Array(matching.reversed().dropFirst(offset).prefix(limit))
                    #expect(page.items == expected, "model \(model ?? "-") tenant \(tenant ?? "-") \(offset)+\(limit)")
                    #expect(page.total == matching.count)
                }
                for after in [0, 1, 2, 4, 6, 20, 50, 86, 87] {
                    var query = try LogQuery(model: model, tenant: tenant)
                    query.limit = limit
                    let read = try await repository.records(after: Int64(after), matching: query)
                    #expect(read == Array(matching.filter { $0.id > after }.prefix(limit)), "after \(after) limit \(limit)")
                }
            }
        }
    }

    /// A request of 1,000 rows is one record of the table, not 1,000; a larger batch is a few records of at most
    /// ``PredictionBlock/maxRows`` rows, with ids that run on as one batch's do.
    @Test func aBatchIsOneRecord() async throws {
        let repository = SQLitePredictionRepository(database: try AppDatabase.inMemory())
        #expect(try await repository.insert(batches: [Self.batch(1_000, start: 0)]) == [Array(1...1_000)])
        #expect(try await repository.insert(batches: [Self.batch(2_500, start: 1_000)]) == [Array(1_001...3_500)])
        let (records, rows) = try await repository.database.writer.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM predictions"),
             try Int.fetchOne(db, sql: "SELECT sum(row_count) FROM predictions"))
        }
        #expect(records == 4 && rows == 3_500)
        #expect(try await repository.list(try LogQuery()).total == 3_500)
        var read: [PredictionRecord] = []
        while true {
            let page = try await repository.records(after: read.last?.id ?? 0, matching: try LogQuery(limit: 1_000))
            read += page
            if page.count < 1_000 { break }
        }
        #expect(read.map(\.id) == Array(1...3_500))
        #expect(read.map(\.input.first) == (0..<3_500).map { Number.int(Int64($0)) })
        var query = try LogQuery(limit: 3)
        query.offset = 2_499
        #expect(try await repository.list(query).items.map(\.id) == [1_001, 1_000, 999])
    }
}
