import Foundation
import GRDB
import PostgresNIO
import Testing
@testable import XalorraCore
import XalorraML
import XalorraPostgres

/// The PostgreSQL repositories of the prediction log, the model registry, training jobs and chat (issue 14) against a
/// real server (``PostgresCluster``), each through the same checks as the SQLite repository it stands beside
/// (``RepositoryChecks``): the same answers to the same calls is what "the same product on PostgreSQL" means. Then
/// what only several writers on one database can show: ids, versions and claims that never collide across stores.
@Suite struct PostgresRepositoryTests {
    // MARK: The same checks on both stores

    /// SQLite passes the shared prediction-log checks (the reference behaviour).
    @Test func predictionLogOnSQLite() async throws { try await Self.with(.sqlite, RepositoryChecks.predictions) }

    /// PostgreSQL passes the same prediction-log checks: ids, pages, offsets inside blocks, keyset reads, filters,
    /// rows stored before blocks.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func predictionLogOnPostgres() async throws { try await Self.with(.postgres, RepositoryChecks.predictions) }

    /// SQLite passes the shared model-registry checks.
    @Test func modelRegistryOnSQLite() async throws { try await Self.with(.sqlite, RepositoryChecks.models) }

    /// PostgreSQL passes the same model-registry checks.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func modelRegistryOnPostgres() async throws { try await Self.with(.postgres, RepositoryChecks.models) }

    /// SQLite passes the shared training-job checks.
    @Test func trainingJobsOnSQLite() async throws { try await Self.with(.sqlite, RepositoryChecks.trainingJobs) }

    /// PostgreSQL passes the same training-job checks.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func trainingJobsOnPostgres() async throws { try await Self.with(.postgres, RepositoryChecks.trainingJobs) }

    /// SQLite passes the shared chat checks.
    @Test func chatOnSQLite() async throws { try await Self.with(.sqlite, RepositoryChecks.chat) }

    /// PostgreSQL passes the same chat checks.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func chatOnPostgres() async throws { try await Self.with(.postgres, RepositoryChecks.chat) }

    /// SQLite passes the shared user and refresh-token checks.
    @Test func usersOnSQLite() async throws { try await Self.with(.sqlite, RepositoryChecks.users) }

    /// PostgreSQL passes the same user checks: racing creates of one name or e-mail are 409s, never 500s, and a
    /// replayed refresh token revokes its whole chain.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func usersOnPostgres() async throws { try await Self.with(.postgres, RepositoryChecks.users) }

    // MARK: Several writers on one database

