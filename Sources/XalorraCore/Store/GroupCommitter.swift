/// Group commit for the prediction log: batches that arrive while a transaction is being written wait for the next
/// one and share it, so concurrent requests do not each pay for a transaction. Every caller returns only after its
/// own rows are committed.
public actor GroupCommitter {
    private let repository: any PredictionRepository
    private let committed: @Sendable ([PredictionBatch], [[Int64]]) -> Void
    private var waiting: [(batch: PredictionBatch, continuation: CheckedContinuation<[Int64], any Error>)] = []
    private var writing = false

    /// Creates a committer writing through `repository`.
    /// - Parameter committed: runs once per committed transaction with its batches and their ids, before any of
    ///   their callers resumes (the text log and the live feed: one write for a whole group, not one per request).
    public init(
        repository: any PredictionRepository, committed: @escaping @Sendable ([PredictionBatch], [[Int64]]) -> Void = { _, _ in }
    ) {
        self.repository = repository
        self.committed = committed
    }

    /// Stores `batch` in the next transaction and returns its ids once that transaction has committed.
    public func insert(_ batch: PredictionBatch) async throws(XalorraError) -> [Int64] {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                waiting.append((batch, continuation))
                if !writing {
                    writing = true
                    Task { await drain() }
                }
            }
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "store: \(error)")
        }
    }

    /// Writes everything waiting, one transaction per round, until nothing is left. While a round is written the
    /// actor is free, so new callers queue up for the next round.
    private func drain() async {
        while !waiting.isEmpty {
            let group = waiting
            waiting = []
            do throws(XalorraError) {
                let batches = group.map(\.batch)
                let ids = try await repository.insert(batches: batches)
                committed(batches, ids)
                for (entry, batchIDs) in zip(group, ids) { entry.continuation.resume(returning: batchIDs) }
            } catch where group.count > 1 && Self.isDataFault(error) {
                // One batch must not fail the others: write them one by one to find out whose it is.
                for entry in group {
                    do {
                        let ids = try await repository.insert(batches: [entry.batch])
                        committed([entry.batch], ids)
                        entry.continuation.resume(returning: ids[0])
                    } catch {
                        entry.continuation.resume(throwing: error)
                    }
                }
            } catch {
                for entry in group { entry.continuation.resume(throwing: error) }
            }
        }
        writing = false
    }

    /// Whether a failed transaction failed for one batch's data (it is then written batch by batch, so that the others
    /// are stored), rather than for the store: an unreachable store or a failed COMMIT (`.serviceUnavailable`,
    /// `.internal`) is every caller's answer at once. Retrying then would wait out the store once per batch, and on a
    /// networked database a COMMIT whose answer was lost may have happened: each retry would store the rows again
    /// under new ids.
    static func isDataFault(_ error: XalorraError) -> Bool {
        error.code == .validation || error.code == .badRequest || error.code == .payloadTooLarge
    }
}
