import Synchronization
import Testing
@testable import XalorraCore
import XalorraML

/// Group commit when the store fails (V's F11): a transaction that failed for the store, not for one batch's data,
/// is answered to every caller of its group and never written again batch by batch (a COMMIT whose answer was lost
/// may have happened: a retry would store the rows twice under new ids).
struct GroupCommitFaultTests {
    /// A repository whose every insert waits a moment, then fails with `error`; it records each attempt's batch count.
    final class FailingRepository: PredictionRepository {
        let error: XalorraError
        let attempts = Mutex<[Int]>([])

        init(_ error: XalorraError) { self.error = error }

        func insert(batches: [PredictionBatch]) async throws(XalorraError) -> [[Int64]] {
            attempts.withLock { $0.append(batches.count) }
            try? await Task.sleep(for: .milliseconds(20))
            throw error
        }

        func list(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
            Page(items: [], total: 0, limit: query.limit, offset: query.offset)
        }
        func records(after id: Int64, matching query: LogQuery) async throws(XalorraError) -> [PredictionRecord] { [] }
        func newestID() async throws(XalorraError) -> Int64 { 0 }
        func changeCounter() async throws(XalorraError) -> Int64 { 0 }
    }

    static func batch() -> PredictionBatch {
        var inputs = FeatureMatrix()
        inputs.append(row: [Number.int(1)])
        return PredictionBatch(
            timestamp: .now(), tenant: "t", userID: "u", model: "m", version: "baseline", inputs: inputs,
            predictions: [.int(1)], latencyMicros: 1, textLog: false)
    }

    /// Concurrent inserts against `repository`: each caller's error code.
    static func insertConcurrently(_ repository: FailingRepository, count: Int) async -> [String] {
        let committer = GroupCommitter(repository: repository)
        return await withTaskGroup(of: String.self) { group in
            for _ in 0..<count {
                group.addTask {
                    do throws(XalorraError) {
                        _ = try await committer.insert(Self.batch())
                        return "stored"
                    } catch {
                        return error.code.name
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    /// An unreachable store (503) or a failed commit (500 from the store) fails every caller of the group with that
    /// error, and no batch is written again on its own: one insert attempt per group, never one per batch.
    @Test(arguments: [
        XalorraError(.serviceUnavailable, "cannot reach PostgreSQL", retryAfter: 1),
        XalorraError(.internal, "store: the connection closed during COMMIT"),
    ])
    func storeFailuresAreNotRetriedBatchByBatch(error: XalorraError) async {
        let repository = FailingRepository(error)
        let answers = await Self.insertConcurrently(repository, count: 30)
        #expect(answers.count == 30 && answers.allSatisfy { $0 == error.code.name }, "\(answers)")
        let attempts = repository.attempts.withLock { $0 }
        #expect(attempts.reduce(0, +) == 30, "every batch was attempted once: \(attempts)")
        #expect(attempts.count < 30, "the batches were grouped: \(attempts)")
    }

    /// A failure that is one batch's data (a validation error) is still written batch by batch, to find whose it
    /// is: here every batch is refused, each after its own attempt.
    @Test func dataFailuresAreStillSplit() async {
        let repository = FailingRepository(XalorraError(.validation, "bad batch"))
        let answers = await Self.insertConcurrently(repository, count: 20)
        #expect(answers.allSatisfy { $0 == "VALIDATION_ERROR" }, "\(answers)")
        let attempts = repository.attempts.withLock { $0 }
        #expect(attempts.contains { $0 > 1 } && attempts.filter { $0 == 1 }.count >= 20, "\(attempts)")
    }
}
