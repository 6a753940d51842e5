package import XalorraML

/// Training jobs as rows: queued by `POST /train/{model}` (or `train --detach`), claimed one at a time by a server's
/// workers, finished with the version they stored. SQLite: ``SQLiteTrainingJobRepository``.
package protocol TrainingJobRepository: Sendable {
    /// Stores a new job in `status`; with `maxActive`, 409 past that many queued or running jobs of `createdBy`.
    func insert(
        _ request: TrainingRequest, data: [UInt8], tenant: String, createdBy: String, status: TrainingJob.Status,
        now: Timestamp, maxActive: Int?
    ) async throws(XalorraError) -> TrainingJob
    /// One job; another tenant's (when `tenant` is given) is reported as not found.
    func job(_ id: Int64, tenant: String?) async throws(XalorraError) -> TrainingJob
    /// A page of jobs, newest first.
    func list(_ query: TrainingJobQuery, tenant: String) async throws(XalorraError) -> Page<TrainingJob>
    /// Takes the oldest queued job for a worker: it is `running` from now on. `nil` when none waits.
    func claimNext(now: Timestamp) async throws(XalorraError) -> (TrainingJob, [UInt8])?
    /// Records progress; `false` when the job is no longer running (it was cancelled). Synchronous: called on the
    /// training thread (not an event loop), where blocking is fine.
    func progress(_ id: Int64, _ report: TrainingProgress) throws(XalorraError) -> Bool
    /// Whether the job is still running (not cancelled meanwhile). Synchronous, as ``progress(_:_:)``.
    func isRunning(_ id: Int64) throws(XalorraError) -> Bool
    /// Stores the trained version and marks the job succeeded, in one transaction; `nil` when it was cancelled.
    func succeed(_ id: Int64, version: NewModelVersion, rounds: Int, now: Timestamp) async throws(XalorraError) -> ModelVersion?
    /// Marks a running job failed with `reason`.
    func fail(_ id: Int64, reason: String, now: Timestamp) async throws(XalorraError)
    /// Cancels a queued or running job of `tenant` (any tenant's when nil); 409 when it has already finished.
    func cancel(_ id: Int64, tenant: String?, now: Timestamp) async throws(XalorraError) -> TrainingJob
    /// Marks the jobs that were running when their process died as failed (`interrupted`); returns how many.
    func failInterrupted(now: Timestamp) async throws(XalorraError) -> Int
}

extension TrainingJobRepository {
    /// ``insert(_:data:tenant:createdBy:status:now:maxActive:)`` without a limit.
    package func insert(
        _ request: TrainingRequest, data: [UInt8], tenant: String, createdBy: String, status: TrainingJob.Status,
        now: Timestamp
    ) async throws(XalorraError) -> TrainingJob {
        try await insert(request, data: data, tenant: tenant, createdBy: createdBy, status: status, now: now, maxActive: nil)
    }
}
