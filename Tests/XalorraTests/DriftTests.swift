import Foundation
import Testing
@testable import XalorraCore
@testable import XalorraML

/// Drift (issue 16): the population stability index on known values, a trained version's training profile, the
/// logged rows binned against it (none shifted: PSI 0; shifted: flagged), missing shares, tenant scoping, the CLI,
/// the route, offline equal to remote, and the `/metrics` gauges.
@Suite struct DriftTests {
    // MARK: Helpers

    /// Rows of `a` (0…0.95 in steps of 0.05), `b` (0…12) and a target `y = 3a - b`: deterministic, every value
    /// repeated, so a replay of the training rows bins exactly as training did.
    static func rows(_ count: Int, shiftA: Double = 0, missingA: Bool = false) -> FeatureMatrix {
        var matrix = FeatureMatrix(columns: ["a", "b"])
        for index in 0..<count {
            let a = Double(index % 20) / 20 + shiftA
            let b = Double((index * 7) % 13)
            matrix.append(row: [missingA && index % 2 == 0 ? nil : .double(a), .double(b)])
        }
        return matrix
    }

    /// The training rows: ``rows(_:shiftA:missingA:)`` with the target.
    static func training(_ count: Int = 400) -> FeatureMatrix {
        var matrix = FeatureMatrix(columns: ["a", "b", "y"])
        let features = rows(count)
        for index in 0..<count {
            let cells = Array(features.row(index))
            let y = 3 * (cells[0]?.doubleValue ?? 0) - (cells[1]?.doubleValue ?? 0)
            matrix.append(row: cells + [.double(y)])
        }
        return matrix
    }

    /// An API on `database` acting as `caller`.
    static func api(_ database: AppDatabase, _ caller: Caller) throws -> LocalAPI {
        let settings = try Settings.resolve(
            flags: [:], environment: ["HOME": "/tmp", "XALORRA_PREDICTION_LOG": "off"], dotEnv: [:])
        return LocalAPI(settings: settings, caller: caller, database: database)
    }

    static let admin = Caller(user: "root", role: .admin, tenant: "default")
    static let eve = Caller(user: "eve", role: .user, tenant: "other")

    /// Trains `name` (gbdt, 10 small trees) on ``training(_:)`` through the API.
    static func train(_ api: LocalAPI, _ name: String, kind: ModelKind = .gbdt) async throws {
        var parameters = Hyperparameters()
        parameters.trees = 10
        parameters.maxDepth = 3
        parameters.minSamplesLeaf = 5
        parameters.validFraction = 0
        let request = TrainingRequest(model: name, kind: kind, target: "y", data: training(), parameters: parameters)
        let job = try await api.train(request) { _ in }
        #expect(job.status == .succeeded)
    }

    // MARK: The index itself

    /// PSI of known shares: equal shares give 0; 50/50 against 70/30 gives 0.2·ln(1.4) + 0.2·ln(5/3) ≈ 0.169460; an
    /// empty expected bin is floored at 0.0001 rather than dividing by zero.
    @Test func stabilityIndexOfKnownShares() {
        #expect(PopulationStability.index(expected: [0.25, 0.25, 0.5], actual: [0.25, 0.25, 0.5]) == 0)
        let moved = PopulationStability.index(expected: [0.5, 0.5], actual: [0.7, 0.3])
        #expect(abs(moved - (0.2 * log(1.4) + 0.2 * log(0.5 / 0.3))) < 1e-12)
        #expect(abs(moved - 0.169460) < 1e-6)
        let empty = PopulationStability.index(expected: [1, 0], actual: [0.5, 0.5])
        #expect(abs(empty - (-0.5 * log(0.5) + (0.5 - 0.0001) * log(0.5 / 0.0001))) < 1e-12)
        #expect(DriftReport.Verdict(psi: 0.0999) == .stable)
        #expect(DriftReport.Verdict(psi: 0.1) == .moderate)
        #expect(DriftReport.Verdict(psi: 0.2) == .drifted)
        #expect(DriftReport.Verdict(psi: nil) == .noData)
    }

