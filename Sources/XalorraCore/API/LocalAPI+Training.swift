import Foundation
import XalorraML

extension LocalAPI {
    func jobStore() throws(XalorraError) -> any TrainingJobRepository { try store().trainingJobs }

    /// Checks everything about a request that can be checked before training: the name, the settings, the target
    /// column and the data. Bad input is a 422 and nothing is stored.
    static func dataset(for request: TrainingRequest) throws(XalorraError) -> Dataset {
        let reference = try ModelReference(request.model)
        guard reference.version == nil else {
            throw XalorraError.invalid("model", "a new version gets the next number; give the model's name alone")
        }
        guard ModelKind.trainable.contains(request.kind) else {
            throw XalorraError.invalid(
                "kind", "must be one of \(ModelKind.trainable.map(\.rawValue).joined(separator: ", "))")
        }
        try XalorraError.check(request.parameters.fieldProblems)
        // The column names become the model's feature names.
        try XalorraError.check(request.data.columns.enumerated().map { index, name in
            ("columns[\(index)]", NameRule.problem(name))
        })
        let dataset: Dataset
        do {
            dataset = try Dataset(request.data, target: request.target)
        } catch {
            throw XalorraError.invalid("data", error.description)
        }
        do {
            try Trainer.check(request.kind, on: dataset, parameters: request.parameters)
        } catch {
            throw XalorraError.invalid("data", error.message)
        }
        return dataset
    }

    public func submitTraining(_ request: TrainingRequest) async throws(XalorraError) -> TrainingJob {
        try await audited("training.start", object: request.model) { () throws(XalorraError) in
            _ = try Self.dataset(for: request)
            try checkLimits(request)
            return try await jobStore().insert(
                request, data: request.data.csv(), tenant: caller.tenant, createdBy: caller.user, status: .queued,
                now: .now(), maxActive: settings.maxQueuedJobs)
        }
    }

    /// 422 when the request asks for more trees than a model may have (`XALORRA_MAX_MODEL_TREES`); the nodes are
    /// counted when the model is built (``TrainingRun``).
    private func checkLimits(_ request: TrainingRequest) throws(XalorraError) {
        guard request.kind == .gbdt, request.parameters.trees > settings.maxModelTrees else { return }
        throw XalorraError.invalid(
            "trees", "must be at most \(settings.maxModelTrees), the most trees a model may have (XALORRA_MAX_MODEL_TREES)")
    }

    public func train(
        _ request: TrainingRequest, progress: @escaping @Sendable (TrainingJob) async -> Void
    ) async throws(XalorraError) -> TrainingJob {
        let dataset = try Self.dataset(for: request)
        try checkLimits(request)
        let jobs = try jobStore()
        let job = try await jobs.insert(
            request, data: [], tenant: caller.tenant, createdBy: caller.user, status: .running, now: .now())
        let rowID = try TrainingJob.rowID(job.id)
        let (reports, sink) = AsyncStream.makeStream(of: TrainingProgress.self, bufferingPolicy: .bufferingNewest(1))
        let reporter = Task {
            for await report in reports { await progress(job.advanced(to: report)) }
        }
        defer { reporter.cancel() }
        let run = TrainingRun(jobs: jobs, job: job, rowID: rowID)
        // Cancelling the task (Ctrl-C in `train`) cancels the job; the run notices at its next progress write.
        let outcome: Result<ModelVersion, XalorraError> = await withTaskCancellationHandler {
            do throws(XalorraError) {
                return .success(try await run.execute(
                    dataset: dataset, parameters: request.parameters, limits: ModelLimits(settings),
                    on: Self.inProcessTraining, onProgress: { sink.yield($0) }))
            } catch {
                return .failure(error)
            }
        } onCancel: {
            Task { _ = try? await jobs.cancel(rowID, tenant: nil, now: .now()) }
        }
        sink.finish()
        let version = try outcome.get()
        await reporter.value
        modelCache.forget(tenant: version.tenant, name: version.name)
        return try await jobs.job(rowID, tenant: nil)
    }

    public func trainingJobs(_ query: TrainingJobQuery) async throws(XalorraError) -> Page<TrainingJob> {
        try XalorraError.check(
            Paging.problems(limit: query.limit, offset: query.offset, max: TrainingJobQuery.maxLimit))
        let tenant = try caller.tenantScope(requested: query.tenant) ?? caller.tenant
        return try await jobStore().list(query, tenant: tenant)
    }

    public func trainingJob(_ id: String) async throws(XalorraError) -> TrainingJob {
        try await jobStore().job(TrainingJob.rowID(id), tenant: jobTenant)
    }

    public func cancelTrainingJob(_ id: String) async throws(XalorraError) -> TrainingJob {
        try await audited("training.cancel", object: id) { () throws(XalorraError) in
            try await jobStore().cancel(TrainingJob.rowID(id), tenant: jobTenant, now: .now())
        }
    }

    /// Whose jobs the caller may see one by one: an admin's reach covers every tenant.
    private var jobTenant: String? { caller.role == .admin ? nil : caller.tenant }

    /// The thread that offline `train` runs on: normal priority, since the user is waiting for it.
    private static let inProcessTraining = BackgroundWorkers(count: 1, niceness: 0)
}

extension TrainingJob {
    /// The job as a progress report leaves it (what `train` shows while it waits).
    func advanced(to report: TrainingProgress) -> TrainingJob {
        TrainingJob(
            id: id, model: model, tenant: tenant, kind: kind, target: target, rows: rows,
            hyperparameters: hyperparameters, status: status, progressDone: report.done, progressTotal: report.total,
            validationLoss: report.validationLoss, error: error, version: version, createdBy: createdBy,
            createdAt: createdAt, startedAt: startedAt, finishedAt: finishedAt)
    }
}
