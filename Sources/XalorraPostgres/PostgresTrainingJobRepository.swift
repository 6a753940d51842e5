import Logging
import NIOCore
import PostgresNIO
import Synchronization
import XalorraCore
import XalorraML

/// Training jobs in PostgreSQL, shared by every instance on the database.
///
/// A worker claims the oldest waiting job with `SELECT … FOR UPDATE SKIP LOCKED` (two instances never take the same
/// one) and holds it by a lease: a random token and an expiry, renewed by a heartbeat every third of the lease and
/// by each progress report. A running job whose lease ran out (its instance died, even by `kill -9`) is claimed again
/// by the next worker that looks, and trained from the start. Every write of a holder names its token, so a worker
/// whose job was taken over (or cancelled, from any instance) writes nothing more and stops at its next report: a
/// job never finishes twice, and its version is stored once.
struct PostgresTrainingJobRepository: TrainingJobRepository {
    let database: PostgresDatabase
    /// How long a claim holds without a heartbeat.
    let lease: Duration

    init(database: PostgresDatabase, lease: Duration = .seconds(30)) {
        self.database = database
        self.lease = lease
    }

    /// The database's clock in microseconds since 1970, as a statement's fragment: every lease is written and
    /// checked against it (review V, F6), so instances whose clocks disagree never take each other's live jobs.
    private static let databaseNow = "(extract(epoch from clock_timestamp()) * 1000000)::bigint"

    /// How many claims a job gets (review V, F12): a job whose lease ran out this many times (it crashed or exhausted
    /// its instance each time) fails with ``exhaustedReason`` instead of taking down the next instance.
    static let maximumAttempts = 3
    static let exhaustedReason = "interrupted \(maximumAttempts) times"