    /// Writers in two stores (two pools, as two instances) insert at once while a follower reads on by keyset from
    /// the last id it saw: every row gets exactly one id, ids run 1…N without a gap, each batch's are consecutive,
    /// and the follower, which never looks back, still sees every row once, in order (ids increase in commit order).
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func concurrentWritersNeverCollideOrSkip() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let first = try await Self.openPostgres(url), second = try await Self.openPostgres(url)
        let writers = 6, rounds = 15
        let expected = (0..<writers).reduce(0) { total, writer in total + (1...rounds).reduce(0) { $0 + 1 + ($1 + writer) % 7 } }
        async let followed: [Int64] = {
            var seen: [Int64] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while seen.count < expected, ContinuousClock.now < deadline {
                let page = try await first.predictions.records(after: seen.last ?? 0, matching: try LogQuery(limit: 50))
                seen += page.map(\.id)
                if page.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
            }
            return seen
        }()
        let batches = try await withThrowingTaskGroup(of: [[Int64]].self) { group in
            for writer in 0..<writers {
                let store = writer % 2 == 0 ? first : second
                group.addTask {
                    var ids: [[Int64]] = []
                    for round in 1...rounds {
                        let rows = 1 + (round + writer) % 7
                        ids += try await store.predictions.insert(batches: [
                            RepositoryChecks.batch(rows, start: writer * 1_000 + round * 10, tenant: "w\(writer)")
                        ])
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        for ids in batches { #expect(ids == Array(ids[0]...(ids[0] + Int64(ids.count) - 1))) }
        #expect(batches.flatMap { $0 }.sorted() == Array(1...Int64(expected)))
        #expect(try await followed == Array(1...Int64(expected)))
        #expect(try await second.predictions.newestID() == Int64(expected))
        await first.close()
        await second.close()
    }

    /// Versions added at once from two stores get distinct, consecutive numbers (never two of the same), and jobs
    /// claimed at once by workers of two stores are each claimed exactly once.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func versionsAndClaimsNeverCollide() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let first = try await Self.openPostgres(url), second = try await Self.openPostgres(url)
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<12 {
                let store = index % 2 == 0 ? first : second
                group.addTask { try await store.models.add(RepositoryChecks.version("m"), now: .now()).version }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(versions.sorted() == Array(1...12))
        for _ in 0..<10 {
            _ = try await first.trainingJobs.insert(
                RepositoryChecks.request("m"), data: Array("a,y\n1,2\n".utf8), tenant: "t", createdBy: "u",
                status: .queued, now: .now())
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                let store = worker % 2 == 0 ? first : second
                group.addTask {
                    var mine: [String] = []
                    while let (job, _) = try await store.trainingJobs.claimNext(now: .now()) { mine.append(job.id) }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.sorted() == (1...10).map { TrainingJob.publicID(Int64($0)) }.sorted())
        await first.close()
        await second.close()
    }

    /// A job whose holder stopped renewing its lease (its instance died) is claimed again by another store and
    /// completes there; the old holder, fenced by its token, can neither report progress nor store a version.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func anExpiredLeaseIsClaimedAgainAndTheOldHolderIsFenced() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let dead = try await Self.openPostgres(url), alive = try await Self.openPostgres(url)
        let job = try await dead.trainingJobs.insert(
            RepositoryChecks.request("m"), data: Array("a,y\n1,2\n".utf8), tenant: "t", createdBy: "u", status: .queued,
            now: .now())
        let row = try TrainingJob.rowID(job.id)
        let (claimed, _) = try #require(try await dead.trainingJobs.claimNext(now: .now()))
        #expect(claimed.id == job.id)
        // A live lease is not taken over.
        #expect(try await alive.trainingJobs.claimNext(now: .now()) == nil)
        let report = TrainingProgress(done: 1, total: 2, validationLoss: nil)
        #expect(try await RepositoryChecks.onThread { try dead.trainingJobs.progress(row, report) })
        // The holder's process dies: its lease is no longer renewed and runs out. (Its heartbeat, still beating here,
        // may renew it in between: then expire it again.)
        var reclaimed: (TrainingJob, [UInt8])?
        for _ in 0..<3 where reclaimed == nil {
            try await (dead as! PostgresStore).database.execute(
                "UPDATE training_jobs SET lease_expires_at = 0 WHERE id = \(row)")
            reclaimed = try await alive.trainingJobs.claimNext(now: .now())
        }
        let (again, data) = try #require(reclaimed)
        #expect(again.id == job.id && again.status == .running && again.progressDone == 0)
        #expect(data == Array("a,y\n1,2\n".utf8))
        #expect(try await RepositoryChecks.onThread { try dead.trainingJobs.progress(row, report) } == false)
        #expect(try await RepositoryChecks.onThread { try dead.trainingJobs.isRunning(row) } == false)
        #expect(try await dead.trainingJobs.succeed(row, version: RepositoryChecks.version("m"), rounds: 2, now: .now()) == nil)
        #expect(try await RepositoryChecks.onThread { try alive.trainingJobs.progress(row, report) })
        let stored = try #require(
            try await alive.trainingJobs.succeed(row, version: RepositoryChecks.version("m"), rounds: 2, now: .now()))
        #expect(stored.version == 1)
        #expect(try await alive.trainingJobs.job(row, tenant: nil).status == .succeeded)
        #expect(try await alive.models.versions(tenant: "t", name: "m").count == 1)
        await dead.close()
        await alive.close()
    }

    /// A job cancelled on one instance stops its holder on another: its next progress report says so, and the
    /// version it would store is not stored.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func cancellingOnOneInstanceStopsTheHolderOnAnother() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let holder = try await Self.openPostgres(url), other = try await Self.openPostgres(url)
        let job = try await holder.trainingJobs.insert(
            RepositoryChecks.request("m"), data: [], tenant: "t", createdBy: "u", status: .queued, now: .now())
        let row = try TrainingJob.rowID(job.id)
        _ = try #require(try await holder.trainingJobs.claimNext(now: .now()))
        let (first, second) = (
            TrainingProgress(done: 1, total: 3, validationLoss: 0.5), TrainingProgress(done: 2, total: 3, validationLoss: 0.4))
        #expect(try await RepositoryChecks.onThread { try holder.trainingJobs.progress(row, first) })
        #expect(try await other.trainingJobs.cancel(row, tenant: "t", now: .now()).status == .cancelled)
        #expect(try await RepositoryChecks.onThread { try holder.trainingJobs.progress(row, second) } == false)
        #expect(try await holder.trainingJobs.succeed(row, version: RepositoryChecks.version("m"), rounds: 3, now: .now()) == nil)
        #expect(try await other.models.currentVersion(tenant: "t", name: "m", version: nil) == nil)
        await holder.close()
        await other.close()
    }

    // MARK: Stores

    /// Runs `check` on a new, empty store of `backend`, and closes it.
    static func with(_ backend: TestBackend, _ check: (any Store, TestBackend) async throws -> Void) async throws {
        let store: any Store =
            switch backend {
            case .sqlite: try AppDatabase.inMemory()
            case .postgres: try await openPostgres(try await PostgresCluster.shared.freshDatabase())
            }
        do {
            try await check(store, backend)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// The store on the test cluster's database `url` (migrated).
    static func openPostgres(_ url: String) async throws -> any Store {
        try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 4)
    }
}
