import XalorraCore
import XalorraML

/// Training over HTTP: `POST /train/{model}` with the CSV as the body and the settings as query parameters (202 and
/// a job), `GET /train/jobs[/{id}]`, and `DELETE /train/jobs/{id}` to cancel.
extension RemoteAPI {
    /// How often ``train(_:progress:)`` asks how the job is doing.
    static let trainingPollInterval: Duration = .milliseconds(250)

    public func submitTraining(_ request: TrainingRequest) async throws(XalorraError) -> TrainingJob {
        let json = try await send(.train, request.model, query: request.fields,
            raw: RawBody(bytes: request.data.csv(), contentType: "text/csv"))
        return try TrainingJob(json: json.member("data"))
    }

    /// Submits the job, then follows it until it finishes. When the calling task is cancelled (Ctrl-C in the CLI)
    /// the job is cancelled on the server too, rather than left training for nobody.
    public func train(
        _ request: TrainingRequest, progress: @escaping @Sendable (TrainingJob) async -> Void
    ) async throws(XalorraError) -> TrainingJob {
        var job = try await submitTraining(request)
        await progress(job)
        while !job.status.isFinished {
            do {
                try await Task.sleep(for: Self.trainingPollInterval)
            } catch {
                let (api, id) = (self, job.id)
                // A detached task: the cancelled one would cancel the request too.
                _ = try? await Task.detached { try await api.cancelTrainingJob(id) }.value
                throw XalorraError(.conflict, "training job \(id) was cancelled")
            }
            job = try await trainingJob(job.id)
            await progress(job)
        }
        return try Self.outcome(of: job)
    }

    public func trainingJobs(_ query: TrainingJobQuery) async throws(XalorraError) -> Page<TrainingJob> {
        var parameters = [("limit", "\(query.limit)"), ("offset", "\(query.offset)")]
        if let model = query.model { parameters.append(("model", model)) }
        if let status = query.status { parameters.append(("status", status.rawValue)) }
        if let tenant = query.tenant { parameters.append(("tenant", tenant)) }
        return try Page(json: await send(.trainingJobs, query: parameters))
    }

    public func trainingJob(_ id: String) async throws(XalorraError) -> TrainingJob {
        try TrainingJob(json: await send(.trainingJob, id).member("data"))
    }

    public func cancelTrainingJob(_ id: String) async throws(XalorraError) -> TrainingJob {
        try TrainingJob(json: await send(.cancelTrainingJob, id).member("data"))
    }

    /// A finished job, or the failure it ended in: `TRAINING_FAILED` with the job's reason for a failed job,
    /// `CONFLICT` for a cancelled one (both exit 1), worded as `LocalAPI` words them.
    static func outcome(of job: TrainingJob) throws(XalorraError) -> TrainingJob {
        switch job.status {
        case .succeeded, .queued, .running:
            return job
        case .cancelled:
            throw XalorraError(.conflict, "training job \(job.id) was cancelled")
        case .failed:
            throw XalorraError(.trainingFailed, "training failed: \(job.error ?? "no reason given")")
        }
    }
}
