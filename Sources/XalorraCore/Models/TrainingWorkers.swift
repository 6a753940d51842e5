import Synchronization
import XalorraML

/// The server's training workers: they take queued jobs from the store (queued by this server or by any process
/// on the same store) and run them on threads of the lowest priority, so training uses idle CPU and never slows
/// requests down.
public final class TrainingWorkers: Sendable {
    /// How often an idle worker looks for a queued job.
    static let pollInterval = Duration.milliseconds(250)

    private let count: Int
    private let threads: BackgroundWorkers
    private let stopping = Atomic<Bool>(false)

    /// Creates `count` workers (`XALORRA_TRAIN_WORKERS`).
    public init(count: Int) {
        self.count = max(1, count)
        self.threads = BackgroundWorkers(count: max(1, count))
    }

    /// Marks the jobs a dead process left running as failed (`interrupted`), then runs queued jobs until the task
    /// is cancelled or ``stop()`` is called. A store that fails at the start (a database restarting, failing over)
    /// is asked again every second until it answers (review V, L5), never left without workers.
    public func run(_ api: LocalAPI) async {
        var warned = false
        var started: (any TrainingJobRepository)?
        while started == nil {
            do {
                let jobs = try api.jobStore()
                let interrupted = try await jobs.failInterrupted(now: .now())
                if interrupted > 0 { api.warn("\(interrupted) training job(s) were interrupted by a restart; marked failed") }
                started = jobs
            } catch {
                if !warned { api.warn("training workers cannot start yet (retrying every second): \(error.message)") }
                warned = true
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled || isStopping { return }
            }
        }
        guard let jobs = started else { return }
        if warned { api.warn("training workers started") }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<count {
                group.addTask { await self.loop(api, jobs) }
            }
        }
    }

    /// Stops taking jobs and interrupts the running ones at their next round (graceful shutdown).
    public func stop() { stopping.store(true, ordering: .relaxed) }

    private var isStopping: Bool { stopping.load(ordering: .relaxed) }

    private func loop(_ api: LocalAPI, _ jobs: any TrainingJobRepository) async {
        while !Task.isCancelled, !isStopping {
            do {
                guard let (job, data) = try await jobs.claimNext(now: .now()) else {
                    try await Task.sleep(for: Self.pollInterval)
                    continue
                }
                await execute(job, data, api, jobs)
            } catch is CancellationError {
                return
            } catch {
                api.warn("training worker: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func execute(_ job: TrainingJob, _ data: [UInt8], _ api: LocalAPI, _ jobs: any TrainingJobRepository) async {
        do throws(XalorraError) {
            let rowID = try TrainingJob.rowID(job.id)
            let dataset: Dataset
            let parameters: Hyperparameters
            do {
                guard case .object(let fields) = job.hyperparameters else {
                    throw XalorraError.invalid("hyperparameters", "not an object")
                }
                parameters = try Hyperparameters(fields: fields)
                dataset = try Dataset(CSVReader.read(data), target: job.target)
            } catch let error as XalorraError {
                try await jobs.fail(rowID, reason: error.message, now: .now())
                return
            } catch {
                try await jobs.fail(rowID, reason: "\(error)", now: .now())
                return
            }
            let run = TrainingRun(jobs: jobs, job: job, rowID: rowID)
            let version = try await run.execute(
                dataset: dataset, parameters: parameters, limits: ModelLimits(api.settings), on: threads,
                stop: { [self] in isStopping })
            api.modelCache.forget(tenant: version.tenant, name: version.name)
        } catch {
            if error.code != .conflict && error.code != .trainingFailed {
                api.warn("training job \(job.id): \(error.message)")
            }
        }
    }
}
