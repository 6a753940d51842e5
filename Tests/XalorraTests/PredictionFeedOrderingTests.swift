import Synchronization
import Testing
@testable import XalorraCore
import XalorraML

/// The live feed of a process that shares its store with other processes (several `serve` instances on PostgreSQL):
/// its own rows (``PredictionFeed/publish(_:ids:)``, as its group commit returns) and the others' rows (read back
/// from the store, ``PredictionFeed/publishForeign(_:through:)``) reach a subscriber in id order, every id, however
/// the three interleave. CI run 26 saw `73, 76, 77, 78, 74, 75` on a stream: the foreign rows were handed on after
/// the lock that ordered them was released, so a commit of the process's own in between overtook them.
struct PredictionFeedOrderingTests {
    /// The store both processes write: ids are taken and committed in one step (PostgreSQL's id counter row is
    /// locked until the commit), so commit order is id order.
    final class SharedStore: Sendable {
        private let rows = Mutex<[PredictionRecord]>([])
        /// Set when the other process has made its last commit.
        let othersDone = Mutex(false)

        /// Commits `count` rows and answers their ids with the batch that holds them.
        func commit(_ count: Int, tenant: String) -> (PredictionBatch, [Int64]) {
            var inputs = FeatureMatrix()
            for _ in 0..<count { inputs.append(row: [Number.int(1)]) }
            let batch = PredictionBatch(
                timestamp: .now(), tenant: tenant, userID: "u", model: "m", version: "baseline", inputs: inputs,
                predictions: Array(repeating: .int(1), count: count), latencyMicros: 1, textLog: false)
            let ids = rows.withLock { rows in
                let first = (rows.last?.id ?? 0) + 1
                let ids = Array(first..<first + Int64(count))
                for id in ids {
                    rows.append(PredictionRecord(
                        id: id, timestamp: batch.timestamp, model: "m", version: "baseline", input: [.int(1)],
                        prediction: .int(1), userID: "u", tenant: tenant, latencyMicros: 1))
                }
                return ids
            }
            return (batch, ids)
        }

        /// Every committed row after `id`, oldest first.
        func records(after id: Int64) -> [PredictionRecord] {
            rows.withLock { rows in Array(rows.drop { $0.id <= id }) }
        }
    }

    @Test func ownAndForeignRowsReachASubscriberInIdOrder() async throws {
        let rounds = 200
        for trial in 0..<40 {
            let store = SharedStore()
            let feed = PredictionFeed(bufferSize: 1 << 20)
            feed.startOrdering(from: 0)
            let stream = feed.subscribe(try LogQuery(limit: 1))
            await withTaskGroup(of: Void.self) { group in
                // This process: one group commit at a time, each published as it returns.
                group.addTask {
                    for round in 0..<rounds {
                        let (batch, ids) = store.commit(1 + round % 3, tenant: "t")
                        feed.publish(batch, ids: ids)
                        if round % 8 == 0 { await Task.yield() }
                    }
                }
                // Another process commits in between.
                group.addTask {
                    for round in 0..<rounds {
                        _ = store.commit(1 + round % 2, tenant: "t")
                        if round % 8 == 0 { await Task.yield() }
                    }
                    store.othersDone.withLock { $0 = true }
                }
                // This process's reader of the others' rows (``ForeignPredictions``): from the id it read to.
                group.addTask {
                    var through: Int64 = 0
                    while true {
                        let finished = store.othersDone.withLock { $0 }
                        let page = store.records(after: through)
                        if let last = page.last?.id {
                            feed.publishForeign(page, through: last)
                            through = last
                        }
                        if finished && page.isEmpty { break }
                        await Task.yield()
                    }
                }
            }
            // Everything is handed on by now: the stream ends after the last row instead of waiting for more.
            feed.finishAll()
            let expected = store.records(after: 0).map(\.id)
            // A follower sends each id once (``LocalAPI/followLogs(_:after:)``): a row that came both ways counts once.
            var seen: [Int64] = []
            var sent = Set<Int64>()
            for await record in stream {
                if sent.insert(record.id).inserted { seen.append(record.id) }
            }
            #expect(seen == expected, "trial \(trial): out of order at \(Self.firstDisorder(seen) ?? "-")")
            if seen != expected { break }
        }
    }

    /// The own ranges stay in id order however they arrive (and one that follows on from the last extends it), so
    /// ``PredictionFeed/foreignGap(after:through:)`` reads them without sorting: a gap is found exactly where no
    /// published range covers an id.
    @Test func ownRangesStayOrderedWhateverOrderTheyArriveIn() {
        var ranges: [ClosedRange<Int64>] = []
        for range: ClosedRange<Int64> in [5...6, 1...2, 9...9, 3...4, 7...8, 12...15] {
            PredictionFeed.insert(range, into: &ranges)
        }
        #expect(ranges == [1...2, 3...4, 5...6, 7...8, 9...9, 12...15])
        // A range that follows on from the last extends it.
        PredictionFeed.insert(16...17, into: &ranges)
        #expect(ranges == [1...2, 3...4, 5...6, 7...8, 9...9, 12...17])

        let feed = PredictionFeed()
        for ids: [Int64] in [[5, 6], [1, 2], [9], [3, 4], [7, 8], [12, 13, 14, 15]] {
            var inputs = FeatureMatrix()
            for _ in ids { inputs.append(row: [Number.int(1)]) }
            let batch = PredictionBatch(
                timestamp: .now(), tenant: "t", userID: "u", model: "m", version: "baseline", inputs: inputs,
                predictions: ids.map { _ in .int(1) }, latencyMicros: 1, textLog: false)
            feed.publish(batch, ids: ids)
        }
        #expect(!feed.foreignGap(after: 0, through: 9))
        #expect(!feed.foreignGap(after: 11, through: 15))
        #expect(feed.foreignGap(after: 0, through: 10))
        #expect(feed.foreignGap(after: 9, through: 12))
        #expect(feed.foreignGap(after: 15, through: 16))
        var sixteen = FeatureMatrix()
        sixteen.append(row: [Number.int(1)])
        feed.publish(
            PredictionBatch(
                timestamp: .now(), tenant: "t", userID: "u", model: "m", version: "baseline", inputs: sixteen,
                predictions: [.int(1)], latencyMicros: 1, textLog: false),
            ids: [16])
        #expect(!feed.foreignGap(after: 11, through: 16))
    }

    /// Where `ids` first goes down, with its neighbours.
    static func firstDisorder(_ ids: [Int64]) -> String? {
        guard let index = ids.indices.dropFirst().first(where: { ids[$0] < ids[$0 - 1] }) else { return nil }
        return ids[max(0, index - 4)..<min(ids.count, index + 4)].map(String.init).joined(separator: ", ")
    }
}
