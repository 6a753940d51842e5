import Foundation
import PostgresNIO
import Synchronization
import Testing
import XalorraCore
@testable import XalorraPostgres

/// Several `xalorra serve` instances on one PostgreSQL database (issue 14): what one instance commits or changes is
/// live on the others. A stream on B sees A's predictions (in id order, tenant-scoped, within a second, also after
/// B's listening connection is killed); the login limit holds across instances with one audit row; an account
/// disabled, a key revoked, a model version imported on A take effect on B far inside the caches' one second.
/// Skipped visibly without PostgreSQL (a failure under CI).
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct PostgresSharedStateTests: LiveServerSuite {
    /// How soon another instance's change must take effect: well inside the caches' one-second fallback, so that
    /// only the store's notification can explain it.
    static let invalidationBound: Duration = .milliseconds(500)

    /// Two (or more) instances on one fresh database.
    private func instances(_ count: Int, arguments: [String] = []) async throws -> (url: String, servers: [LiveServer]) {
        let url = try await PostgresCluster.shared.freshDatabase()
        var servers: [LiveServer] = []
        for _ in 0..<count {
            servers.append(try await LiveServer(environment: ["XALORRA_DATABASE_URL": url], arguments: arguments))
        }
        return (url, servers)
    }

    /// Runs `sql` on the database at `url` and returns the first column of each row as text.
    private func query(_ url: String, _ sql: String) async throws -> [String] {
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), migrate: false, maximumConnections: 1)
        defer { Task { await store.close() } }
        let rows = try await store.database.rows(PostgresQuery(unsafeSQL: sql))
        return try rows.map { try $0.decode(String?.self) ?? "" }
    }

    /// Polls `probe` until it holds; returns how long that took, or nil past `limit`.
    private func timeUntil(_ limit: Duration = .seconds(3), _ probe: () async throws -> Bool) async throws -> Duration? {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < limit {
            if try await probe() { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// The ids in a feed's events.
    private func ids(_ events: [String]) -> [Int] {
        events.compactMap { number(json($0)["id"]).map { Int($0) } }
    }

    /// The store's change events announce a committed prediction group at once (NOTIFY at commit, not the 2 s poll),
    /// and accounts', keys' and models' changes made by another process.
    @Test func storeEventsAnnounceCommitsAndChanges() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 2)
        let events = store.events.changes()
        let heard = Heard()
        let listener = Task { for await change in events { heard.add(change) } }
        defer {
            listener.cancel()
            Task { await store.close() }
        }
        #expect(try await timeUntil { heard.contains(.resync) } != nil, "the listener never started")
        let batch = BatchLogTests.batch(2, start: 1)
        let ids = try await store.predictions.insert(batches: [batch])
        let last = try #require(ids.first?.last)
        let delay = try await timeUntil { heard.contains(.predictions(through: last)) }
        #expect(delay.map { $0 < .milliseconds(500) } == true, "heard after \(String(describing: delay))")

        let cli = try BinaryRunner(database: url)
        let add = try cli.run(
            ["users", "add", "ana", "--email", "ana@x.io", "--name", "Ana", "--password-stdin"],
            stdin: Data("correct horse 1\n".utf8))
        #expect(add.status == 0, "\(add.stderr)")
        #expect(try await timeUntil(.seconds(1)) { heard.contains(.users) } != nil, "no users event")
        let created = try cli.run(["keys", "create", "k", "--user", "ana", "--scopes", "predict", "--json"])
        let keyID = try #require(json(created.stdout)["data"]?["id"]?.stringValue, "\(created)")
        #expect(try cli.run(["keys", "revoke", keyID]).status == 0)
        #expect(try await timeUntil(.seconds(1)) { heard.contains(.apiKeys) } != nil, "no keys event")
        #expect(!heard.contains(.models))
    }

    /// A live stream (SSE and WebSocket) on B sees the predictions made on A and C, tenant-scoped, in id order,
    /// every row within a second of its answer.
    @Test func streamsOnOneInstanceSeeTheOthersPredictions() async throws {
        let (_, servers) = try await instances(3, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let (a, b, c) = (servers[0], servers[1], servers[2])
        let mine = try a.token(["--user", "ana", "--tenant", "t1"])
        let theirs = try a.token(["--user", "bob", "--tenant", "t2"])
        let sse = FeedFollower(b, .serverSentEvents, token: mine)
        let socket = FeedFollower(b, .webSocket, token: mine)
        defer {
            sse.stop()
            socket.stop()
        }
        let sseOpen = try await sse.waitOpen()
        let socketOpen = try await socket.waitOpen()
        #expect(sseOpen && socketOpen)
        var answered: [Int: ContinuousClock.Instant] = [:]
        for round in 0..<20 {
            let producer = round % 2 == 0 ? a : c
            let answer = try await producer.request(
                "POST", "/predict/live", token: mine, body: #"{"instances":[[\#(round)],[\#(round + 1)]]}"#)
            #expect(answer.status == 200, "\(answer.body)")
            _ = try await producer.request("POST", "/predict/other", token: theirs, body: #"{"features":[1]}"#)
            answered[round] = .now
        }
        let expected = 40
        let seen = await sse.events(within: 5) { ids($0).count >= expected }
        let pushed = await socket.events(within: 5) { ids($0).count >= expected }
        let received = ContinuousClock.now
        #expect(ids(seen).count == expected, "\(seen.count) events: \(seen.suffix(3))")
        #expect(ids(seen) == ids(seen).sorted() && Set(ids(seen)).count == ids(seen).count, "\(ids(seen))")
        #expect(ids(pushed) == ids(seen), "the WebSocket saw \(ids(pushed))")
        #expect(!(seen + pushed).contains { $0.contains("\"t2\"") || $0.contains("\"other\"") })
        let first = try #require(answered[0])
        #expect(received - first < .seconds(6))
        // One more row, timed alone: on B within a second of A's answer.
        let check = FeedFollower(b, .serverSentEvents, token: mine)
        defer { check.stop() }
        #expect(try await check.waitOpen())
        let sent = ContinuousClock.now
        let answer = try await a.request("POST", "/predict/live", token: mine, body: #"{"features":[99]}"#)
        #expect(answer.status == 200)
        let one = await check.events(within: 1) { !ids($0).isEmpty }
        #expect(ids(one).count == 1, "no row within 1 s on B")
        #expect(ContinuousClock.now - sent < .seconds(1))
    }

    /// B's stream stays in id order while B itself predicts at the same time as A: a row B commits just after one of
    /// A's waits for it, none is lost or sent twice.
    @Test func ownAndOtherRowsInterleaveInIdOrder() async throws {
        let (_, servers) = try await instances(2, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let token = try servers[0].token(["--tenant", "t1"])
        let feed = FeedFollower(servers[1], .serverSentEvents, token: token)
        defer { feed.stop() }
        #expect(try await feed.waitOpen())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in servers {
                for _ in 0..<4 {
                    group.addTask {
                        for round in 0..<15 {
                            _ = try await producer.request(
                                "POST", "/predict/live", token: token, body: #"{"features":[\#(round)]}"#)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seen = ids(await feed.events(within: 5) { ids($0).count >= 120 })
        #expect(seen.count == 120, "\(seen.count) rows")
        #expect(seen == seen.sorted() && Set(seen).count == seen.count, "\(seen)")
    }

    /// When B's listening connection is killed (`pg_terminate_backend`), B listens again and its stream still gets
    /// every row A commits meanwhile, none twice, in id order.
    @Test func aKilledListenerSkipsNothing() async throws {
        let (url, servers) = try await instances(2, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let (a, b) = (servers[0], servers[1])
        let token = try a.token(["--tenant", "t1"])
        let feed = FeedFollower(b, .serverSentEvents, token: token)
        defer { feed.stop() }
        #expect(try await feed.waitOpen())
        _ = try await a.request("POST", "/predict/live", token: token, body: #"{"features":[1]}"#)
        #expect(ids(await feed.events(within: 2) { ids($0).count >= 1 }).count == 1)
        let killed = try await query(url, """
            SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity
            WHERE datname = current_database() AND query ILIKE 'LISTEN%'
            """)
        #expect(killed.count == 2 && killed.allSatisfy { $0 == "true" }, "listeners killed: \(killed)")
        for round in 0..<30 {
            _ = try await a.request("POST", "/predict/live", token: token, body: #"{"features":[\#(round)]}"#)
        }
        let seen = ids(await feed.events(within: 5) { ids($0).count >= 31 })
        #expect(seen.count == 31, "\(seen)")
        #expect(seen == seen.sorted() && Set(seen).count == seen.count, "\(seen)")
        let listening = try await timeUntil {
            try await query(url, "SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'") == ["2"]
        }
        #expect(listening != nil, "the listeners did not come back")
    }

    /// `xalorra logs --tail` on PostgreSQL (a process of its own) prints a prediction made on an instance within a
    /// second (it hears the commit; its safety-net poll alone would take up to 2 s), and exits 0 on SIGINT.
    @Test func tailOnPostgresFollowsAnInstance() async throws {
        let (url, servers) = try await instances(1, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let (follower, out, _) = try BinaryRunner(database: url).start(["logs", "--tail"])
        let collected = OutputCollector(out.fileHandleForReading)
        try await Task.sleep(for: .milliseconds(800))
        let token = try servers[0].token()
        for round in 0..<3 {
            let sent = ContinuousClock.now
            let answer = try await servers[0].request(
                "POST", "/predict/tailed\(round)", token: token, body: #"{"features":[7,8]}"#)
            #expect(answer.status == 200)
            #expect(try await collected.waitFor("model=tailed\(round)", seconds: 3))
            #expect(ContinuousClock.now - sent < .seconds(1), "round \(round): \(ContinuousClock.now - sent)")
            try await Task.sleep(for: .milliseconds(300))
        }
        kill(follower.processIdentifier, SIGINT)
        follower.waitUntilExit()
        #expect(follower.terminationStatus == 0)
    }

    /// The login limit (5 per 15 minutes per client) holds across instances: attempts alternating between A and B
    /// are counted together, the sixth is 429 on either, the headers agree, and one audit row records the refusal.
    @Test func theLoginLimitHoldsAcrossInstances() async throws {
        let (_, servers) = try await instances(2)
        defer { for server in servers { server.stop() } }
        // The login budget is a fixed 15-minute window: eight attempts straddling its end would start a new count.
        let intoWindow = Int(Date().timeIntervalSince1970) % 900
        if intoWindow > 900 - 20 { try await Task.sleep(for: .seconds(900 - intoWindow + 1)) }
        var statuses: [Int] = []
        var remaining: [String] = []
        for attempt in 0..<8 {
            let answer = try await login(servers[attempt % 2], "victim", password: "guess-\(attempt)")
            statuses.append(answer.status)
            remaining.append(answer.headers["X-RateLimit-Remaining"].first ?? "?")
            #expect(answer.headers["RateLimit-Policy"].first == #""login";q=5;w=900"#)
        }
        #expect(statuses == [401, 401, 401, 401, 401, 429, 429, 429], "\(statuses)")
        #expect(remaining == ["4", "3", "2", "1", "0", "0", "0", "0"], "\(remaining)")
        let audit = try servers[0].cli.run(["audit", "--action", "users.login", "--json"])
        #expect(audit.status == 0, "\(audit)")
        let rows = json(audit.stdout)["data"]?.arrayValue ?? []
        #expect(rows.count == 1, "\(audit.stdout)")
        #expect(rows.first?["outcome"]?.stringValue == "failure: RATE_LIMIT_EXCEEDED")
    }

    /// An API key's own rate (`3/m`) holds across instances: its requests alternating between A and B are refused
    /// from the fourth on, whichever instance gets it (each instance used to count its own: six answered).
    @Test func aKeysRateHoldsAcrossInstances() async throws {
        let (_, servers) = try await instances(2, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let admin = try servers[0].token(["--user", "root", "--role", "admin"])
        let created = try await servers[0].request(
            "POST", "/keys", token: admin, body: #"{"name":"paced","scopes":["predict"],"rate":"3/m"}"#)
        #expect(created.status == 201, "\(created.body)")
        let key = try #require(json(created.body)["data"]?["key"]?.stringValue, "\(created.body)")
        var statuses: [Int] = []
        for attempt in 0..<6 {
            let answer = try await servers[attempt % 2].request(
                "POST", "/predict/xgb-v2", body: #"{"features":[1,2,3]}"#, headers: [("X-API-Key", key)])
            statuses.append(answer.status)
        }
        #expect(statuses == [200, 200, 200, 429, 429, 429], "\(statuses)")
    }

    /// An account disabled on A is refused on B at once (its standing was cached on B a moment before).
    @Test func aDisabledAccountIsRefusedOnTheOtherInstance() async throws {
        let (_, servers) = try await instances(2, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let (a, b) = (servers[0], servers[1])
        #expect(try await register(a, "dora", password: "correct-horse-1").status == 201)
        let signedIn = try await login(a, "dora", password: "correct-horse-1")
        let token = try #require(json(signedIn.body)["data"]?["access_token"]?.stringValue, "\(signedIn.body)")
        let admin = try a.token(["--user", "root", "--role", "admin"])
        #expect(try await b.request("GET", "/users/profile", token: token).status == 200)
        let disabled = try await a.request("PATCH", "/admin/users/dora", token: admin, body: #"{"is_active":false}"#)
        #expect(disabled.status == 200, "\(disabled.body)")
        let delay = try await timeUntil { [401, 403].contains(try await b.request("GET", "/users/profile", token: token).status) }
        #expect(delay.map { $0 < Self.invalidationBound } == true, "refused on B after \(String(describing: delay))")
    }

    /// An API key revoked on A is refused on B at once (it was verified and cached on B a moment before).
    @Test func aRevokedKeyIsRefusedOnTheOtherInstance() async throws {
        let (_, servers) = try await instances(2, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let (a, b) = (servers[0], servers[1])
        let admin = try a.token(["--user", "root", "--role", "admin"])
        let created = try await a.request("POST", "/keys", token: admin, body: #"{"name":"ci","scopes":["predict"]}"#)
        #expect(created.status == 201, "\(created.body)")
        let key = try #require(json(created.body)["data"]?["key"]?.stringValue)
        let id = try #require(json(created.body)["data"]?["id"]?.stringValue, "\(created.body)")
        func predict() async throws -> Int {
            try await b.request("POST", "/predict/m", body: #"{"features":[1]}"#, headers: [("X-API-Key", key)]).status
        }
        #expect(try await predict() == 200)
        #expect(try await a.request("DELETE", "/keys/\(id)", token: admin).status == 200)
        let delay = try await timeUntil { try await predict() == 401 }
        #expect(delay.map { $0 < Self.invalidationBound } == true, "refused on B after \(String(describing: delay))")
    }

    /// A model version imported on A answers on B at once (B had just resolved the name: first to the baseline, then
    /// to version 1).
    @Test func aNewModelVersionIsUsedOnTheOtherInstance() async throws {
        let (_, servers) = try await instances(2, arguments: ["--rate-limit", "off"])
        defer { for server in servers { server.stop() } }
        let (a, b) = (servers[0], servers[1])
        let token = try a.token(["--user", "ana", "--tenant", "acme"])
        func linear(_ intercept: Int) -> String {
            #"{"format":"xalorra-model","kind":"linear","features":["a"],"#
                + #""model":{"type":"linear","link":"identity","intercept":\#(intercept),"weights":[1]}}"#
        }
        func prediction() async throws -> Double? {
            number(json(try await b.request("POST", "/predict/shared", token: token, body: #"{"features":[1]}"#).body)["prediction"])
        }
        #expect(try await prediction() != 101)
        for intercept in [100, 200] {
            let imported = try await a.request("POST", "/models/shared/import", token: token, body: linear(intercept))
            #expect(imported.status == 201, "\(imported.body)")
            let delay = try await timeUntil { try await prediction() == Double(intercept + 1) }
            #expect(delay.map { $0 < Self.invalidationBound } == true, "v\(intercept / 100) on B after \(String(describing: delay))")
        }
    }
}

/// What a test's events consumer has heard.
private final class Heard: Sendable {
    private let changes = Mutex<[StoreChange]>([])
    func add(_ change: StoreChange) { changes.withLock { $0.append(change) } }
    func contains(_ change: StoreChange) -> Bool { changes.withLock { $0.contains(change) } }
}
