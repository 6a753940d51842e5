#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraML

/// One training job carried out: fit on a background thread with progress written to the job's row (at most four
/// times a second), then store the version and finish the job in one transaction.
struct TrainingRun: Sendable {
    let jobs: any TrainingJobRepository
    let job: TrainingJob
    let rowID: Int64

    /// Trains `dataset` on one of `workers`' threads; a model past `limits` fails the job rather than being stored.
    /// - Parameters:
    ///   - stop: asked at each progress report; `true` stops the run as interrupted (the server is shutting down).
    ///   - onProgress: sees every report, on the training thread.
    func execute(
        dataset: Dataset, parameters: Hyperparameters, limits: ModelLimits, on workers: BackgroundWorkers,
        stop: @escaping @Sendable () -> Bool = { false },
        onProgress: @escaping @Sendable (TrainingProgress) -> Void = { _ in }
    ) async throws(XalorraError) -> ModelVersion {
        let jobs = self.jobs
        let id = rowID
        let kind = job.kind
        let outcome: Result<Trainer.Result, TrainingError> = await workers.run {
            var lastWrite: Int64 = 0
            return Result { () throws(TrainingError) in
                try Trainer.train(kind, on: dataset, parameters: parameters) { report in
                    onProgress(report)
                    if stop() { return false }
                    let now = Self.monotonicMillis()
                    guard now - lastWrite >= 250 || report.done == report.total else { return true }
                    lastWrite = now
                    // A failed progress write is not worth stopping for; a cancelled job (no row updated) is.
                    return (try? jobs.progress(id, report)) ?? true
                }
            }
        }
        switch outcome {
        case .failure(let error):
            if error.cancelled {
                // On a training thread: PostgreSQL's isRunning waits for its query (a blocking call), which must
                // never park a thread of the cooperative pool.
                if await workers.run({ (try? jobs.isRunning(id)) == true }) {
                    try await jobs.fail(id, reason: "interrupted", now: .now())
                    throw XalorraError(.conflict, "training job \(job.id) was interrupted: the server is stopping")
                }
                throw XalorraError(.conflict, "training job \(job.id) was cancelled")
            }
            try await jobs.fail(id, reason: error.message, now: .now())
            throw XalorraError(.trainingFailed, "training failed: \(error.message)")
        case .success(let result):
            let size = result.model.size
            var refusal: String?
            if case .trees = result.model, size > limits.nodes {
                refusal = "the model has \(size) tree nodes, more than the \(limits.nodes) a model may have "
                    + "(XALORRA_MAX_MODEL_NODES); train fewer or shallower trees"
            } else if let problem = ModelDocument.unwritable(result.model) {
                refusal = "\(problem): the data's values are too large to fit"
            }
            if let refusal {
                try await jobs.fail(id, reason: refusal, now: .now())
                throw XalorraError(.trainingFailed, "training failed: \(refusal)")
            }
            let profile = await workers.run { FeatureProfile(model: result.model, data: dataset) }
            let version = ModelRepository.NewVersion(
                tenant: job.tenant, name: job.model, kind: kind, hyperparameters: job.hyperparameters,
                metrics: result.metrics, features: dataset.featureNames, trees: result.model.treeCount,
                document: ModelDocument.encode(result.model), createdBy: job.createdBy)
            guard let stored = try await jobs.succeed(id, version: version, rounds: result.iterations, now: .now())
            else { throw XalorraError(.conflict, "training job \(job.id) was cancelled") }
            // Both stores' job repositories reach their profiles (a test double may not: no profile then).
            if let profiles = (jobs as? any ProfilesReachable)?.profiles {
                await profiles.save(profile, for: stored)
            }
            return stored
        }
    }

    private static func monotonicMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
