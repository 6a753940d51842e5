import Foundation
import Testing
import XalorraCore
@testable import XalorraPostgres

/// The PostgreSQL store itself: selecting it, refusing bad URLs without echoing a password, reaching the server,
/// migrating once under concurrency, and accounts, tokens, keys and the audit log round-tripping through the
/// binary. Skipped visibly without PostgreSQL (a failure under CI).
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct PostgresStoreTests {
    /// A secret that must never appear in any output.
    static let secretPassword = "s3cr3t-Pa55word-XYZ"

    /// Malformed URLs are usage errors (exit 2) naming the problem, and never print the password they carry.
    @Test func badURLsAreRefusedWithoutThePassword() throws {
        let cli = try BinaryRunner()
        let pw = Self.secretPassword
        let cases = [
            "mysql://u:\(pw)@h/db", "postgres://u:\(pw)@h:99999/db", "postgres://u:\(pw)@h:abc/db",
            "postgres://u:\(pw)@/db", "postgres://:\(pw)@h/db", "postgres://u:\(pw)@h/db?sslmode=verify-full",
            "postgres://u:\(pw)@h/db?application_name=x", "postgres://u:%ZZ\(pw)@h/db", "postgres://u:\(pw)@h/d%00b",
            "postgres://u:\(pw)@h/db#frag", "postgres://u:\(pw)@[::1/db", "postgres://u:\(pw)@h o st/db", "sqlite:",
            "postgres://u:\(pw)@h/a/b",
        ]
        for url in cases {
            for arguments in [["users", "list"], ["--database", url, "users", "list"]] {
                let result = try cli.run(
                    arguments, environment: arguments.first == "--database" ? [:] : ["XALORRA_DATABASE_URL": url])
                #expect(result.status == 2, "\(url): \(result.stderr)")
                #expect(result.stderr.contains("XALORRA_DATABASE_URL"), "\(url): \(result.stderr)")
                #expect(!(result.stdout + result.stderr).contains(pw), "\(url) printed its password")
            }
        }
    }

    /// The parser decodes each part and keeps the defaults libpq has (port 5432, database = user, sslmode prefer).
    @Test func urlsParse() throws {
        let full = try PostgresLocation(parsing: "postgresql://al%40ice:p%3Aw%2Fd@db.example:6543/my%20db?sslmode=require")
        #expect(full.user == "al@ice" && full.password == "p:w/d" && full.host == "db.example")
        #expect(full.port == 6543 && full.database == "my db" && full.tls == .require)
        #expect(!full.redacted.contains("p:w") && full.redacted == "postgres://al%40ice@db.example:6543/my%20db")
        let short = try PostgresLocation(parsing: "postgres://bob@[::1]")
        #expect(short.host == "::1" && short.port == 5432 && short.database == "bob" && short.tls == .prefer)
        #expect(short.password == nil)
        #expect(try DatabaseLocation.parse(nil) == .sqlite(path: nil))
        #expect(try DatabaseLocation.parse("sqlite:/tmp/x.db") == .sqlite(path: "/tmp/x.db"))
    }

    /// A server that does not answer is `cannot reach PostgreSQL at host:port`, exit 1, quickly, without the password.
    @Test func unreachableServerIsAClearError() throws {
        let port = try PostgresCluster.unusedPort()
        let cli = try BinaryRunner(database: "postgres://u:\(Self.secretPassword)@127.0.0.1:\(port)/db?sslmode=disable")
        let started = ContinuousClock.now
        let result = try cli.run(["users", "list"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach PostgreSQL at 127.0.0.1:\(port)"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains(Self.secretPassword))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// A wrong password is refused by the server and reported without the password that was tried.
    @Test func wrongPasswordIsReportedWithoutIt() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
            .replacingOccurrences(of: PostgresCluster.password, with: Self.secretPassword)
        let result = try BinaryRunner(database: url).run(["users", "list"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("PostgreSQL"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains(Self.secretPassword))
    }

    /// Three processes migrating a new database at the same moment apply each migration once, and all succeed.
    @Test func concurrentMigrationsApplyOnce() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let cli = try BinaryRunner(database: url)
        let started = try (0..<3).map { _ in try cli.start(["store", "migrate", "--json"]) }
        var applied: [String] = []
        for (process, out, err) in started {
            let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(stderr)")
            let body = try JSONParser.parse(stdout)
            for case .string(let name) in body["applied"]?.arrayValue ?? [] { applied.append(name) }
            #expect(body["current"]?.stringValue == PostgresSchema.migrations.last?.name)
        }
        // Which process applies which is a race; that each is applied once by exactly one of them is not.
        #expect(applied.sorted() == PostgresSchema.migrations.map(\.name).sorted(), "each migration applied exactly once: \(applied)")
        let again = try cli.run(["store", "migrate"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("applied: none (up to date)"), "\(again.stdout)")
    }

    /// `store info` names the backend and the location without the password, and counts what was stored.
    @Test func storeInfoCountsRows() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let cli = try BinaryRunner(database: url)
        #expect(try cli.run(["users", "add", "alice", "--email", "alice@x.io", "--name", "Alice", "--password-stdin"], stdin: Data("correct horse 1\n".utf8)).status == 0)
        let info = try cli.run(["store", "info", "--json"])
        #expect(info.status == 0, "\(info.stderr)")
        let body = try JSONParser.parse(info.stdout)
        #expect(body["backend"]?.stringValue == "postgres")
        #expect(body["location"]?.stringValue?.hasPrefix("postgres://postgres@127.0.0.1:") == true)
        #expect(!info.stdout.contains(PostgresCluster.password))
        #expect(body["counts"]?["users"]?.numberValue?.doubleValue == 1)
        #expect(body["schema"]?["pending"]?.arrayValue?.isEmpty == true)
        let sqlite = try BinaryRunner().run(["store", "info"])
        #expect(sqlite.status == 0 && sqlite.stdout.contains("sqlite"), "\(sqlite.stderr)")
    }

    /// Accounts, logins, refresh-token rotation and replay, API keys and the audit log work offline on PostgreSQL
    /// and print what SQLite prints.
    @Test func usersTokensAndKeysRoundTrip() async throws {
        let postgres = try BinaryRunner(database: try await PostgresCluster.shared.freshDatabase())
        let sqlite = try BinaryRunner()
        let script: [([String], String?)] = [
            (["users", "add", "alice", "--email", "Alice@X.io", "--name", "Alice A", "--role", "admin", "--password-stdin"], "correct horse 1\n"),
            (["users", "add", "ALICE", "--email", "other@x.io", "--name", "A", "--password-stdin"], "correct horse 2\n"),
            (["users", "add", "bob", "--email", "alice@x.io", "--name", "B", "--password-stdin"], "correct horse 3\n"),
            (["users", "list"], nil), (["users", "list", "--search", "ALI"], nil), (["users", "show", "Alice"], nil),
            (["users", "update", "alice", "--name", "Alice B"], nil), (["users", "disable", "alice"], nil),
            (["users", "enable", "alice"], nil),
            (["keys", "create", "ci", "--user", "alice", "--scopes", "predict"], nil), (["keys", "list"], nil),
            (["audit", "--action", "USERS"], nil), (["audit", "--user", "ALICE"], nil),
            (["users", "delete", "alice", "--yes"], nil), (["users", "show", "alice"], nil),
        ]
        let masks = [
            #"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, #"xal_[0-9a-f]{16}(_[0-9A-Za-z]{43})?"#, #"\d+ (s|min|h|d) ago"#,
        ]
        func masked(_ text: String) -> String {
            masks.reduce(text) { $0.replacingOccurrences(of: $1, with: "<m>", options: .regularExpression) }
        }
        for (arguments, stdin) in script {
            let a = try postgres.run(arguments, stdin: stdin.map { Data($0.utf8) })
            let b = try sqlite.run(arguments, stdin: stdin.map { Data($0.utf8) })
            #expect(a.status == b.status, "\(arguments): \(a.stderr) vs \(b.stderr)")
            #expect(masked(a.stdout) == masked(b.stdout), "\(arguments)")
            #expect(masked(a.stderr) == masked(b.stderr), "\(arguments)")
        }
    }

    /// A live server on PostgreSQL logs in, rotates a refresh token once, refuses its replay, and takes an API key.
    @Test func serverLoginRefreshAndKeys() async throws {
        let server = try await TestBackend.run(.postgres) { try await LiveServer() }
        defer { server.stop() }
        #expect(server.cli.environment["XALORRA_DATABASE_URL"]?.hasPrefix("postgres://") == true)
        func send(_ method: String, _ path: String, token: String? = nil, _ body: String? = nil) async throws
            -> (status: Int, body: JSONValue)
        {
            let response = try await server.request(method, path, token: token, body: body)
            return (response.status, (try? JSONParser.parse(response.body)) ?? .null)
        }
        let register = try await send(
            "POST", "/users/register",
            #"{"username":"carol","email":"carol@x.io","nama_lengkap":"Carol","password":"correct horse 1"}"#)
        #expect(register.status == 201, "\(register.body)")
        let login = try await send("POST", "/users/login", #"{"username":"CAROL","password":"correct horse 1"}"#)
        #expect(login.status == 200, "\(login.body)")
        let refresh = try #require(login.body["data"]?["refresh_token"]?.stringValue ?? login.body["refresh_token"]?.stringValue)
        let rotated = try await send("POST", "/users/refresh", "{\"refresh_token\":\"\(refresh)\"}")
        #expect(rotated.status == 200, "\(rotated.body)")
        let replay = try await send("POST", "/users/refresh", "{\"refresh_token\":\"\(refresh)\"}")
        #expect(replay.status == 401, "\(replay.body)")
        let admin = try server.token(["--role", "admin"])
        let key = try await send("POST", "/keys", token: admin, #"{"name":"ci","user":"carol","scopes":["predict"]}"#)
        #expect(key.status == 201, "\(key.body)")
        let health = try await send("GET", "/health/detailed")
        #expect(health.status == 200, "\(health.body)")
    }
}

/// ``ContractTests`` on PostgreSQL: the same bodies, with the live server and `LocalAPI` on a fresh database.
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct ContractPostgresTests {
    /// ``ContractTests/sameAnswers()`` on PostgreSQL.
    @Test func sameAnswers() async throws { try await TestBackend.run(.postgres) { try await ContractTests().sameAnswers() } }
    /// ``ContractTests/sameUserAnswers()`` on PostgreSQL.
    @Test func sameUserAnswers() async throws {
        try await TestBackend.run(.postgres) { try await ContractTests().sameUserAnswers() }
    }
    /// ``ContractTests/sameChatAnswers()`` on PostgreSQL.
    @Test func sameChatAnswers() async throws {
        try await TestBackend.run(.postgres) { try await ContractTests().sameChatAnswers() }
    }
}

/// ``DifferentialTests`` on PostgreSQL: every command prints the same offline and remotely on a PostgreSQL store.
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct DifferentialPostgresTests {
    /// ``DifferentialTests/everyExamplePrintsTheSame()`` on PostgreSQL.
    @Test func everyExamplePrintsTheSame() async throws {
        try await TestBackend.run(.postgres) { try await DifferentialTests().everyExamplePrintsTheSame() }
    }
    /// ``DifferentialTests/batchesPrintTheSame()`` on PostgreSQL.
    @Test func batchesPrintTheSame() async throws {
        try await TestBackend.run(.postgres) { try await DifferentialTests().batchesPrintTheSame() }
    }
    /// ``DifferentialTests/baselineNamesTheEmptyCell()`` on PostgreSQL.
    @Test func baselineNamesTheEmptyCell() async throws {
        try await TestBackend.run(.postgres) { try await DifferentialTests().baselineNamesTheEmptyCell() }
    }
    /// ``DifferentialTests/batchMatrixPrintsTheSame()`` on PostgreSQL.
    @Test func batchMatrixPrintsTheSame() async throws {
        try await TestBackend.run(.postgres) { try await DifferentialTests().batchMatrixPrintsTheSame() }
    }
    /// ``DifferentialTests/partsCountRowsFromTheFile()`` on PostgreSQL.
    @Test func partsCountRowsFromTheFile() async throws {
        try await TestBackend.run(.postgres) { try await DifferentialTests().partsCountRowsFromTheFile() }
    }
    /// ``DifferentialTests/permissionsCompareWhereTheyMeanTheSame()`` on PostgreSQL.
    @Test func permissionsCompareWhereTheyMeanTheSame() async throws {
        try await TestBackend.run(.postgres) { try await DifferentialTests().permissionsCompareWhereTheyMeanTheSame() }
    }
}