    /// 1…100 falls into ten deciles of 10 % each; NaN is counted as missing, in the slot after the value bins.
    @Test func decilesAndMissingShare() {
        let values = (1...100).map(Double.init) + [.nan, .nan]
        let distribution = BinnedDistribution(values: values, maxBins: 10)
        #expect(distribution.cuts.count == 9)
        #expect(distribution.shares.allSatisfy { abs($0 - 10.0 / 102) < 1e-12 })
        #expect(abs(distribution.missingShare - 2.0 / 102) < 1e-12)
        #expect(distribution.slot(.nan) == 10)
        #expect(distribution.slot(1) == 0 && distribution.slot(100) == 9 && distribution.slot(1e9) == 9)
        #expect(distribution.slot(-1e9) == 0)
    }

    /// Counting the training rows themselves against their profile gives PSI 0 for every feature and the predictions;
    /// shifting one feature flags it (and only it).
    @Test func replayIsStableAndShiftIsFlagged() throws {
        let width = 3
        var values: [Double] = []
        for index in 0..<1000 { values += [Double(index % 37), Double(index % 11) / 3, Double((index * 13) % 101)] }
        let data = Dataset(featureNames: ["x", "y", "z"], values: values, target: [Double](repeating: 0, count: 1000))
        let predictions = (0..<1000).map { Double($0 % 17) }
        let profile = FeatureProfile(data: data, predictions: predictions)
        var same = DriftCounter(profile: profile)
        var shifted = DriftCounter(profile: profile)
        for index in 0..<1000 {
            var row = Array(values[index * width..<(index + 1) * width])
            row.withUnsafeBufferPointer { same.add(row: $0, prediction: predictions[index]) }
            row[0] += 20
            row.withUnsafeBufferPointer { shifted.add(row: $0, prediction: predictions[index]) }
        }
        for feature in 0..<width { #expect(same.stabilityIndex(feature: feature) == 0) }
        #expect(same.predictionStabilityIndex == 0)
        #expect(try #require(shifted.stabilityIndex(feature: 0)) >= PopulationStability.drifted)
        #expect(shifted.stabilityIndex(feature: 1) == 0 && shifted.stabilityIndex(feature: 2) == 0)
        #expect(DriftCounter(profile: profile).stabilityIndex(feature: 0) == nil)
    }

    // MARK: Through the API and the store

    /// A trained version keeps its profile; rows logged like the training rows read as stable, shifted ones as
    /// drifted, and a logged missing value shows in the missing share; zero rows is a clear "no data" (no NaN).
    @Test func loggedRowsAgainstTheTrainingProfile() async throws {
        let database = try AppDatabase.inMemory()
        let api = try Self.api(database, Self.admin)
        try await Self.train(api, "price")
        let empty = try await api.drift(model: "price", since: nil)
        #expect(empty.rows == 0 && empty.verdict == .noData && empty.features.allSatisfy { $0.psi == nil })
        #expect(JSONWriter.compact(empty.json).contains(#""psi":null"#))
        #expect(empty.message.contains("no predictions"))

        _ = try await api.predictBatch(model: "price", rows: Self.rows(400))
        let stable = try await api.drift(model: "price", since: nil)
        #expect(stable.rows == 400 && stable.trainingRows == 400)
        #expect(stable.features.allSatisfy { $0.psi == 0 }, "\(stable.features)")
        #expect(try #require(stable.prediction.psi) < 0.01)
        #expect(stable.verdict == .stable)

        _ = try await api.predictBatch(model: "price", rows: Self.rows(400, shiftA: 5, missingA: true))
        let drifted = try await api.drift(model: "price@1", since: nil)
        #expect(drifted.rows == 800 && drifted.verdict == .drifted && drifted.drifted == ["a"])
        #expect(drifted.features[0].missingShare == 0.25 && drifted.features[0].trainingMissingShare == 0)
        #expect(drifted.features[1].psi == 0)
        // A window after every row: nothing.
        #expect(try await api.drift(model: "price", since: .now()).rows == 0)
    }

    /// Drift counts only the caller's tenant's rows: another tenant's model of the same name and its rows change
    /// nothing, and that tenant sees only its own.
    @Test func driftIsTenantScoped() async throws {
        let database = try AppDatabase.inMemory()
        let admin = try Self.api(database, Self.admin)
        let eve = try Self.api(database, Self.eve)
        try await Self.train(admin, "price")
        try await Self.train(eve, "price")
        _ = try await admin.predictBatch(model: "price", rows: Self.rows(200))
        _ = try await eve.predictBatch(model: "price", rows: Self.rows(300, shiftA: 9))
        let mine = try await admin.drift(model: "price", since: nil)
        #expect(mine.rows == 200 && mine.verdict == .stable)
        let theirs = try await eve.drift(model: "price", since: nil)
        #expect(theirs.rows == 300 && theirs.verdict == .drifted)
        // A model only the other tenant has is not found.
        try await Self.train(eve, "secret")
        await #expect(throws: XalorraError.self) { try await admin.drift(model: "secret", since: nil) }
    }

    /// Unknown models and versions are 404s, a window starting in the future is empty (no data, as in `GET /logs`),
    /// and a version without a profile (an import) a 409 that says to retrain.
    @Test func clearErrors() async throws {
        let database = try AppDatabase.inMemory()
        let api = try Self.api(database, Self.admin)
        try await Self.train(api, "price")
        func code(_ body: () async throws(XalorraError) -> DriftReport) async -> XalorraError.Code? {
            do { _ = try await body() } catch { return error.code }
            return nil
        }
        #expect(await code { () throws(XalorraError) in try await api.drift(model: "nope", since: nil) } == .notFound)
        #expect(await code { () throws(XalorraError) in try await api.drift(model: "price@9", since: nil) } == .notFound)
        let future = try await api.drift(model: "price", since: .now().adding(seconds: 3600))
        #expect(future.rows == 0 && future.verdict == .noData, "a window starting in the future is empty, as in /logs")
        let exported = try await api.exportModel("price")
        _ = try await api.importModel("copy", document: exported)
        do {
            _ = try await api.drift(model: "copy", since: nil)
            Issue.record("an import has no profile")
        } catch {
            #expect(error.code == .conflict && error.message.contains("no training profile"))
        }
    }
}

/// Drift through the binary and a live server on one store: the CLI's table and `--json`, the route and its errors,
/// offline equal to remote, and the `/metrics` gauges (promtool-clean).
@Suite(.serialized)
struct DriftServerTests {
    /// A store with `price` trained on a,b (400 rows) and 400 rows logged like its training rows, `copy` imported
    /// (no profile), and a live server on it.
    static func world() async throws -> LiveServer {
        let cli = try BinaryRunner()
        var training = "a,b,y\n"
        var live = "a,b\n"
        for index in 0..<400 {
            let (a, b) = (Double(index % 20) / 20, Double((index * 7) % 13))
            training += "\(a),\(b),\(3 * a - b)\n"
            live += "\(a),\(b)\n"
        }
        let data = try cli.write("train.csv", training)
        let rows = try cli.write("rows.csv", live)
        for command in [
            ["train", "price", "--data", data, "--target", "y", "--trees", "10", "--max-depth", "3", "--threads", "1",
             "--valid-fraction", "0"],
            ["predict", "price", "--file", rows],
            ["models", "export", "price", "price.json"],
            ["models", "import", "copy", "price.json"],
        ] {
            let result = try cli.run(command, directory: cli.home)
            try #require(result.status == 0, "\(command): \(result.stderr)")
        }
        return try await LiveServer(arguments: ["--rate-limit", "off"], home: cli)
    }

