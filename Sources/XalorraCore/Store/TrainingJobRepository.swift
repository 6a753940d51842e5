import Foundation
import GRDB
import XalorraML

/// Training jobs as rows: queued by `POST /train/{model}` (or `train --detach`), claimed one at a time by a
/// server's workers, finished with the version they stored.
struct SQLiteTrainingJobRepository: TrainingJobRepository {
    let database: AppDatabase

    static func notFound(_ id: String) -> XalorraError { XalorraError(.notFound, "training job '\(id)' not found") }

    /// Stores a new job in `status` (`queued` for a worker, `running` when the caller trains it itself).
    /// - Parameter maxActive: when given, the most jobs `createdBy` may have queued or running, this one included;
    ///   counted in the insert's transaction, so two requests at once cannot both pass. Past it: 409.
    func insert(
        _ request: TrainingRequest, data: [UInt8], tenant: String, createdBy: String, status: TrainingJob.Status,
        now: Timestamp, maxActive: Int? = nil
    ) async throws(XalorraError) -> TrainingJob {
        let hyperparameters = JSONWriter.compact(request.parameters.json(for: request.kind))
        let id = try await database.writing { db in
            if let maxActive {
                let active = try Int.fetchOne(
                    db,
                    sql: "SELECT count(*) FROM training_jobs WHERE status IN ('queued', 'running') AND created_by = ?",
                    arguments: [createdBy]) ?? 0
                guard active < maxActive else { throw Self.tooManyJobs(active, limit: maxActive) }
            }
            try db.execute(
                sql: """
                    INSERT INTO training_jobs (tenant, model, kind, target, rows, hyperparameters, data, status,
                        progress_total, created_by, created_at, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    tenant, request.model, request.kind.rawValue, request.target, request.data.rowCount,
                    hyperparameters, Data(data), status.rawValue, Self.plannedSteps(request), createdBy,
                    now.microseconds, status == .running ? now.microseconds : nil,
                ])
            return db.lastInsertedRowID
        }
        return try await job(id, tenant: nil)
    }

    /// The refusal of a job past a user's `XALORRA_MAX_QUEUED_JOBS`: a conflict with the state of their queue (not a
    /// rate: it clears when a job finishes, not when time passes).
    static func tooManyJobs(_ active: Int, limit: Int) -> XalorraError {
        XalorraError(
            .conflict,
            "you have \(active) training jobs queued or running; at most \(limit) per user "
                + "(XALORRA_MAX_QUEUED_JOBS): wait for one to finish, or cancel one",
            hint: "`xalorra train jobs --status queued` lists them; `xalorra train cancel JOB` cancels one")
    }

    /// The rounds (gbdt) or iterations (linear kinds) a request plans, for progress before the first report.
    static func plannedSteps(_ request: TrainingRequest) -> Int {
        request.kind == .gbdt ? request.parameters.trees : 1
    }

    /// One job; another tenant's (when `tenant` is given) is reported as not found.
    func job(_ id: Int64, tenant: String?) async throws(XalorraError) -> TrainingJob {
        let job = try await database.reading { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM training_jobs WHERE id = ?", arguments: [id])
                .map(Self.job)
        }
        guard let job, tenant == nil || job.tenant == tenant else { throw Self.notFound(TrainingJob.publicID(id)) }
        return job
    }

    /// A page of jobs, newest first.
    func list(_ query: TrainingJobQuery, tenant: String) async throws(XalorraError) -> Page<TrainingJob> {
        try await database.reading { db in
            var filter = "tenant = ?"
            var arguments: StatementArguments = [tenant]
            if let model = query.model {
                filter += " AND model = ?"
                arguments += [model]
            }
            if let status = query.status {
                filter += " AND status = ?"
                arguments += [status.rawValue]
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM training_jobs WHERE \(filter)", arguments: arguments) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(Self.columns) FROM training_jobs WHERE \(filter) ORDER BY id DESC LIMIT ? OFFSET ?",
                arguments: arguments + [query.limit, query.offset])
            return Page(items: try rows.map(Self.job), total: total, limit: query.limit, offset: query.offset)
        }
    }

    /// Takes the oldest queued job for a worker: it is `running` from now on. `nil` when none waits.
    func claimNext(now: Timestamp) async throws(XalorraError) -> (TrainingJob, [UInt8])? {
        try await database.writing { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT \(Self.columns), data FROM training_jobs WHERE status = 'queued' ORDER BY id LIMIT 1")
            else { return nil }
            let id: Int64 = row["id"]
            try db.execute(
                sql: "UPDATE training_jobs SET status = 'running', started_at = ? WHERE id = ?",
                arguments: [now.microseconds, id])
            let data: Data = row["data"] ?? Data()
            let claimed = try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM training_jobs WHERE id = ?", arguments: [id])
            return (try Self.job(claimed ?? row), [UInt8](data))
        }
    }

    /// Records progress; `false` when the job is no longer running (it was cancelled).
    func progress(_ id: Int64, _ report: TrainingProgress) throws(XalorraError) -> Bool {
        do {
            return try database.writer.write { db in
                try db.execute(
                    sql: """
                        UPDATE training_jobs SET progress_done = ?, progress_total = ?, validation_loss = ?
                        WHERE id = ? AND status = 'running'
                        """,
                    arguments: [report.done, report.total, report.validationLoss.flatMap { $0.isFinite ? $0 : nil }, id])
                return db.changesCount > 0
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// Whether the job is still running (not cancelled meanwhile).
    func isRunning(_ id: Int64) throws(XalorraError) -> Bool {
        do {
            return try database.writer.read { db in
                try String.fetchOne(db, sql: "SELECT status FROM training_jobs WHERE id = ?", arguments: [id]) == "running"
            }
        } catch {
            throw StoreError.wrap(error)
        }
    }

    /// Stores the trained version and marks the job succeeded, in one transaction; `nil` (nothing stored) when the
    /// job was cancelled meanwhile.
    func succeed(
        _ id: Int64, version: ModelRepository.NewVersion, rounds: Int, now: Timestamp
    ) async throws(XalorraError) -> ModelVersion? {
        try await database.writing { db in
            guard try String.fetchOne(db, sql: "SELECT status FROM training_jobs WHERE id = ?", arguments: [id])
                == "running"
            else { return nil }
            let stored = try SQLiteModelRepository.add(db, version, now: now)
            try db.execute(
                sql: """
                    UPDATE training_jobs SET status = 'succeeded', version = ?, progress_done = ?, progress_total = ?,
                        data = NULL, finished_at = ? WHERE id = ?
                    """,
                arguments: [stored.version, rounds, rounds, now.microseconds, id])
            return stored
        }
    }

    /// Marks a running job failed with `reason`.
    func fail(_ id: Int64, reason: String, now: Timestamp) async throws(XalorraError) {
        try await database.writing { db in
            try db.execute(
                sql: """
                    UPDATE training_jobs SET status = 'failed', error = ?, data = NULL, finished_at = ?
                    WHERE id = ? AND status IN ('queued', 'running')
                    """,
                arguments: [reason, now.microseconds, id])
        }
    }

    /// Cancels a queued or running job of `tenant` (any tenant's when nil); 409 when it has already finished.
    func cancel(_ id: Int64, tenant: String?, now: Timestamp) async throws(XalorraError) -> TrainingJob {
        let job = try await job(id, tenant: tenant)
        let changed = try await database.writing { db in
            try db.execute(
                sql: """
                    UPDATE training_jobs SET status = 'cancelled', data = NULL, finished_at = ?
                    WHERE id = ? AND status IN ('queued', 'running')
                    """,
                arguments: [now.microseconds, id])
            return db.changesCount > 0
        }
        guard changed else {
            throw XalorraError(.conflict, "training job \(job.id) has already \(job.status.rawValue)")
        }
        return try await self.job(id, tenant: tenant)
    }

    /// Marks the jobs that were running when their process died as failed (`interrupted`); returns how many.
    func failInterrupted(now: Timestamp) async throws(XalorraError) -> Int {
        try await database.writing { db in
            try db.execute(
                sql: """
                    UPDATE training_jobs SET status = 'failed', error = 'interrupted', data = NULL, finished_at = ?
                    WHERE status = 'running'
                    """,
                arguments: [now.microseconds])
            return db.changesCount
        }
    }

    // MARK: Rows

    private static let columns = """
        id, tenant, model, kind, target, rows, hyperparameters, status, progress_done, progress_total, validation_loss,
        error, version, created_by, created_at, started_at, finished_at
        """

    private static func job(_ row: Row) throws -> TrainingJob {
        TrainingJob(
            id: TrainingJob.publicID(row["id"]), model: row["model"], tenant: row["tenant"],
            kind: ModelKind(rawValue: row["kind"]) ?? .gbdt, target: row["target"], rows: row["rows"],
            hyperparameters: try JSONParser.parse(row["hyperparameters"] as String),
            status: TrainingJob.Status(rawValue: row["status"]) ?? .failed, progressDone: row["progress_done"],
            progressTotal: row["progress_total"], validationLoss: row["validation_loss"], error: row["error"],
            version: row["version"], createdBy: row["created_by"],
            createdAt: Timestamp(microseconds: row["created_at"]),
            startedAt: (row["started_at"] as Int64?).map(Timestamp.init(microseconds:)),
            finishedAt: (row["finished_at"] as Int64?).map(Timestamp.init(microseconds:)))
    }
}
