import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import XalorraCore
@testable import XalorraPostgres

/// Several real `xalorra serve` instances on one PostgreSQL database (issue 14): tokens minted by one work on the
/// others, a training job survives its instance's `kill -9`, killing one instance under load loses no acknowledged
/// prediction, and a database outage under load is a quick 503 on every instance, which recover by themselves
/// (on a cluster of the test's own, never the shared one). Skipped visibly without PostgreSQL (a failure under CI).
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct ClusterTests {
    private static let arguments = ["--rate-limit", "off"]

    /// `count` instances on the database `url`, all with ``LiveServer/secret`` as `SECRET_KEY`, each in its own home.
    private static func instances(
        _ url: String, count: Int = 3, environment: [String: String] = [:]
    ) async throws -> [LiveServer] {
        var servers: [LiveServer] = []
        for _ in 0..<count {
            servers.append(try await LiveServer(
                environment: environment.merging(["XALORRA_DATABASE_URL": url]) { $1 }, arguments: arguments))
        }
        return servers
    }

    private func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The inputs of every prediction of `model` stored in the database `url`, as compact JSON arrays (`[0,3,17]`),
    /// read through the PostgreSQL store's repository.
    private static func storedInputs(_ url: String, model: String) async throws -> [String] {
        let store = try await PostgresStore.open(try PostgresLocation(parsing: url), migrate: false, maximumConnections: 2)
        var query = try LogQuery(model: model)
        query.limit = LogQuery.maxLimit
        var records: [PredictionRecord] = []
        do {
            while true {
                let page = try await store.predictions.records(after: records.last?.id ?? 0, matching: query)
                records += page
                if page.count < query.limit { break }
            }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        return records.map { record in
            var text: [UInt8] = []
            JSONWriter.write(cells: record.input, into: &text)
            return String(decoding: text, as: UTF8.self)
        }
    }

    /// Milliseconds since `start`.
    private static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        return Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// Which instance a load generator must no longer send to (-1: none).
    private final class Dead: Sendable {
        let index = Atomic<Int>(-1)
    }

    /// An access token and a refresh token minted by one instance are accepted by the others: one secret, one store
    /// (a refresh token rotated on one instance is spent on all).
    @Test func tokensFromOneInstanceWorkOnTheOthers() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let servers = try await Self.instances(url)
        defer { for server in servers { server.stop() } }
        let credentials = #"{"username":"ana","password":"rahasia-ana"}"#
        let registered = try await servers[0].request(
            "POST", "/users/register",
            body: #"{"username":"ana","email":"ana@x.io","nama_lengkap":"Ana","password":"rahasia-ana"}"#)
        #expect(registered.status == 201, "\(registered.body)")
        let login = try await servers[1].request("POST", "/users/login", body: credentials)
        #expect(login.status == 200, "\(login.body)")
        let pair = try json(login.body)["data"]
        let access = try #require(pair?["access_token"]?.stringValue)
        let refresh = try #require(pair?["refresh_token"]?.stringValue)
        for (index, server) in servers.enumerated() {
            let whoami = try await server.request("GET", "/whoami", token: access)
            #expect(whoami.status == 200 && whoami.body.contains("ana"), "instance \(index): \(whoami.body)")
        }
        let rotated = try await servers[2].request("POST", "/users/refresh", body: #"{"refresh_token":"\#(refresh)"}"#)
        #expect(rotated.status == 200, "\(rotated.body)")
        let rotatedAccess = try #require(try json(rotated.body)["data"]?["access_token"]?.stringValue)
        #expect(try await servers[0].request("GET", "/whoami", token: rotatedAccess).status == 200)
        let replay = try await servers[0].request("POST", "/users/refresh", body: #"{"refresh_token":"\#(refresh)"}"#)
        #expect(replay.status == 401, "a refresh token rotated on one instance was accepted by another: \(replay.body)")
    }

    /// `XALORRA_TRAINING_LEASE` takes a duration from 3 s to a day; anything else is a usage error naming it.
    @Test func trainingLeaseSettingIsChecked() throws {
        let cli = try BinaryRunner()
        for bad in ["1s", "0", "abc", "2d", "-5s"] {
            let result = try cli.run(["routes"], environment: ["XALORRA_TRAINING_LEASE": bad])
            #expect(result.status == 2 && result.stderr.contains("XALORRA_TRAINING_LEASE"), "\(bad): \(result.stderr)")
        }
        #expect(try cli.run(["routes"], environment: ["XALORRA_TRAINING_LEASE": "2m"]).status == 0)
    }

    /// A training job whose instance is killed (`kill -9`) mid-run is claimed by another instance once its lease
    /// (3 s here, `XALORRA_TRAINING_LEASE`) runs out, and completes there, storing its version once.
    @Test func aTrainingJobSurvivesItsInstancesKill() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let environment = ["XALORRA_TRAINING_LEASE": "3s"]
        // The first instance alone, so that it is the one that claims the job.
        let first = try await LiveServer(
            environment: environment.merging(["XALORRA_DATABASE_URL": url]) { $1 }, arguments: Self.arguments)
        defer { first.stop() }
        let token = try first.token()
        var data = "a,b,c,y\n"
        for index in 0..<5_000 { data += "\(index % 97),\(index % 13),\(index % 7),\(index % 5)\n" }
        let queued = try await first.request(
            "POST", "/train/survivor?target=y&trees=400&min_samples_leaf=1&learning_rate=0.05", token: token, body: data)
        #expect(queued.status == 202, "\(queued.body)")
        let id = try #require(try json(queued.body)["data"]?["id"]?.stringValue)
        func job(on server: LiveServer) async throws -> JSONValue? {
            try json(try await server.request("GET", "/train/jobs/\(id)", token: token).body)["data"]
        }
        var running = false
        var firstStart: JSONValue?
        for _ in 0..<300 where !running {
            let state = try await job(on: first)
            running = state?["status"] == "running" && state?["progress"]?["done"] != .int(0)
            firstStart = state?["started_at"]
            if !running { try await Task.sleep(for: .milliseconds(50)) }
        }
        try #require(running, "the job never ran on the first instance")
        let others = try await Self.instances(url, count: 2, environment: environment)
        defer { for server in others { server.stop() } }
        first.crash()
        let killed = ContinuousClock.now

        // Claimed again (a new start) once the 3 s lease has run out: well before the default 30 s would.
        var reclaimed: Int?
        for _ in 0..<300 where reclaimed == nil {
            let state = try await job(on: others[0])
            if state?["started_at"] != firstStart || state?["status"] != "running" {
                reclaimed = Self.milliseconds(since: killed)
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect((reclaimed ?? .max) < 10_000, "reclaimed after \(String(describing: reclaimed)) ms")

        var final: JSONValue?
        for _ in 0..<1_200 {
            let state = try await job(on: others[0])
            if let status = state?["status"]?.stringValue, status != "running", status != "queued" {
                final = state
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(final?["status"] == "succeeded", "\(String(describing: final))")
        #expect(final?["version"] == "1" || final?["version"] == .int(1), "\(String(describing: final))")
        let model = try json(try await others[1].request("GET", "/models/survivor", token: token).body)
        #expect(model["data"]?["latest_version"] == "1", "the job stored more than one version: \(model)")
        guard case .array(let versions)? = model["data"]?["versions"] else {
            Issue.record("no versions: \(model)")
            return
        }
        #expect(versions.count == 1, "\(model)")
    }

    /// `kill -9` of one of three instances under a prediction load on all three: every prediction answered 200 is in
    /// the store, the other two go on answering 200 throughout, and nothing but the killed one's cut requests fails.
    @Test func killingOneInstanceUnderLoadLosesNoAcknowledgedPrediction() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let servers = try await Self.instances(url)
        defer { for server in servers { server.stop() } }
        let token = try servers[0].token()
        let dead = Dead()
        let load = LoadGenerator(clients: 6) { client, sequence in
            var target = (client + sequence) % 3
            if target == dead.index.load(ordering: .acquiring) { target = (target + 1) % 3 }
            let answer = try await servers[target].request(
                "POST", "/predict/m", token: token, body: #"{"features":[\#(target),\#(client),\#(sequence)]}"#)
            return (answer.status, "\(target) \(answer.body)")
        }
        _ = try await load.wait(seconds: 30) { $0.count { $0.status == 200 } >= 150 }
        dead.index.store(1, ordering: .releasing)
        servers[1].crash()
        let atKill = load.results.count
        _ = try await load.wait(seconds: 30) { $0.count >= atKill + 150 }
        let outcomes = await load.stop()

        func target(_ outcome: LoadGenerator.Outcome) -> Int { Int(outcome.body.prefix { $0 != " " }) ?? -1 }
        let answered = outcomes.filter { $0.status == 200 }
        #expect(answered.count >= 300, "too few predictions to prove anything: \(answered.count)")
        // Only requests cut by the kill (in flight to the killed instance, at most a couple per client) failed.
        let failed = outcomes.filter { $0.status != 200 }
        #expect(failed.allSatisfy { $0.status == nil } && failed.count <= 12, "\(failed.prefix(3))")
        // Answers of the two survivors after the kill (an unanswered request has no target in its outcome).
        let afterKill = outcomes.suffix(from: atKill).filter { target($0) == 0 || target($0) == 2 }
        #expect(afterKill.count >= 100 && afterKill.allSatisfy { $0.status == 200 }, "the survivors did not keep answering")
        let expected = Set(answered.map { "[\(target($0)),\($0.client),\($0.sequence)]" })
        let stored = try await Self.storedInputs(url, model: "m")
        let lost = expected.subtracting(stored)
        #expect(lost.isEmpty, "\(lost.count) answered but not stored, e.g. \(lost.sorted().prefix(5))")
        #expect(Set(stored).count == stored.count, "a prediction was stored twice")
    }

    /// PostgreSQL stopped under a load on three instances (a cluster of this test's own): requests answer 503
    /// `SERVICE_UNAVAILABLE` with `Retry-After` within 2 s, never hang, never 500; `/health` and `/v2/health/ready` say
    /// not ready and `/health/detailed` says why (host and port, never the password); `GET /` still answers; every
    /// instance answers 200 again within 2 s of the database's return; every prediction answered 200 is stored.
    @Test
    func aDatabaseOutageUnderLoadIsAQuick503AndRecovers() async throws {
        let own = try PostgresCluster.Own()
        defer { own.destroy() }
        let url = try own.freshDatabase("cluster_outage")
        let servers = try await Self.instances(url)
        defer { for server in servers { server.stop() } }
        let token = try servers[0].token()
        let load = LoadGenerator(clients: 6) { client, sequence in
            let target = (client + sequence) % 3
            let started = ContinuousClock.now
            let answer = try await servers[target].request(
                "POST", "/predict/m", token: token, body: #"{"features":[\#(target),\#(client),\#(sequence)]}"#)
            return (answer.status, "\(target) \(Self.milliseconds(since: started)) \(answer.body)")
        }
        _ = try await load.wait(seconds: 30) { $0.count { $0.status == 200 } >= 100 }
        try own.stop()
        let atStop = load.results.count
        try await Task.sleep(for: .seconds(1))

        for (index, server) in servers.enumerated() {
            let started = ContinuousClock.now
            let predict = try await server.request("POST", "/predict/m", token: token, body: #"{"features":[1]}"#)
            #expect(Self.milliseconds(since: started) < 2_000, "instance \(index) took too long to refuse")
            #expect(predict.status == 503 && predict.body.contains("SERVICE_UNAVAILABLE"), "\(index): \(predict.body)")
            #expect(predict.headers["Retry-After"].first == "1", "\(index): \(predict.headers)")
            #expect(try json(predict.body)["error"]?["retry_after"] == .int(1), "\(predict.body)")
            let health = try await server.request("GET", "/health")
            #expect(health.status == 503 && health.body.contains("unhealthy"), "\(index): \(health.body)")
            let ready = try await server.request("GET", "/v2/health/ready")
            #expect(ready.status == 503, "\(index): \(ready.body)")
            let detailed = try await server.request("GET", "/health/detailed")
            #expect(detailed.status == 503, "\(index): \(detailed.body)")
            let why = try json(detailed.body)["dependencies"]?["database"]?["error"]?.stringValue ?? ""
            #expect(why.hasPrefix("database unreachable at 127.0.0.1:\(own.port)"), "\(index): \(detailed.body)")
            #expect(!detailed.body.contains(PostgresCluster.password))
            let root = try await server.request("GET", "/")
            #expect(root.status == 200, "\(index): GET / needs no database: \(root.body)")
        }
        try await Task.sleep(for: .seconds(1))

        try own.start()
        let back = ContinuousClock.now
        var recovered: [Int: Int] = [:]
        while recovered.count < servers.count, Self.milliseconds(since: back) < 10_000 {
            for (index, server) in servers.enumerated() where recovered[index] == nil {
                let answer = try await server.request("POST", "/predict/m", token: token, body: #"{"features":[2]}"#)
                if answer.status == 200 { recovered[index] = Self.milliseconds(since: back) }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(recovered.count == servers.count && recovered.values.allSatisfy { $0 <= 2_000 }, "\(recovered)")
        try await Task.sleep(for: .milliseconds(500))
        let outcomes = await load.stop()
        for server in servers { #expect(try await server.request("GET", "/health").status == 200) }

        func fields(_ outcome: LoadGenerator.Outcome) -> (target: Int, milliseconds: Int) {
            let parts = outcome.body.split(separator: " ", maxSplits: 2)
            return (parts.count > 1 ? Int(parts[0]) ?? -1 : -1, parts.count > 1 ? Int(parts[1]) ?? -1 : -1)
        }
        #expect(outcomes.allSatisfy { $0.status == 200 || $0.status == 503 }, "\(outcomes.filter { $0.status != 200 && $0.status != 503 }.prefix(3))")
        let refused = outcomes.filter { $0.status == 503 }
        #expect(outcomes.suffix(from: atStop).contains { $0.status == 503 }, "no request saw the outage")
        #expect(refused.allSatisfy { $0.body.contains("SERVICE_UNAVAILABLE") }, "\(refused.prefix(3))")
        let slow = refused.filter { fields($0).milliseconds > 2_000 }
        #expect(slow.isEmpty, "503s slower than 2 s: \(slow.prefix(3))")
        let answered = outcomes.filter { $0.status == 200 }
        let expected = Set(answered.map { "[\(fields($0).target),\($0.client),\($0.sequence)]" })
        let stored = try await Self.storedInputs(url, model: "m")
        let lost = expected.subtracting(stored)
        #expect(lost.isEmpty, "\(lost.count) answered but not stored, e.g. \(lost.sorted().prefix(5))")
    }

    /// Debian's nginx, when installed.
    static let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// `method path` on `url` without a ``LiveServer``: status and body.
    private static func call(
        _ method: String, _ url: String, token: String? = nil, body: String? = nil
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// `scripts/cluster.sh` starts PostgreSQL, three instances and nginx round robin on loopback and prints the URL:
    /// an account registered through nginx logs in on one instance, its token predicts through nginx (each
    /// instance in turn), `/health` answers; `scripts/cluster.sh stop` stops it all and removes its directory.
    @Test(.enabled(if: PythonClients.isCI || nginx != nil, "nginx is not installed (apt-get install nginx)"))
    func clusterScriptServesThroughNginx() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("xalorra-cluster-test-\(getpid()).state")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/cluster.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["XALORRA_BIN"] = BinaryRunner.binary.path
        environment["XALORRA_CLUSTER_STATE"] = state.path
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        process.standardInput = FileHandle.nullDevice
        let output = OutputCollector(out.fileHandleForReading)
        try process.run()
        func stop() throws -> Int32 {
            let stopper = Process()
            stopper.executableURL = URL(fileURLWithPath: "/bin/bash")
            stopper.arguments = [root.appendingPathComponent("scripts/cluster.sh").path, "stop"]
            stopper.environment = environment
            stopper.standardOutput = FileHandle.nullDevice
            stopper.standardError = FileHandle.nullDevice
            try stopper.run()
            stopper.waitUntilExit()
            return stopper.terminationStatus
        }
        var stopped = false
        defer { if !stopped { _ = try? stop() } }
        try #require(try await output.waitFor("URL: http://", seconds: 120), "\(output.text)")
        let text = output.text
        let found = try #require(text.range(of: #"URL: http://127\.0\.0\.1:\d+"#, options: .regularExpression))
        let url = String(text[found].dropFirst(5))
        let instances = text.split(separator: "\n").first { $0.contains("instances:") }.map { line in
            line.split(separator: " ").filter { $0.hasPrefix("http://") }.map(String.init)
        } ?? []
        #expect(instances.count == 3, "\(text)")
        let directory = text.split(separator: "\n").first { $0.contains("files:") }
            .flatMap { $0.split(separator: " ").first { $0.hasPrefix("/") } }.map(String.init)

        let account = #"{"username":"nginx_user","password":"rahasia-nginx"}"#
        let registered = try await Self.call(
            "POST", url + "/users/register",
            body: #"{"username":"nginx_user","email":"n@x.io","nama_lengkap":"N","password":"rahasia-nginx"}"#)
        #expect(registered.status == 201, "\(registered.body)")
        let login = try await Self.call("POST", try #require(instances.first) + "/users/login", body: account)
        let token = try #require(try json(login.body)["data"]?["access_token"]?.stringValue, "\(login.body)")
        for index in 0..<6 {
            let answer = try await Self.call("POST", url + "/predict/xgb-v2", token: token, body: #"{"features":[\#(index),1,2]}"#)
            #expect(answer.status == 200 && answer.body.contains(#""prediction":\#(index + 3)"#), "\(answer.body)")
        }
        let health = try await Self.call("GET", url + "/health")
        #expect(health.status == 200 && health.body.contains("healthy"), "\(health.body)")

        #expect(try stop() == 0)
        stopped = true
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning, "the cluster script did not exit")
        #expect(!FileManager.default.fileExists(atPath: state.path))
        if let directory { #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) was left behind") }
        await #expect(throws: (any Error).self) { _ = try await Self.call("GET", url + "/health") }
    }
}