    /// `models drift` prints a table of each feature and the predictions (PSI 0 for a replay of the training rows)
    /// and with `--json` the envelope; offline and remote print the same (the JSON's `until`, the time each side
    /// made the report, aside).
    @Test func cliTableJSONAndOfflineEqualsRemote() async throws {
        let server = try await Self.world()
        defer { server.stop() }
        let token = try server.token(["--role", "admin"])
        let since = Timestamp.now().adding(seconds: -3600).iso8601
        let offline = try server.cli.run(["models", "drift", "price", "--since", since])
        #expect(offline.status == 0, "\(offline.stderr)")
        let lines = offline.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "price@1 is stable over 400 logged rows (every PSI < 0.1)")
        #expect(lines.count == 5 && lines[1].hasPrefix("COLUMN") && lines[1].contains("PSI"))
        #expect(lines[2].hasPrefix("a ") && lines[2].contains(" 0 ") && lines[2].hasSuffix("stable"))
        let remote = try server.cli.run(["models", "drift", "price", "--since", since, "--url", server.url, "--token", token])
        #expect(remote.status == 0 && remote.stdout == offline.stdout && remote.stderr == offline.stderr)

        func masked(_ text: String) -> String {
            text.replacingOccurrences(of: #""(until|timestamp)":"[^"]+""#, with: #""$1":"<t>""#, options: .regularExpression)
        }
        let json = try server.cli.run(["models", "drift", "price@1", "--since", since, "--json"])
        let remoteJSON = try server.cli.run(
            ["models", "drift", "price@1", "--since", since, "--json", "--url", server.url, "--token", token])
        #expect(json.status == 0 && masked(json.stdout) == masked(remoteJSON.stdout), "\(json.stdout)\n\(remoteJSON.stdout)")
        let body = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(body["data"]?["rows"] == 400 && body["data"]?["verdict"] == "stable")
        #expect(body["data"]?["since"]?.stringValue == since)

        // The same errors both ways.
        for arguments in [["models", "drift", "nope"], ["models", "drift", "copy"], ["models", "drift", "price", "--since", "soon"]] {
            let local = try server.cli.run(arguments)
            let far = try server.cli.run(arguments + ["--url", server.url, "--token", token])
            #expect(local.status != 0 && local.status == far.status && local.stderr == far.stderr, "\(arguments): \(local.stderr) | \(far.stderr)")
        }
    }

