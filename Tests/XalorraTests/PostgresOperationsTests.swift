import Foundation
import GRDB
import PostgresNIO
import Testing
@testable import XalorraCore
import XalorraML
@testable import XalorraPostgres

/// Operating a PostgreSQL store (issues 14, 16, 18): `store copy` from SQLite, `logs prune` and the server's retention,
/// and drift, each answering as on SQLite. Skipped visibly without PostgreSQL (a failure under CI).
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct PostgresOperationsTests {
    private static let day: Int64 = 86_400
    private static let password = "s3cr3t-Pa55word-XYZ"

    // MARK: Helpers

    /// A batch of `rows` rows of `model` in `tenant`, logged `daysAgo` days ago; row `i` has the features `[tag, i]`.
    private static func batch(
        model: String, daysAgo: Int64, rows: Int = 1, tag: Int = 0, tenant: String = "default"
    ) -> PredictionBatch {
        var inputs = FeatureMatrix()
        for index in 0..<rows { inputs.append(row: [.int(Int64(tag)), .double(Double(index) / 4)]) }
        return PredictionBatch(
            timestamp: Timestamp.now().adding(seconds: -daysAgo * day), tenant: tenant, userID: "tester",
            model: model, version: "baseline", inputs: inputs,
            predictions: (0..<rows).map { .int(Int64(tag + $0)) }, latencyMicros: 1)
    }

    private static func sqlitePath(_ cli: BinaryRunner) -> String { cli.home.appendingPathComponent("xalorra.db").path }

    /// The PostgreSQL store at `url`, for a test's own reads and writes.
    private static func open(_ url: String) async throws -> PostgresStore {
        try await PostgresStore.open(try PostgresLocation(parsing: url), maximumConnections: 2)
    }

    /// Every prediction record of every tenant, oldest first.
    private static func records(_ repository: any PredictionRepository) async throws -> [PredictionRecord] {
        var query = try LogQuery(model: nil)
        query.limit = LogQuery.maxLimit
        var out: [PredictionRecord] = []
        while true {
            let page = try await repository.records(after: out.last?.id ?? 0, matching: query)
            out += page
            if page.count < query.limit { return out }
        }
    }

    private static func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `text` with the times a run makes for itself masked.
    private static func masked(_ text: String) -> String {
        text.replacingOccurrences(
            of: #""(until|cutoff|seconds|at)":("[^"]+"|[0-9.]+)"#, with: #""$1":"<t>""#, options: .regularExpression)
            .replacingOccurrences(of: #"\d{4}-\d\d-\d\dT[0-9:.]+Z"#, with: "<t>", options: .regularExpression)
    }

    /// A SQLite store with something in every table: two accounts (one in tenant `acme`), a refresh token, a
    /// deleted name, a conversation, two models (one trained twice: versions, profiles, finished jobs) and a job
    /// left running, two keys, audit rows, and 6,120 prediction rows: blocks, one-row records and rows from before
    /// blocks, in two tenants.
    private static func populate(_ cli: BinaryRunner) async throws {
        var training = "a,b,y\n"
        for index in 0..<200 {
            let (a, b) = (Double(index % 20) / 20, Double((index * 7) % 13))
            training += "\(a),\(b),\(3 * a - b)\n"
        }
        let data = try cli.write("train.csv", training)
        let quick = ["--trees", "5", "--max-depth", "3", "--threads", "1", "--valid-fraction", "0"]
        let steps: [([String], String?)] = [
            (["users", "add", "jek", "--email", "jek@x.io", "--name", "Jek Doe", "--password-stdin"], "jek-password-1\n"),
            (["users", "add", "ann", "--email", "ann@acme.io", "--name", "Ann", "--tenant", "acme", "--role", "admin",
              "--password-stdin"], "ann-password-1\n"),
            (["users", "add", "gone", "--email", "gone@x.io", "--name", "Gone", "--password-stdin"], "gone-password-1\n"),
            (["users", "delete", "gone", "--yes"], nil),
            (["train", "price", "--data", data, "--target", "y"] + quick, nil),
            (["train", "price", "--data", data, "--target", "y"] + quick, nil),
            (["train", "lin", "--data", data, "--target", "y", "--kind", "linear"], nil),
            (["keys", "create", "ci-bot", "--scopes", "predict,logs:read"], nil),
            (["keys", "create", "reader", "--scopes", "logs:read"], nil),
            (["chat", "hello there"], nil),
            (["chat", "--last", "and then?"], nil),
        ]
        for (arguments, stdin) in steps {
            let result = try cli.run(arguments, stdin: stdin.map { Data($0.utf8) })
            try #require(result.status == 0, "\(arguments): \(result.stderr)")
        }
        let database = try AppDatabase.open(path: sqlitePath(cli))
        try await database.writing { db in
            // Rows logged before blocks (no block: JSON text), the oldest ids.
            for id in 1...20 {
                try db.execute(
                    sql: """
                        INSERT INTO predictions (id, timestamp, tenant, user_id, model, version, input, prediction,
                            latency_us) VALUES (?, ?, 'default', 'old', 'price', '1', ?, ?, 5)
                        """,
                    arguments: [id, Timestamp.now().adding(seconds: -3_600).microseconds, "[0.5,\(id % 13)]", "\(id)"])
            }
            let user = try Int64.fetchOne(db, sql: "SELECT id FROM users WHERE username = 'jek'") ?? 0
            try db.execute(
                sql: "INSERT INTO refresh_tokens (jti, user_id, issued_at, expires_at) VALUES ('jti-1', ?, 1, 2000000000)",
                arguments: [user])
            try db.execute(
                sql: """
                    INSERT INTO training_jobs (tenant, model, kind, target, rows, hyperparameters, data, status,
                        created_by, created_at, started_at) VALUES ('default', 'late', 'gbdt', 'y', 3, '{}', x'00',
                        'running', 'root', 1, 2)
                    """)
        }
        var batches: [PredictionBatch] = []
        for index in 0..<100 { batches.append(batch(model: "price", daysAgo: 0, tag: index)) }
        batches.append(batch(model: "price", daysAgo: 0, rows: 3_000, tag: 1))
        batches.append(batch(model: "price", daysAgo: 0, rows: 2_000, tag: 2, tenant: "acme"))
        batches.append(batch(model: "lin", daysAgo: 0, rows: 1_000, tag: 3))
        _ = try await SQLitePredictionRepository(database: database).insert(batches: batches)
    }

    /// What the commands print about a store (offline), for comparing two stores.
    private static func views(_ cli: BinaryRunner) throws -> [String: String] {
        let conversation = try cli.run(["chat", "list", "--json"]).stdout.firstMatch(of: /conv_\d+/).map { String($0.output) }
        var out: [String: String] = [:]
        for arguments in [
            ["users", "list", "--json"], ["users", "list", "--search", "acme"], ["models", "list"],
            ["models", "show", "price"], ["models", "show", "price@1", "--json"], ["keys", "list", "--json"],
            ["audit", "--json", "--limit", "500"], ["chat", "list", "--json"],
            ["chat", "show", conversation ?? "conv_1", "--json"], ["logs", "--limit", "1000", "--json"],
            ["logs", "--limit", "1000", "--offset", "5000", "--json"], ["logs", "--tenant", "acme", "--limit", "5", "--json"],
            ["models", "drift", "price", "--since", "2020-01-01T00:00:00Z", "--json"],
        ] {
            let result = try cli.run(arguments)
            // Only the drift report's `until` and the envelope's `timestamp` (when each side answered) may differ.
            let stdout = result.stdout.replacingOccurrences(
                of: #""until":"[^"]+""#, with: #""until":"<t>""#, options: .regularExpression)
                .replacingOccurrences(
                    of: #""timestamp":"[^"]+"\}\s*$"#, with: #""timestamp":"<t>"}"#, options: .regularExpression)
            out[arguments.joined(separator: " ")] = "\(result.status)\n\(stdout)\n\(result.stderr)"
        }
        return out
    }

    // MARK: store copy

    /// A populated SQLite store copied into an empty database: every table's count verified, every command prints
    /// the same on both stores, the running job arrives failed, a second copy copies nothing and says so, and new
    /// ids (predictions, accounts, audit rows) continue after the copied ones.
    @Test func copyMovesEveryTableAndCommandsAnswerTheSame() async throws {
        let source = try BinaryRunner()
        try await Self.populate(source)
        let url = try await PostgresCluster.shared.freshDatabase()
        let copy = try source.run(["store", "copy", "--from", "sqlite:" + Self.sqlitePath(source), "--to", url, "--json"])
        try #require(copy.status == 0, "\(copy.stderr)")
        let summary = try Self.json(copy.stdout)
        #expect(summary["verified"] == .bool(true) && summary["resumed"] == .bool(false))
        #expect(summary["prediction_rows"]?["destination"] == .int(6_120), "\(copy.stdout)")
        guard case .array(let items)? = summary["tables"] else { Issue.record("no tables: \(copy.stdout)"); return }
        let tables = items.compactMap { $0["table"]?.stringValue }
        #expect(tables == StoreCopyPlan.tables, "\(tables)")
        #expect(!(copy.stdout + copy.stderr).contains(PostgresCluster.password))

        let target = try BinaryRunner(database: url)
        let before = try Self.views(source)
        let after = try Self.views(target)
        for key in before.keys.sorted() { #expect(before[key] == after[key], "\(key):\n\(before[key]!)\n---\n\(after[key]!)") }
        let jobs = try target.run(["train", "jobs", "--json"]).stdout
        #expect(jobs.contains(StoreCopyPlan.unfinishedJob), "\(jobs)")

        let again = try source.run(["store", "copy", "--from", "sqlite:" + Self.sqlitePath(source), "--to", url])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("nothing new to copy"), "\(again.stdout)")

        let store = try await Self.open(url)
        defer { Task { await store.close() } }
        let copiedIDs = try await Self.records(store.predictions).map(\.id)
        #expect(try target.run(["predict", "price", "0.5", "3"]).status == 0)
        let newest = try await Self.records(store.predictions).last
        #expect(newest?.id == (copiedIDs.max() ?? 0) + 1, "new ids continue after the copied ones")
        #expect(try target.run(
            ["users", "add", "new", "--email", "new@x.io", "--name", "New", "--password-stdin"],
            stdin: Data("new-password-1\n".utf8)).status == 0)
        // `gone` was deleted in the source, the newest account: its id is never handed out again.
        let used = try await DatabaseQueue(path: Self.sqlitePath(source)).read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'users'") ?? 0
        }
        let rows = try await store.database.rows("SELECT id FROM users WHERE username = 'new'")
        #expect(try rows.first?.decode(Int64.self) == used + 1, "ids continue after \(used)")
    }

    /// A copy killed halfway leaves whole pages; running it again finishes it with every count verified.
    @Test func interruptedCopyFinishesOnRerun() async throws {
        let source = try BinaryRunner()
        let database = try AppDatabase.open(path: Self.sqlitePath(source))
        let batches = (0..<40_000).map { Self.batch(model: "m", daysAgo: 0, tag: $0) }
        _ = try await SQLitePredictionRepository(database: database).insert(batches: batches)
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await Self.open(url)
        defer { Task { await store.close() } }
        let arguments = ["store", "copy", "--from", "sqlite:" + Self.sqlitePath(source), "--to", url, "--json"]
        let (process, _, _) = try source.start(arguments)
        var partial: Int64 = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning, ContinuousClock.now < deadline {
            partial = try await store.database.rows("SELECT count(*) FROM predictions").first?.decode(Int64.self) ?? 0
            if partial > 0 { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(partial > 0 && partial < 40_000, "the copy was killed halfway (\(partial) records copied)")
        let rerun = try source.run(arguments)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let summary = try Self.json(rerun.stdout)
        #expect(summary["verified"] == .bool(true) && summary["resumed"] == .bool(true), "\(rerun.stdout)")
        #expect(try await Self.records(store.predictions).count == 40_000)
    }

    /// Refusals: a destination holding other data, a missing file, PostgreSQL as the source, bad and unreachable
    /// URLs; each exits 2 (usage) or 1 with a clear message, never printing a password, and writes nothing.
    @Test func copyRefusals() async throws {
        let source = try BinaryRunner()
        _ = try await SQLitePredictionRepository(database: try AppDatabase.open(path: Self.sqlitePath(source)))
            .insert(batches: [Self.batch(model: "m", daysAgo: 0)])
        let from = "sqlite:" + Self.sqlitePath(source)
        let occupied = try await PostgresCluster.shared.freshDatabase()
        let other = try BinaryRunner(database: occupied)
        #expect(try other.run(
            ["users", "add", "zed", "--email", "zed@x.io", "--name", "Zed", "--password-stdin"],
            stdin: Data("zed-password-1\n".utf8)).status == 0)
        let refused = try source.run(["store", "copy", "--from", from, "--to", occupied])
        #expect(refused.status == 1 && refused.stderr.contains("already holds data (table users)"), "\(refused.stderr)")
        let occupiedStore = try await Self.open(occupied)
        defer { Task { await occupiedStore.close() } }
        #expect(try await Self.records(occupiedStore.predictions).isEmpty, "nothing was copied")

        let port = try PostgresCluster.unusedPort()
        let pw = Self.password
        let cases: [([String], Int32, String)] = [
            (["--from", "sqlite:/nonexistent/x.db", "--to", occupied], 1, "no SQLite store at /nonexistent/x.db"),
            (["--from", "postgres://u:\(pw)@h/db", "--to", occupied], 2, "into PostgreSQL only"),
            (["--from", from, "--to", "sqlite:/tmp/x.db"], 2, "into PostgreSQL only"),
            (["--from", from, "--to", "postgres://u:\(pw)@h:99999/db"], 2, "--to is not valid"),
            (["--from", from, "--to", "mysql://u:\(pw)@h/db"], 2, "--to is not valid"),
            (["--from", from], 2, "needs --to"),
            (["--to", occupied], 2, "needs --from"),
            (["--from", from, "--to", "postgres://u:\(pw)@127.0.0.1:\(port)/db?sslmode=disable"], 1,
             "cannot reach PostgreSQL at 127.0.0.1:\(port)"),
        ]
        for (arguments, status, message) in cases {
            let result = try source.run(["store", "copy"] + arguments)
            #expect(result.status == status && result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!(result.stdout + result.stderr).contains(pw), "\(arguments) printed a password")
        }
    }

    // MARK: Retention

    /// `logs prune` on PostgreSQL deletes what it deletes on SQLite for the same log (by model, dry, all; single
    /// rows and blocks; old records after new ones), keeps the newest record, and audits the same.
    @Test func pruneOnPostgresEqualsSQLite() async throws {
        let lite = try BinaryRunner()
        let url = try await PostgresCluster.shared.freshDatabase()
        let postgres = try BinaryRunner(database: url)
        var batches: [PredictionBatch] = []
        for index in 0..<700 { batches.append(Self.batch(model: "a", daysAgo: 100, tag: index)) }
        batches.append(Self.batch(model: "a", daysAgo: 1, tag: 900))
        batches.append(Self.batch(model: "a", daysAgo: 95, rows: 3_000, tag: 5))
        batches.append(Self.batch(model: "b", daysAgo: 95, rows: 10, tag: 6))
        batches.append(Self.batch(model: "a", daysAgo: 10, rows: 2, tag: 7))
        batches.append(Self.batch(model: "b", daysAgo: 60, rows: 1, tag: 8))
        _ = try await SQLitePredictionRepository(database: try AppDatabase.open(path: Self.sqlitePath(lite)))
            .insert(batches: batches)
        let store = try await Self.open(url)
        defer { Task { await store.close() } }
        _ = try await store.predictions.insert(batches: batches)
        for arguments in [
            ["logs", "prune", "--older-than", "90d", "--model", "a", "--dry-run", "--json"],
            ["logs", "prune", "--older-than", "90d", "--model", "a", "--json"], ["logs", "prune", "--older-than", "90d"],
            ["logs", "prune", "--older-than", "30d", "--json"], ["logs", "--limit", "1000", "--json"],
            ["audit", "--action", "logs.prune", "--json"], ["logs", "prune", "--older-than", "1s", "--json"],
            ["logs", "--json"],
        ] {
            let (one, two) = (try lite.run(arguments), try postgres.run(arguments))
            #expect(one.status == 0 && two.status == 0, "\(arguments): \(one.stderr) \(two.stderr)")
            #expect(Self.masked(one.stdout) == Self.masked(two.stdout), "\(arguments):\n\(one.stdout)\n---\n\(two.stdout)")
        }
        #expect(try await Self.records(store.predictions).count == 1, "the newest record is kept")
    }

    /// `serve` on PostgreSQL with XALORRA_LOG_RETENTION and XALORRA_AUDIT_RETENTION deletes old predictions and
    /// audit rows soon after it starts, keeps the rest, and no longer warns that it ignores them.
    @Test func serveAppliesRetentionOnPostgres() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let store = try await Self.open(url)
        defer { Task { await store.close() } }
        _ = try await store.predictions.insert(batches: [
            Self.batch(model: "a", daysAgo: 30, rows: 5), Self.batch(model: "a", daysAgo: 2, rows: 1, tag: 9),
        ])
        for daysAgo: Int64 in [400, 10] {
            try await store.audit.append(
                at: Timestamp.now().adding(seconds: -daysAgo * Self.day), actor: "old", keyID: nil, origin: "local",
                action: "users.create", object: "u\(daysAgo)", outcome: "success")
        }
        let server = try await LiveServer(environment: [
            "XALORRA_DATABASE_URL": url, "XALORRA_LOG_RETENTION": "7d", "XALORRA_AUDIT_RETENTION": "365d",
        ])
        defer { server.stop() }
        let deadline = ContinuousClock.now + .seconds(20)
        var left: [PredictionRecord] = []
        repeat {
            try await Task.sleep(for: .milliseconds(200))
            left = try await Self.records(store.predictions)
        } while left.count > 1 && ContinuousClock.now < deadline
        #expect(left.count == 1 && left.first?.input == [.int(9), .double(0)], "\(left.count) left")
        let audit = try await store.audit.list(try AuditQuery(user: "old"))
        #expect(audit.items.map(\.object) == ["u10"])
        #expect(!server.log.text.contains("not yet available"), "\(server.log.text)")
    }

    // MARK: Drift

    /// A store with `price` trained, rows logged like its training rows and shifted ones, on `cli`'s store.
    private static func driftWorld(_ cli: BinaryRunner) throws {
        var training = "a,b,y\n"
        var live = "a,b\n"
        var shifted = "a,b\n"
        for index in 0..<400 {
            let (a, b) = (Double(index % 20) / 20, Double((index * 7) % 13))
            training += "\(a),\(b),\(3 * a - b)\n"
            live += "\(a),\(b)\n"
            shifted += "\(a + 5),\(b)\n"
        }
        for command in [
            ["train", "price", "--data", try cli.write("train.csv", training), "--target", "y", "--trees", "10",
             "--max-depth", "3", "--threads", "1", "--valid-fraction", "0"],
            ["predict", "price", "--file", try cli.write("rows.csv", live)],
            ["predict", "price", "--file", try cli.write("shifted.csv", shifted)],
        ] {
            let result = try cli.run(command, directory: cli.home)
            try #require(result.status == 0, "\(command): \(result.stderr)")
        }
    }

    /// A version number beyond PostgreSQL's `integer` (drift's `?version=` allows 18 digits) is looked up as no
    /// profile, never a crash (an `Int32(...)` of it trapped the server).
    @Test func profileLookupOfAHugeVersionIsNoProfile() async throws {
        let store = try await Self.open(try await PostgresCluster.shared.freshDatabase())
        defer { Task { await store.close() } }
        for version in [2_147_483_648, 999_999_999_999_999_999] {
            let profile = try await store.profiles.profile(tenant: "default", name: "price", version: version)
            #expect(profile == nil)
        }
    }

    /// Training on PostgreSQL keeps the version's profile; `models drift` answers on PostgreSQL what it answers on
    /// SQLite for the same model and log (table and JSON); the route and the `/metrics` gauges work there too.
    @Test func driftOnPostgresEqualsSQLite() async throws {
        let lite = try BinaryRunner()
        let url = try await PostgresCluster.shared.freshDatabase()
        let postgres = try BinaryRunner(database: url)
        try Self.driftWorld(lite)
        try Self.driftWorld(postgres)
        let since = Timestamp.now().adding(seconds: -3_600).iso8601
        for arguments in [
            ["models", "drift", "price", "--since", since], ["models", "drift", "price@1", "--since", since, "--json"],
            ["models", "drift", "nope"],
        ] {
            let (one, two) = (try lite.run(arguments), try postgres.run(arguments))
            #expect(one.status == two.status && one.stderr == two.stderr, "\(arguments): \(one.stderr) | \(two.stderr)")
            #expect(Self.masked(one.stdout) == Self.masked(two.stdout), "\(arguments):\n\(one.stdout)\n---\n\(two.stdout)")
        }
        let report = try Self.json(postgres.run(["models", "drift", "price", "--json"]).stdout)
        #expect(report["data"]?["rows"] == 800 && report["data"]?["verdict"] == "drifted", "\(report)")

        let server = try await LiveServer(home: postgres)
        defer { server.stop() }
        let token = try server.token(["--role", "admin"])
        let route = try await server.request("GET", "/models/price/drift?since=2h", token: token)
        #expect(route.status == 200 && route.body.contains(#""rows":800"#), "\(route.body)")
        var scrape = ""
        for _ in 0..<50 {
            scrape = try await server.request("GET", "/metrics", token: token).body
            if scrape.contains("xalorra_prediction_psi{") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(scrape.contains(#"xalorra_feature_psi{tenant="default",model="price",feature="a"} "#), "\(scrape)")
        #expect(scrape.contains(#"xalorra_feature_psi{tenant="default",model="price",feature="b"} 0.0"#))
    }
}
