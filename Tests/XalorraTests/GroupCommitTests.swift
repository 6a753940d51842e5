import Foundation
import GRDB
import Synchronization
import Testing
@testable import XalorraCore
import XalorraML

/// Group commit: concurrent batches share transactions, each caller gets its own ids, a bad batch fails alone.
struct GroupCommitTests {
    /// A repository that records how many batches each transaction carried, and refuses the model `bad`.
    final class RecordingRepository: PredictionRepository {
        let transactions = Mutex<[Int]>([])
        let nextID = Mutex<Int64>(1)

        func insert(batches: [PredictionBatch]) async throws(XalorraError) -> [[Int64]] {
            try? await Task.sleep(for: .milliseconds(5))
            if batches.contains(where: { $0.model == "bad" }) { throw XalorraError(.validation, "bad batch") }
            transactions.withLock { $0.append(batches.count) }
            return batches.map { batch in
                nextID.withLock { id in
                    defer { id += Int64(batch.predictions.count) }
                    return Array(id..<id + Int64(batch.predictions.count))
                }
            }
        }

        func list(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
            Page(items: [], total: 0, limit: query.limit, offset: query.offset)
        }
        func records(after id: Int64, matching query: LogQuery) async throws(XalorraError) -> [PredictionRecord] { [] }
        func newestID() async throws(XalorraError) -> Int64 { 0 }
        func changeCounter() async throws(XalorraError) -> Int64 { 0 }
    }

    private func batch(_ model: String) -> PredictionBatch {
        var inputs = FeatureMatrix()
        inputs.append(row: [Number.int(1)])
        return PredictionBatch(
            timestamp: .now(), tenant: "t", userID: "u", model: model, version: "baseline", inputs: inputs,
            predictions: [.int(1)], latencyMicros: 1)
    }

    /// 200 concurrent inserts land in far fewer transactions, and every caller gets distinct ids.
    @Test func concurrentInsertsShareTransactions() async throws {
        let repository = RecordingRepository()
        let committer = GroupCommitter(repository: repository)
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<200 { group.addTask { try await committer.insert(self.batch("m")) } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(ids).count == 200)
        let transactions = repository.transactions.withLock { $0 }
        #expect(transactions.reduce(0, +) == 200)
        #expect(transactions.count < 100, "expected grouping, got \(transactions.count) transactions")
    }

    /// A batch that fails does not fail the batches that shared its transaction.
    @Test func failureIsIsolated() async throws {
        let committer = GroupCommitter(repository: RecordingRepository())
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<50 {
                group.addTask { (try? await committer.insert(self.batch(index == 25 ? "bad" : "m"))) != nil }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 49)
    }

    /// Through LocalAPI on a real SQLite store: concurrent predictions are all stored.
    @Test func localAPIStoresEveryConcurrentPrediction() async throws {
        let database = try AppDatabase.inMemory()
        let settings = try Settings.resolve(
            flags: [:], environment: ["HOME": "/tmp", "XALORRA_PREDICTION_LOG": "off"], dotEnv: [:])
        let api = LocalAPI(settings: settings, caller: Caller(user: "u", role: .admin, tenant: "t"), database: database)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 { group.addTask { _ = try await api.predict(model: "m", features: [.int(Int64(index))]) } }
            try await group.waitForAll()
        }
        #expect(try await api.logs(LogQuery(limit: 1)).total == 100)
    }
}

/// The server's store leaves checkpoints to ``WALCheckpointer`` (no fsync inside a request's commit), which moves
/// every committed page into the database file.
@Test func serverStoreCheckpointsOffTheWriterPath() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("xalorra-wal-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let database = try AppDatabase.open(path: directory.path + "/x.db", pooled: true)
    let autocheckpoint = try await database.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") }
    #expect(autocheckpoint == 0)
    try await database.writer.write { db in
        try db.execute(sql: "CREATE TABLE filler (x TEXT)")
        for _ in 0..<8000 { try db.execute(sql: "INSERT INTO filler VALUES (randomblob(600))") }
    }
    let checkpointer = try database.checkpointer()
    let result = try await checkpointer.checkpoint()
    #expect(result.walPages > 1000, "autocheckpoint would have reset the WAL below 1,000 pages")
    #expect(result.checkpointedPages == result.walPages)
}

/// bcrypt's threads run at the lowest priority, and only they: the rest of the process keeps its own.
@Test func backgroundWorkersRunAtLowestPriority() async {
    errno = 0
    let mine = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    let theirs = await BackgroundWorkers.shared.run { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
    #expect(theirs == BackgroundWorkers.niceness)
    #expect(mine == getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) && mine != theirs)
}
