import Foundation
import PostgresNIO
import Synchronization
import Testing
import XalorraCore
import XalorraML
@testable import XalorraPostgres

/// Review V's PostgreSQL fault findings (issue 14): a held lock is a quick 503, not a hang (F4). Skipped visibly
/// without PostgreSQL (a failure under CI).
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct PostgresFaultTests {
    /// A plain connection to the database at `url`, as the store's own (with its session settings).
    private func connect(_ url: String) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: try PostgresStore.connectionConfiguration(try PostgresLocation(parsing: url)), id: 9,
            logger: PostgresStore.quietLogger)
    }

    /// Runs `body` apart and waits at most `seconds` for it: its error (`.some(nil)` when it succeeded), or nil
    /// when it did not end in time, so that a hang is a failed expectation rather than a test run that never ends.
    private func within(
        seconds: Int, _ body: @escaping @Sendable () async throws -> Void
    ) async throws -> (any Error)?? {
        final class Outcome: Sendable { let error = Mutex<(any Error)??>(nil) }
        let outcome = Outcome()
        Task {
            do {
                try await body()
                outcome.error.withLock { $0 = .some(nil) }
            } catch {
                outcome.error.withLock { $0 = .some(error) }
            }
        }
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline, outcome.error.withLock({ $0 == nil }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        return outcome.error.withLock { $0 }
    }

    /// Another session holding the prediction counter's row lock (an operator's open transaction, an instance
    /// paused before its COMMIT) makes a prediction answer 503 with Retry-After within a few seconds instead of
    /// hanging, and predictions answer 200 again once that transaction ends.
    @Test func aHeldPredictionLockIsAQuick503() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let server = try await LiveServer(environment: ["XALORRA_DATABASE_URL": url], arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let warm = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[1]}"#)
        #expect(warm.status == 200, "\(warm.body)")

        let holder = try await connect(url)
        try await holder.query("BEGIN", logger: PostgresStore.quietLogger)
        _ = try await holder.query("SELECT last_id FROM prediction_ids FOR UPDATE", logger: PostgresStore.quietLogger)
            .collect()
        // Released after 8 s at the latest, so that without a bound the request below answers late instead of never.
        let release = Task {
            try? await Task.sleep(for: .seconds(8))
            _ = try? await holder.query("COMMIT", logger: PostgresStore.quietLogger)
        }
        let started = ContinuousClock.now
        let blocked = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[2]}"#)
        let waited = ContinuousClock.now - started
        #expect(blocked.status == 503, "\(blocked.status) \(blocked.body) after \(waited)")
        #expect(blocked.body.contains("SERVICE_UNAVAILABLE"), "\(blocked.body)")
        #expect(blocked.headers.first(name: "Retry-After") == "1")
        #expect(waited < .seconds(5), "answered after \(waited)")

        release.cancel()
        _ = await release.value
        _ = try? await holder.query("COMMIT", logger: PostgresStore.quietLogger)
        try? await holder.close()
        let after = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[3]}"#)
        #expect(after.status == 200, "\(after.body)")
    }

    /// A prediction group whose statement cannot be prepared (its table locked past `lock_timeout`, as by a
    /// migration or `CREATE INDEX` waiting for it) answers 503, and the next group once the lock is gone is stored.
    /// postgres-nio keeps a failed preparation as failed on its connection for good, so without closing that
    /// connection every later group on it failed at once (the store here has one connection, so the second group
    /// must go through the same one).
    @Test func aFailedPreparationDoesNotStayOnItsConnection() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 1)
        let holder = try await connect(url)
        try await holder.query("BEGIN", logger: PostgresStore.quietLogger)
        try await holder.query("LOCK TABLE predictions IN ACCESS EXCLUSIVE MODE", logger: PostgresStore.quietLogger)
        do {
            _ = try await store.predictions.insert(batches: [BatchLogTests.batch(2, start: 0)])
            Issue.record("a group was stored while its table was locked")
        } catch {
            #expect(error.code == .serviceUnavailable, "\(error.message)")
        }
        try await holder.query("COMMIT", logger: PostgresStore.quietLogger)
        try? await holder.close()
        let ids = try await store.predictions.insert(batches: [BatchLogTests.batch(3, start: 2)])
        #expect(ids == [[1, 2, 3]])
        #expect(try await store.predictions.newestID() == 3)
        await store.close()
    }

    /// A database whose default isolation is SERIALIZABLE (a DBA's `ALTER DATABASE … SET
    /// default_transaction_isolation`) still takes concurrent writes from two stores: 8 prediction groups and 8
    /// versions of one model at once all succeed, with distinct ids and versions (at the database's default the
    /// shared counters' rows fail with 40001 "could not serialize access").
    @Test func writesSucceedUnderAStricterDefaultIsolation() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let name = try PostgresLocation(parsing: url).database
        let port = try await PostgresCluster.shared.start()
        try await PostgresCluster.shared.psql(
            port: port, "ALTER DATABASE \(name) SET default_transaction_isolation = 'serializable'")
        let location = try PostgresLocation(parsing: url)
        let first = try await PostgresStore.open(location, maximumConnections: 8)
        let second = try await PostgresStore.open(location, maximumConnections: 8)
        let isolation = try await first.database.rows("SHOW default_transaction_isolation")
        #expect(try isolation.first?.decode(String.self) == "read committed", "the store's sessions override the database's default")
        let ids = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for index in 0..<8 {
                let store = index % 2 == 0 ? first : second
                group.addTask {
                    try await store.predictions.insert(batches: [BatchLogTests.batch(3, start: index * 3)]).flatMap { $0 }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(ids.sorted() == Array(1...24))
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<8 {
                let store = index % 2 == 0 ? first : second
                group.addTask { try await store.models.add(RepositoryChecks.version("m"), now: .now()).version }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(versions.sorted() == Array(1...8))
        await first.close()
        await second.close()
    }

    /// Leases are written and checked by the database's clock (review V, F6): a worker whose process clock runs an
    /// hour ahead does not take a live job from another instance, and a claim made by a worker whose clock runs an
    /// hour behind still holds for the lease's length from the database's now.
    @Test func leasesFollowTheDatabasesClock() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let location = try PostgresLocation(parsing: url)
        let behind = try await PostgresStore.open(location, maximumConnections: 2, trainingLease: .seconds(30))
        let ahead = try await PostgresStore.open(location, maximumConnections: 2, trainingLease: .seconds(30))
        let hour: Int64 = 3_600_000_000
        let late = Timestamp(microseconds: Timestamp.now().microseconds - hour)
        let early = Timestamp(microseconds: Timestamp.now().microseconds + hour)
        let job = try await behind.trainingJobs.insert(
            RepositoryChecks.request("m"), data: Array("a,y\n1,2\n".utf8), tenant: "t", createdBy: "u",
            status: .queued, now: late)
        let (claimed, _) = try #require(try await behind.trainingJobs.claimNext(now: late))
        #expect(claimed.id == job.id)
        let row = try TrainingJob.rowID(job.id)
        let left = try await behind.database.rows(
            """
            SELECT lease_expires_at - (extract(epoch from clock_timestamp()) * 1000000)::bigint
            FROM training_jobs WHERE id = \(row)
            """)
        let remaining = try #require(try left.first?.decode(Int64.self))
        #expect(remaining > 20_000_000 && remaining <= 30_000_000, "the lease ends \(remaining) µs from the database's now")
        #expect(try await ahead.trainingJobs.claimNext(now: early) == nil, "a skewed clock took a live job")
        await behind.close()
        await ahead.close()
    }

    /// A job whose lease ran out three times (it crashed or exhausted three instances in turn) ends failed,
    /// "interrupted 3 times", and is never claimed again (review V, F12); a graceful hand-back does not count.
    @Test func aJobInterruptedThreeTimesFails() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 2)
        let job = try await store.trainingJobs.insert(
            RepositoryChecks.request("m"), data: Array("a,y\n1,2\n".utf8), tenant: "t", createdBy: "u",
            status: .queued, now: .now())
        let row = try TrainingJob.rowID(job.id)
        // A graceful stop hands the job back without using an attempt.
        _ = try #require(try await store.trainingJobs.claimNext(now: .now()))
        try await store.trainingJobs.fail(row, reason: "interrupted", now: .now())
        for round in 1...3 {
            let (claimed, _) = try #require(try await store.trainingJobs.claimNext(now: .now()), "claim \(round)")
            #expect(claimed.id == job.id)
            // Its instance dies: the lease runs out.
            try await store.database.execute("UPDATE training_jobs SET lease_expires_at = 0 WHERE id = \(row)")
        }
        #expect(try await store.trainingJobs.claimNext(now: .now()) == nil, "claimed a fourth time")
        let ended = try await store.trainingJobs.job(row, tenant: nil)
        #expect(ended.status == .failed && ended.error == "interrupted 3 times", "\(ended.status) \(ended.error ?? "")")
        await store.close()
    }

    /// A row that does not decode, or another error that is not the network's, is an internal store error, never
    /// "cannot reach PostgreSQL" (review V, F5): it would read as an outage.
    @Test func aDecodingErrorIsNotAnOutage() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 1)
        let logger = PostgresStore.quietLogger
        do {
            _ = try await store.database.withConnection { connection in
                try await connection.rows("SELECT 'x'::text", logger: logger).first?.decode(Int64.self)
            }
            Issue.record("a text decoded as a number")
        } catch {
            #expect(error.code == .internal && error.message == "store: a stored row cannot be read", "\(error)")
        }
        struct Unforeseen: Error {}
        let other = PostgresDatabase.describe(Unforeseen(), location: store.database.location)
        #expect(other.code == .internal && !other.message.contains("cannot reach"), "\(other.message)")
        // The store is not taken for down.
        #expect(store.outage == nil)
        try await store.ping()
        await store.close()
    }

    /// A transaction whose connection the server ends (`pg_terminate_backend`, as a fast shutdown does to every
    /// session) fails at once as an outage, and the store takes requests again on a fresh connection. Before, the
    /// transaction helper sent its `ROLLBACK` down the terminated connection, where postgres-nio never answered it:
    /// the group commit waited forever, and every later prediction of that instance behind it (the hang of
    /// `ClusterTests.aDatabaseOutageUnderLoadIsAQuick503AndRecovers` in a CI run).
    @Test func aTransactionWhoseConnectionIsTerminatedEndsAtOnce() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 2)
        let logger = PostgresStore.quietLogger
        let database = store.database
        let outcome = try await within(seconds: 10) {
            _ = try await database.inTransaction { connection in
                try await connection.run("SELECT pg_terminate_backend(pg_backend_pid())", logger)
            }
        }
        guard let ended = outcome else {
            Issue.record("the transaction on a terminated connection did not end within 10 s")
            return
        }
        #expect((ended as? XalorraError)?.code == .serviceUnavailable, "\(String(describing: ended))")
        // Not a lasting outage: the next statement runs on a new connection (within the probe's interval).
        var answered = false
        for _ in 0..<50 where !answered {
            answered = (try? await store.ping()) != nil
            if !answered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(answered, "the store did not recover")
        await store.close()
    }

    /// A statement on a connection that has closed fails at once as an outage (postgres-nio would drop it
    /// unanswered: its caller waited forever), and the store's error for it is the 503, not an internal error.
    @Test func aStatementOnAClosedConnectionFailsAtOnce() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let connection = try await connect(url)
        try await connection.close()
        let outcome = try await within(seconds: 2) {
            _ = try await connection.rows("SELECT 1", PostgresStore.quietLogger)
        }
        guard let ended = outcome else {
            Issue.record("a statement on a closed connection was not answered within 2 s")
            return
        }
        guard let error = ended else {
            Issue.record("a statement ran on a closed connection")
            return
        }
        #expect(error is ConnectionClosed, "\(error)")
        #expect(PostgresDatabase.isConnectionFailure(error))
        let location = try PostgresLocation(parsing: url)
        #expect(PostgresDatabase.describe(ConnectionClosed(), location: location).code == .serviceUnavailable)
    }

    /// A diverged training's validation loss (NaN, infinity) is stored as none, as SQLite stores a NaN, so the job's
    /// JSON stays valid (review V, L2).
    @Test func aNonFiniteValidationLossIsStoredAsNone() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 2)
        let job = try await store.trainingJobs.insert(
            RepositoryChecks.request("m"), data: Array("a,y\n1,2\n".utf8), tenant: "t", createdBy: "u",
            status: .queued, now: .now())
        let row = try TrainingJob.rowID(job.id)
        _ = try #require(try await store.trainingJobs.claimNext(now: .now()))
        for loss in [Double.nan, .infinity] {
            let report = TrainingProgress(done: 1, total: 2, validationLoss: loss)
            #expect(try await RepositoryChecks.onThread { try store.trainingJobs.progress(row, report) })
            let stored = try await store.trainingJobs.job(row, tenant: nil)
            #expect(stored.validationLoss == nil, "\(loss) stored as \(String(describing: stored.validationLoss))")
        }
        await store.close()
    }

    /// Training workers whose start meets a database that cannot answer (here: the jobs table locked past the lock
    /// timeout) try again every second and then train the queued job, instead of leaving the instance without
    /// workers for its whole life (review V, L5).
    @Test func trainingWorkersRetryTheirStart() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 4)
        let job = try await store.trainingJobs.insert(
            RepositoryChecks.request("m"), data: Array("a,y\n1,2\n3,4\n".utf8), tenant: "t", createdBy: "u",
            status: .queued, now: .now())
        let row = try TrainingJob.rowID(job.id)
        let holder = try await connect(url)
        try await holder.query("BEGIN", logger: PostgresStore.quietLogger)
        try await holder.query("LOCK TABLE training_jobs IN ACCESS EXCLUSIVE MODE", logger: PostgresStore.quietLogger)
        let settings = try Settings.resolve(
            flags: [:], environment: ["HOME": "/tmp", "XALORRA_PREDICTION_LOG": "off"], dotEnv: [:])
        let warnings = Mutex<[String]>([])
        let api = LocalAPI(
            settings: settings, caller: Caller(user: "u", role: .admin, tenant: "t"), database: store,
            warn: { message in warnings.withLock { $0.append(message) } })
        let workers = TrainingWorkers(count: 1)
        let running = Task { await workers.run(api) }
        // The start fails on the lock (2 s lock timeout); then the lock goes away.
        try await Task.sleep(for: .seconds(3))
        _ = try await holder.query("COMMIT", logger: PostgresStore.quietLogger)
        try? await holder.close()
        var status = TrainingJob.Status.queued
        let started = ContinuousClock.now
        while status == .queued, ContinuousClock.now - started < .seconds(10) {
            try await Task.sleep(for: .milliseconds(100))
            status = try await store.trainingJobs.job(row, tenant: nil).status
        }
        workers.stop()
        running.cancel()
        await running.value
        #expect(status != .queued, "the queued job was never taken: \(warnings.withLock { $0 })")
        #expect(warnings.withLock { $0.contains { $0.contains("cannot start") } }, "the start did not fail: the test proves nothing")
        await store.close()
    }

    /// `serve`'s log says when its database cannot be reached and when it is back (review V, L3: the pool's log was
    /// discarded, an operator saw only 503s), with host and port and never the password.
    @Test func theServerLogTellsAnOutage() async throws {
        let own = try PostgresCluster.Own()
        defer { own.destroy() }
        let url = try own.freshDatabase("fault_log")
        let server = try await LiveServer(environment: ["XALORRA_DATABASE_URL": url], arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        #expect(try await server.request("POST", "/predict/live", token: token, body: #"{"features":[1]}"#).status == 200)
        try own.stop()
        let down = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[2]}"#)
        #expect(down.status == 503, "\(down.body)")
        #expect(try await server.log.waitFor("cannot be reached", seconds: 5), "\(server.log.text)")
        try own.start()
        var status = 0
        for _ in 0..<50 where status != 200 {
            try await Task.sleep(for: .milliseconds(100))
            status = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[3]}"#).status
        }
        #expect(status == 200)
        #expect(try await server.log.waitFor("reachable again", seconds: 5), "\(server.log.text)")
        #expect(server.log.text.contains("127.0.0.1:\(own.port)") && !server.log.text.contains(PostgresCluster.password))
    }
}