    private var leaseMicros: Int64 {
        let (seconds, attoseconds) = lease.components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    // MARK: Leases held by this process

    /// A job of one database.
    private struct LeaseKey: Hashable {
        let client: ObjectIdentifier
        let job: Int64
    }

    /// The tokens of the claims this process holds, whichever repository value made them (the store may hand out
    /// a new value each time).
    private static let held = Mutex<[LeaseKey: String]>([:])

    private func key(_ id: Int64) -> LeaseKey { LeaseKey(client: ObjectIdentifier(database.client), job: id) }
    private func token(_ id: Int64) -> String? { Self.held.withLock { $0[key(id)] } }
    private func release(_ id: Int64) { _ = Self.held.withLock { $0.removeValue(forKey: key(id)) } }

    /// Records a claim of job `id` under `token` and renews it until it is released or lost.
    private func hold(_ id: Int64, token: String) {
        Self.held.withLock { $0[key(id)] = token }
        let database = self.database, lease = self.lease, leaseMicros = self.leaseMicros
        let leaseKey = self.key(id)
        Task {
            var renewedAt = ContinuousClock.now
            while true {
                try? await Task.sleep(for: lease / 3)
                guard Self.held.withLock({ $0[leaseKey] }) == token else { return }
                do {
                    let renewed = try await database.rows(
                        """
                        UPDATE training_jobs SET lease_expires_at = \(unescaped: Self.databaseNow) + \(leaseMicros)
                        WHERE id = \(id) AND status = 'running' AND lease_token = \(token) RETURNING 1
                        """)
                    if renewed.isEmpty {
                        // Cancelled, finished or taken over: nothing more to hold.
                        Self.held.withLock { if $0[leaseKey] == token { $0.removeValue(forKey: leaseKey) } }
                        return
                    }
                    renewedAt = .now
                } catch {
                    // The database is unreachable: try again at the next beat, until the lease has surely run out
                    // (then another worker may hold the job, and this one's writes, fenced by the token, fail).
                    if ContinuousClock.now - renewedAt > lease { return }
                }
            }
        }
    }

    private static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }.joined(separator: "-")
    }

    // MARK: TrainingJobRepository

    func insert(
        _ request: TrainingRequest, data: [UInt8], tenant: String, createdBy: String, status: TrainingJob.Status,
        now: Timestamp, maxActive: Int?
    ) async throws(XalorraError) -> TrainingJob {
        let hyperparameters = JSONWriter.compact(request.parameters.json(for: request.kind))
        let logger = database.logger
        let running = status == .running
        let token = running ? Self.newToken() : nil
        let leaseLength = running ? leaseMicros : nil
        let id = try await database.inTransaction { connection in
            if let maxActive {
                // One submitter's inserts take turns (across processes too), so two at once cannot both pass.
                try await connection.run("SELECT pg_advisory_xact_lock(hashtext('training_jobs:' || \(createdBy)))", logger)
                let active = try await connection.rows(
                    """
                    SELECT count(*) FROM training_jobs
                    WHERE status IN ('queued', 'running') AND created_by = \(createdBy)
                    """, logger
                ).first?.decode(Int64.self) ?? 0
                guard active < maxActive else { throw StoreRules.tooManyJobs(Int(active), limit: maxActive) }
            }
            let rows = try await connection.rows(
                """
                INSERT INTO training_jobs (tenant, model, kind, target, rows, hyperparameters, data, status,
                    progress_total, created_by, created_at, started_at, lease_token, lease_expires_at, attempts)
                VALUES (\(tenant), \(request.model), \(request.kind.rawValue), \(request.target),
                    \(Int64(request.data.rowCount)), \(hyperparameters), \(ByteBuffer(bytes: data)), \(status.rawValue),
                    \(Int64(StoreRules.plannedSteps(request))), \(createdBy), \(now.microseconds),
                    \(running ? now.microseconds : nil), \(token), \(leaseLength)::bigint + \(unescaped: Self.databaseNow),
                    \(running ? Int32(1) : Int32(0)))
                RETURNING id
                """, logger)
            guard let row = rows.first else { throw XalorraError(.internal, "store: the job was not stored") }
            return try row.decode(Int64.self)
        }
        if let token { hold(id, token: token) }
        return try await job(id, tenant: nil)
    }

    func job(_ id: Int64, tenant: String?) async throws(XalorraError) -> TrainingJob {
        let rows = try await database.rows("SELECT \(unescaped: Self.columns) FROM training_jobs WHERE id = \(id)")
        guard let row = rows.first else { throw StoreRules.jobNotFound(TrainingJob.publicID(id)) }
        let job = try Self.job(row.makeRandomAccess())
        guard tenant == nil || job.tenant == tenant else { throw StoreRules.jobNotFound(TrainingJob.publicID(id)) }
        return job
    }

    func list(_ query: TrainingJobQuery, tenant: String) async throws(XalorraError) -> Page<TrainingJob> {
        var sql = SQLBuilder()
        var filter = "tenant = \(sql.bind(tenant))"
        if let model = query.model { filter += " AND model = \(sql.bind(model))" }
        if let status = query.status { filter += " AND status = \(sql.bind(status.rawValue))" }
        let logger = database.logger
        return try await database.inTransaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            let total = try await connection.rows(sql.statement("SELECT count(*) FROM training_jobs WHERE \(filter)"), logger)
                .first?.decode(Int64.self) ?? 0
            var page = sql
            let limit = page.bind(Int64(query.limit)), offset = page.bind(Int64(query.offset))
            let rows = try await connection.rows(
                page.statement(
                    "SELECT \(Self.columns) FROM training_jobs WHERE \(filter) ORDER BY id DESC LIMIT \(limit) OFFSET \(offset)"),
                logger)
            let items = try rows.map { row throws(XalorraError) in try Self.job(row.makeRandomAccess()) }
            return Page(items: items, total: Int(total), limit: query.limit, offset: query.offset)
        }
    }

    /// The oldest job waiting, or running under a lease that ran out by the database's clock, becomes this worker's.
    /// A job that used its ``maximumAttempts`` and whose lease ran out again is failed instead.
    func claimNext(now: Timestamp) async throws(XalorraError) -> (TrainingJob, [UInt8])? {
        let token = Self.newToken()
        try await database.execute(
            """
            UPDATE training_jobs SET status = 'failed', error = \(Self.exhaustedReason), data = NULL,
                finished_at = \(now.microseconds), lease_token = NULL, lease_expires_at = NULL
            WHERE status = 'running' AND lease_expires_at < \(unescaped: Self.databaseNow)
                AND attempts >= \(Int32(Self.maximumAttempts))
            """)
        let rows = try await database.rows(
            """
            WITH next AS (
                SELECT id FROM training_jobs
                WHERE status = 'queued' OR (status = 'running' AND lease_expires_at < \(unescaped: Self.databaseNow)
                    AND attempts < \(Int32(Self.maximumAttempts)))
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
            )
            UPDATE training_jobs j SET status = 'running', started_at = \(now.microseconds), progress_done = 0,
                validation_loss = NULL, lease_token = \(token),
                lease_expires_at = \(unescaped: Self.databaseNow) + \(leaseMicros), attempts = j.attempts + 1
            FROM next WHERE j.id = next.id
            RETURNING \(unescaped: Self.claimedColumns), j.data
            """)
        guard let row = rows.first else { return nil }
        let cells = row.makeRandomAccess()
        let job = try Self.job(cells)
        let data = try cells.value("data", as: ByteBuffer?.self)?.bytes ?? []
        hold(try TrainingJob.rowID(job.id), token: token)
        return (job, data)
    }

    func progress(_ id: Int64, _ report: TrainingProgress) throws(XalorraError) -> Bool {
        let token = self.token(id), database = self.database, leaseMicros = self.leaseMicros
        return try database.blocking { () async throws(XalorraError) -> Bool in
            // Renews the lease too; a job no longer ours (cancelled, or taken over) changes nothing. A loss that is
            // not finite (a diverged training) is stored as none, as SQLite stores it (review V, L2): JSON has no NaN.
            let rows = try await database.rows(
                """
                UPDATE training_jobs SET progress_done = \(Int64(report.done)), progress_total = \(Int64(report.total)),
                    validation_loss = \(report.validationLoss.flatMap { $0.isFinite ? $0 : nil }),
                    lease_expires_at = \(unescaped: Self.databaseNow) + \(leaseMicros)
                WHERE id = \(id) AND status = 'running' AND lease_token IS NOT DISTINCT FROM \(token)
                RETURNING 1
                """)
            return !rows.isEmpty
        }
    }

    func isRunning(_ id: Int64) throws(XalorraError) -> Bool {
        let token = self.token(id), database = self.database
        return try database.blocking { () async throws(XalorraError) -> Bool in
            let rows = try await database.rows(
                """
                SELECT 1 FROM training_jobs
                WHERE id = \(id) AND status = 'running' AND lease_token IS NOT DISTINCT FROM \(token)
                """)
            return !rows.isEmpty
        }
    }

    func succeed(
        _ id: Int64, version: NewModelVersion, rounds: Int, now: Timestamp
    ) async throws(XalorraError) -> ModelVersion? {
        let token = self.token(id)
        let logger = database.logger
        defer { release(id) }
        return try await database.inTransaction { connection in
            let mine = try await connection.rows(
                """
                SELECT 1 FROM training_jobs
                WHERE id = \(id) AND status = 'running' AND lease_token IS NOT DISTINCT FROM \(token) FOR UPDATE
                """, logger)
            guard !mine.isEmpty else { return nil }
            let stored = try await PostgresModelRepository.add(connection, logger, version, now: now)
            try await connection.run(
                """
                UPDATE training_jobs SET status = 'succeeded', version = \(Int64(stored.version)),
                    progress_done = \(Int64(rounds)), progress_total = \(Int64(rounds)), data = NULL,
                    finished_at = \(now.microseconds), lease_token = NULL, lease_expires_at = NULL
                WHERE id = \(id)
                """, logger)
            return stored
        }
    }

    /// Marks the job failed with `reason`, unless another worker holds it now. A job `interrupted` by its server
    /// stopping goes back to the queue instead, for another instance (or this one's restart) to train, and gets its
    /// attempt back (a rolling restart is not the job's fault).
    func fail(_ id: Int64, reason: String, now: Timestamp) async throws(XalorraError) {
        let token = self.token(id)
        defer { release(id) }
        if reason == "interrupted" {
            try await database.execute(
                """
                UPDATE training_jobs SET status = 'queued', started_at = NULL, progress_done = 0, lease_token = NULL,
                    lease_expires_at = NULL, attempts = greatest(attempts - 1, 0)
                WHERE id = \(id) AND status = 'running' AND lease_token IS NOT DISTINCT FROM \(token)
                """)
            return
        }
        try await database.execute(
            """
            UPDATE training_jobs SET status = 'failed', error = \(reason), data = NULL, finished_at = \(now.microseconds),
                lease_token = NULL, lease_expires_at = NULL
            WHERE id = \(id) AND status IN ('queued', 'running') AND (lease_token IS NULL OR lease_token = \(token))
            """)
    }

    /// Cancels from any instance: the worker holding the job sees it at its next progress report and stops.
    func cancel(_ id: Int64, tenant: String?, now: Timestamp) async throws(XalorraError) -> TrainingJob {
        let job = try await job(id, tenant: tenant)
        let changed = try await database.rows(
            """
            UPDATE training_jobs SET status = 'cancelled', data = NULL, finished_at = \(now.microseconds),
                lease_token = NULL, lease_expires_at = NULL
            WHERE id = \(id) AND status IN ('queued', 'running')
            RETURNING 1
            """)
        guard !changed.isEmpty else {
            throw XalorraError(.conflict, "training job \(job.id) has already \(job.status.rawValue)")
        }
        release(id)
        return try await self.job(id, tenant: tenant)
    }

    /// Running jobs belong to whichever instance holds their lease, and one whose lease ran out is claimed again
    /// (``claimNext(now:)``): only a running job that has no lease at all (copied from a SQLite store) was left by
    /// a dead process for certain, and is failed as SQLite fails it.
    func failInterrupted(now: Timestamp) async throws(XalorraError) -> Int {
        try await database.rows(
            """
            UPDATE training_jobs SET status = 'failed', error = 'interrupted', data = NULL, finished_at = \(now.microseconds)
            WHERE status = 'running' AND lease_expires_at IS NULL
            RETURNING 1
            """
        ).count
    }

    // MARK: Rows

    private static let columns = """
        id, tenant, model, kind, target, rows, hyperparameters, status, progress_done, progress_total, validation_loss, \
        error, version, created_by, created_at, started_at, finished_at
        """

    /// ``columns`` of the job an `UPDATE training_jobs j … FROM next` claimed.
    private static let claimedColumns = columns.split(separator: ", ").map { "j.\($0)" }.joined(separator: ", ")

    private static func job(_ cells: PostgresRandomAccessRow) throws(XalorraError) -> TrainingJob {
        let hyperparameters: JSONValue
        do {
            hyperparameters = try JSONParser.parse(try cells.value("hyperparameters", as: String.self))
        } catch {
            throw XalorraError(.internal, "store: a training job cannot be read")
        }
        return TrainingJob(
            id: TrainingJob.publicID(try cells.value("id")), model: try cells.value("model"),
            tenant: try cells.value("tenant"), kind: ModelKind(rawValue: try cells.value("kind")) ?? .gbdt,
            target: try cells.value("target"), rows: Int(try cells.value("rows", as: Int32.self)),
            hyperparameters: hyperparameters,
            status: TrainingJob.Status(rawValue: try cells.value("status")) ?? .failed,
            progressDone: Int(try cells.value("progress_done", as: Int32.self)),
            progressTotal: Int(try cells.value("progress_total", as: Int32.self)),
            validationLoss: try cells.value("validation_loss"), error: try cells.value("error"),
            version: try cells.value("version", as: Int32?.self).map(Int.init), createdBy: try cells.value("created_by"),
            createdAt: Timestamp(microseconds: try cells.value("created_at")),
            startedAt: try cells.value("started_at", as: Int64?.self).map(Timestamp.init(microseconds:)),
            finishedAt: try cells.value("finished_at", as: Int64?.self).map(Timestamp.init(microseconds:)))
    }
}