    /// `GET /models/{name}/drift`: 200 with the envelope; a bad `since` or `version` is 422, an unknown model 404, an
    /// import 409, no token 401; another tenant's caller does not see this tenant's model.
    @Test func route() async throws {
        let server = try await Self.world()
        defer { server.stop() }
        let token = try server.token(["--role", "admin"])
        let answer = try await server.request("GET", "/models/price/drift?since=2h&version=1", token: token)
        #expect(answer.status == 200, "\(answer.body)")
        let body = try JSONParser.parse(answer.body)
        #expect(body["data"]?["rows"] == 400)
        #expect(body["message"]?.stringValue?.contains("stable") == true)
        #expect(try await server.request("GET", "/models/price/drift", token: token).status == 200)
        for (path, status) in [
            ("/models/price/drift?since=yesterday", 422), ("/models/price/drift?version=x", 422),
            ("/models/price/drift?version=7", 404), ("/models/nope/drift", 404), ("/models/copy/drift", 409),
        ] {
            let failed = try await server.request("GET", path, token: token)
            #expect(failed.status == status, "\(path): \(failed.body)")
            #expect(failed.body.contains(#""error""#) && !failed.body.contains("NaN"), "\(path): \(failed.body)")
        }
        #expect(try await server.request("GET", "/models/price/drift").status == 401)
        let outsider = try server.token(["--user", "eve", "--role", "user", "--tenant", "other"])
        #expect(try await server.request("GET", "/models/price/drift", token: outsider).status == 404)
    }

    /// `/metrics` carries `xalorra_feature_psi` for each feature of `price` and `xalorra_prediction_psi` (within a
    /// few seconds of the first scrape, which starts the computation), none for the import without a profile, and
    /// promtool finds nothing to say.
    @Test func metricsGauges() async throws {
        let server = try await Self.world()
        defer { server.stop() }
        let token = try server.token(["--role", "admin"])
        var scrape = ""
        for _ in 0..<50 {
            scrape = try await server.request("GET", "/metrics", token: token).body
            if scrape.contains("xalorra_prediction_psi{") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(scrape.contains("# TYPE xalorra_feature_psi gauge"))
        #expect(scrape.contains(#"xalorra_feature_psi{tenant="default",model="price",feature="a"} 0.0"#), "\(scrape)")
        #expect(scrape.contains(#"xalorra_feature_psi{tenant="default",model="price",feature="b"} 0.0"#))
        #expect(scrape.contains(#"xalorra_prediction_psi{tenant="default",model="price"} "#))
        #expect(!scrape.contains(#"model="copy""#.appending(",feature")))
        if PythonClients.isCI || PythonClients.hasTool("promtool") {
            let (status, output) = try PythonClients.run(["promtool", "check", "metrics"], stdin: Data(scrape.utf8))
            #expect(status == 0 && output.isEmpty, "promtool check metrics (exit \(status)):\n\(output)")
        }
    }
}
