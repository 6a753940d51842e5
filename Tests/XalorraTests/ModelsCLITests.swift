import Foundation
import Testing
import XalorraCore
import XalorraML

/// `xalorra train` and `xalorra models` as a user runs them: the real binary, offline on a temp store and remote
/// against a live server on the same store.
@Suite(.serialized)
struct ModelsCLITests {
    /// Small and quick to train in a debug build: `y = 3a - 2b`, on a 20 × 15 grid.
    private static let csv: String = {
        var lines = ["a,b,y"]
        for a in 0..<20 {
            for b in 0..<15 { lines.append("\(a),\(b),\(3 * a - 2 * b)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    private static let quick = ["--trees", "20", "--max-depth", "3", "--min-samples-leaf", "5"]

    private func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    private func number(_ value: JSONValue?) -> Double? {
        if case .number(let number)? = value { return number.doubleValue }
        return nil
    }

    /// The body without its `timestamp`, which differs between any two calls.
    private func timeless(_ body: JSONValue) -> JSONValue {
        guard case .object(let members) = body else { return body }
        return .object(members.filter { $0.0 != "timestamp" })
    }

    /// Polls `train show JOB --json` until the job has finished; its last body.
    private func waitForJob(
        _ cli: BinaryRunner, _ id: String, remote: [String] = [], seconds: Double = 120
    ) async throws -> JSONValue? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let shown = try cli.run(["train", "show", id, "--json"] + remote)
            if shown.status == 0, let data = try json(shown.stdout)["data"],
                let status = data["status"]?.stringValue, ["succeeded", "failed", "cancelled"].contains(status)
            {
                return data
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return nil
    }

    /// A batch file's columns reach a stored model by name, in any order and with extra columns; one the model
    /// needs and the file lacks is refused by name; a tree model routes an empty cell, a linear one refuses it.
    @Test func batchColumnsByName() throws {
        let cli = try BinaryRunner()
        let data = try cli.write("grid.csv", Self.csv)
        #expect(try cli.run(["train", "price", "--data", data, "--target", "y"] + Self.quick).status == 0)
        #expect(try cli.run(["train", "line", "--data", data, "--target", "y", "--kind", "linear"]).status == 0)
        let ordered = try cli.write("ordered.csv", "a,b\n4,2\n10,1\n")
        let shuffled = try cli.write("shuffled.csv", "note,b,a\n7,2,4\n8,1,10\n")
        let expected = try cli.run(["predict", "price", "--file", ordered])
        let byName = try cli.run(["predict", "price", "--file", shuffled])
        #expect(expected.status == 0 && byName.status == 0, "\(expected.stderr) \(byName.stderr)")
        #expect(byName.stdout == expected.stdout && expected.stdout.split(separator: "\n").count == 2)
        let lacking = try cli.write("lacking.csv", "a,c\n1,2\n")
        let refused = try cli.run(["predict", "price", "--file", lacking])
        #expect(refused.status == 2 && refused.stderr.contains("'b'"), "\(refused.stderr)")
        let gap = try cli.write("gap.csv", "a,b\n4,\n")
        #expect(try cli.run(["predict", "price", "--file", gap]).status == 0)
        let linearGap = try cli.run(["predict", "line", "--file", gap])
        #expect(linearGap.status == 2 && linearGap.stderr.contains("needs every feature"), "\(linearGap.stderr)")
        let logged = try json(try cli.run(["logs", "--json", "--model", "price"]).stdout)
        #expect(logged["pagination"]?["total"] == .int(5), "two batches of 2 and the row with a gap")
    }

    /// Offline gbdt training prints the version and its metrics, and `predict` answers with it.
    @Test func trainOfflineThenPredict() throws {
        let cli = try BinaryRunner()
        let data = try cli.write("grid.csv", Self.csv)
        let trained = try cli.run(["train", "price", "--data", data, "--target", "y"] + Self.quick)
        #expect(trained.status == 0, "\(trained.stderr)")
        let lines = trained.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("trained price@1 (gbdt, 20 trees, 2 features) on 240 rows") == true, "\(lines)")
        #expect(lines.count == 2 && lines[1].hasPrefix("validation (60 rows): rmse "), "\(lines)")
        #expect(trained.stderr.isEmpty, "no progress bar without a terminal: \(trained.stderr)")

        let predicted = try json(try cli.run(["predict", "price", "10", "5", "--json"]).stdout)
        #expect(predicted["version"] == "1")
        let value = try #require(number(predicted["prediction"]))
        #expect(abs(value - 20) < 6, "3·10 − 2·5 = 20, got \(value)")

        // --json prints the finished job's body; a second training is version 2.
        let again = try json(try cli.run(["train", "price", "--data", data, "--target", "y", "--json"] + Self.quick).stdout)
        #expect(again["data"]?["status"] == "succeeded" && again["data"]?["version"] == "2")
        #expect(again["data"]?["progress"]?["done"] == 20 && again["data"]?["rows"] == 300)
        #expect(again["message"] != nil && again["timestamp"] != nil)
        let jobs = try cli.run(["train", "jobs"])
        #expect(jobs.stdout.hasPrefix("ID     MODEL  KIND  STATUS     PROGRESS  VERSION  CREATED"), "\(jobs.stdout)")
        #expect(jobs.stdout.split(separator: "\n").count == 3 && jobs.stderr.contains("1-2 of 2 jobs"))

        // Standard input works like a file; linear training too.
        let linear = try cli.run(
            ["train", "lin", "--data", "-", "--target", "y", "--kind", "linear"], stdin: Data(Self.csv.utf8))
        #expect(linear.status == 0 && linear.stdout.hasPrefix("trained lin@1 (linear, 2 features)"), "\(linear)")
        let exact = try #require(number(try json(try cli.run(["predict", "lin", "10", "5", "--json"]).stdout)["prediction"]))
        #expect(abs(exact - 20) < 0.5)
    }

    /// `models list` and `models show` print the same JSON offline and over HTTP for one store.
    @Test func listAndShowAgreeOfflineAndRemote() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let data = try cli.write("grid.csv", Self.csv)
        #expect(try cli.run(["train", "price", "--data", data, "--target", "y"] + Self.quick).status == 0)
        #expect(try cli.run(["train", "price", "--data", data, "--target", "y", "--kind", "linear"]).status == 0)
        let remote = ["--url", server.url, "--token", try server.token()]
        for command in [["models", "--json"], ["models", "list", "--json"], ["models", "show", "price", "--json"],
            ["models", "show", "price@1", "--json"], ["train", "jobs", "--json"]]
        {
            let offline = try cli.run(command)
            let online = try cli.run(command + remote)
            #expect(offline.status == 0 && online.status == 0, "\(command): \(offline.stderr) \(online.stderr)")
            #expect(timeless(try json(offline.stdout)) == timeless(try json(online.stdout)), "\(command)")
        }
        for command in [["models"], ["models", "show", "price"], ["models", "show", "price@1"], ["train", "jobs"]] {
            #expect(try cli.run(command).stdout == (try cli.run(command + remote)).stdout, "\(command)")
        }
        let list = try cli.run(["models"]).stdout
        #expect(list.hasPrefix("NAME   LATEST  KIND    FEATURES  METRIC"), "\(list)")
        #expect(list.contains("price  2       linear  2         rmse "), "\(list)")
        let shown = try cli.run(["models", "show", "price@1"]).stdout
        #expect(shown.contains("model:") && shown.contains("price@1") && shown.contains("features (2):"), "\(shown)")
        #expect(shown.contains("max_depth=3"), "\(shown)")
        // A tree version shows which features its splits gained most from; a linear one has no such thing.
        #expect(shown.contains("importances:") && shown.contains("%") && shown.contains("split"), "\(shown)")
        let tree = try json(try cli.run(["models", "show", "price@1", "--json"]).stdout)["data"]?["importances"]
        func values(_ member: JSONValue?) -> [Double] {
            guard case .object(let members)? = member else { return [] }
            return members.compactMap { number($0.1) }
        }
        let gains = values(tree?["gain"])
        let splits = values(tree?["splits"])
        #expect(gains.count == 2 && gains.allSatisfy { $0 >= 0 } && gains.reduce(0, +) > 0, "\(String(describing: tree))")
        #expect(splits.count == 2 && splits.reduce(0, +) > 0)
        #expect(try json(try cli.run(["models", "show", "price@2", "--json"]).stdout)["data"]?["importances"] == nil)
        let body = try json(try cli.run(["models", "show", "price", "--json"]).stdout)
        #expect(body["data"]?["latest_version"] == "2" && body["data"]?["versions"]?.arrayValue?.count == 2)
    }

    /// Remote training: --detach returns a job id at once and the server's worker finishes it; without --detach
    /// the CLI follows the job to the end. Offline --detach queues a job the server runs. Failures agree.
    @Test func remoteAndDetachedTraining() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let data = try cli.write("grid.csv", Self.csv)
        let remote = ["--url", server.url, "--token", try server.token()]

        let detached = try cli.run(["train", "price", "--data", data, "--target", "y", "--detach"] + Self.quick + remote)
        #expect(detached.status == 0, "\(detached.stderr)")
        let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("job_"), "\(detached.stdout)")
        let finished = try await waitForJob(cli, id, remote: remote)
        #expect(finished?["status"] == "succeeded" && finished?["version"] == "1", "\(String(describing: finished))")
        let predicted = try json(try cli.run(["predict", "price", "10", "5", "--json"] + remote).stdout)
        #expect(predicted["version"] == "1")

        let followed = try cli.run(["train", "price", "--data", data, "--target", "y"] + Self.quick + remote)
        #expect(followed.status == 0, "\(followed.stderr)")
        #expect(followed.stdout.hasPrefix("trained price@2 (gbdt, 20 trees, 2 features) on 240 rows"), "\(followed.stdout)")

        let queued = try cli.run(["train", "offline", "--data", data, "--target", "y", "--detach", "--json"] + Self.quick)
        #expect(queued.status == 0, "\(queued.stderr)")
        let job = try json(queued.stdout)["data"]
        #expect(job?["status"] == "queued")
        let ran = try await waitForJob(cli, job?["id"]?.stringValue ?? "")
        #expect(ran?["status"] == "succeeded", "a server on the same store runs offline-queued jobs")

        // Data the kind cannot use is refused before any job exists, the same way offline and remote (422, exit 2).
        let logistic = ["train", "odd", "--data", data, "--target", "y", "--kind", "logistic"]
        let failedOffline = try cli.run(logistic)
        let failedRemote = try cli.run(logistic + remote)
        #expect(failedOffline.status == 2 && failedRemote.status == 2, "\(failedOffline) \(failedRemote)")
        #expect(failedOffline.stderr.contains("logistic regression needs a target of 0 and 1"))
        #expect(failedOffline.stderr == failedRemote.stderr)
        let jobs = try json(try cli.run(["train", "jobs", "--model", "odd", "--json"]).stdout)
        #expect(jobs["pagination"]?["total"] == .int(0), "a refused request leaves no job behind")

        let cancelled = try cli.run(["train", "cancel", id] + remote)
        #expect(cancelled.status == 1 && cancelled.stderr.contains("already"), "a finished job cannot be cancelled")
        #expect(try cli.run(["train", "show", "job_999"] + remote).status == 1)
    }

    /// An export imported under another name predicts exactly as the original; `-` writes to stdout.
    @Test func exportImportRoundTrip() throws {
        let cli = try BinaryRunner()
        let data = try cli.write("grid.csv", Self.csv)
        #expect(try cli.run(["train", "price", "--data", data, "--target", "y"] + Self.quick).status == 0)
        let file = cli.home.appendingPathComponent("price-1.json").path
        let exported = try cli.run(["models", "export", "price@1", file])
        #expect(exported.status == 0 && exported.stdout.hasPrefix("exported price@1 to \(file)"), "\(exported)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(try cli.run(["models", "export", "price", "-"]).stdout == String(decoding: bytes, as: UTF8.self))
        let imported = try cli.run(["models", "import", "copy", file])
        #expect(imported.status == 0 && imported.stdout == "imported copy@1 (gbdt, 20 trees, 2 features)\n", "\(imported)")
        for row in [["10", "5"], ["0", "14"], ["19.5", "-3"]] {
            let original = try cli.run(["predict", "price"] + row).stdout
            let copy = try cli.run(["predict", "copy"] + row).stdout
            #expect(!original.isEmpty && original == copy)
        }
        let shown = try json(try cli.run(["models", "show", "copy@1", "--json"]).stdout)["data"]
        #expect(shown?["features"] == .array(["a", "b"]) && shown?["kind"] == "gbdt")
        let garbage = try cli.write("bad.json", "{\"hello\": 1}")
        let refused = try cli.run(["models", "import", "bad", garbage])
        #expect(refused.status == 2 && refused.stderr.contains("not a model file"), "\(refused.stderr)")
    }

    /// Deleting a version makes a pinned prediction of it fail as not found.
    @Test func deleteVersion() throws {
        let cli = try BinaryRunner()
        let data = try cli.write("grid.csv", Self.csv)
        #expect(try cli.run(["train", "price", "--data", data, "--target", "y"] + Self.quick).status == 0)
        #expect(try cli.run(["predict", "price@1", "1", "2"]).status == 0)
        let deleted = try cli.run(["models", "delete", "price@1"])
        #expect(deleted.status == 0 && deleted.stdout == "deleted price@1\n", "\(deleted)")
        let pinned = try cli.run(["predict", "price@1", "1", "2"])
        #expect(pinned.status == 1, "\(pinned)")
        #expect(pinned.stderr.contains("not found") || pinned.stderr.contains("no version 1"), "\(pinned.stderr)")
        #expect(try cli.run(["models", "show", "price@1"]).status == 1)
    }

    /// Bad command lines are usage errors (exit 2) that name the flag.
    @Test func usageErrors() throws {
        let cli = try BinaryRunner()
        let data = try cli.write("grid.csv", Self.csv)
        let noTarget = try cli.run(["train", "price", "--data", data])
        #expect(noTarget.status == 2 && noTarget.stderr.contains("--target"), "\(noTarget.stderr)")
        let noData = try cli.run(["train", "price", "--target", "y"])
        #expect(noData.status == 2 && noData.stderr.contains("--data"), "\(noData.stderr)")
        let kind = try cli.run(["train", "price", "--data", data, "--target", "y", "--kind", "forest"])
        #expect(kind.status == 2 && kind.stderr.contains("--kind"), "\(kind.stderr)")
        let rate = try cli.run(["train", "price", "--data", data, "--target", "y", "--learning-rate", "2"])
        #expect(rate.status == 2 && rate.stderr.contains("'--learning-rate <x>'"), "\(rate.stderr)")
        let trees = try cli.run(["train", "price", "--data", data, "--target", "y", "--trees", "0"])
        #expect(trees.status == 2 && trees.stderr.contains("--trees"), "\(trees.stderr)")
        let target = try cli.run(["train", "price", "--data", data, "--target", "z"])
        #expect(target.status == 2 && target.stderr.contains("'z'"), "\(target.stderr)")
        #expect(try cli.run(["train", "price", "--data", "/nonexistent.csv", "--target", "y"]).status == 2)
        #expect(try cli.run(["models", "show", "bad name!"]).status == 2)
    }

    /// A CSV with a non-numeric cell is refused naming the line and the column.
    @Test func badCellNamed() throws {
        let cli = try BinaryRunner()
        let data = try cli.write("bad.csv", "a,b,y\n1,2,3\n4,x,6\n")
        let result = try cli.run(["train", "price", "--data", data, "--target", "y"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 3, column 'b': 'x' is not a number"), "\(result.stderr)")
    }

    /// A matrix written as CSV reads back equal: quoted names, missing cells, integers and doubles.
    @Test func featureMatrixCSVRoundTrip() throws {
        var matrix = FeatureMatrix(columns: ["plain", "with,comma", "say \"hi\"", "two\nlines"])
        matrix.append(row: [Number.int(1), .double(2.5), nil, .double(-1e-7)])
        matrix.append(row: [nil, .int(-3), .double(0.1), .int(0)])
        let text = String(decoding: matrix.csv(), as: UTF8.self)
        #expect(text.hasPrefix("plain,\"with,comma\",\"say \"\"hi\"\"\",\"two\nlines\"\n1,2.5,,-1e-07\n"), "\(text)")
        #expect(try CSVReader.read(matrix.csv()) == matrix)
    }

    /// What `json` writes, `init(json:)` reads back equal.
    @Test func jsonRoundTrip() throws {
        let version = ModelVersion(
            name: "m", tenant: "t", version: 3, kind: .gbdt,
            hyperparameters: .object([("trees", .int(10)), ("learning_rate", .number(.double(0.1)))]),
            metrics: Metrics(rows: 4, rmse: 1.5, mae: 1, r2: 0.25), features: ["a", "b"], trees: 10, size: 1234,
            createdAt: Timestamp(microseconds: 1_700_000_000_123_456), createdBy: "jek")
        #expect(try ModelVersion(json: JSONParser.parse(JSONWriter.compact(version.json))) == version)
        let detail = ModelDetail(name: "m", tenant: "t", versions: [version])
        #expect(try ModelDetail(json: JSONParser.parse(JSONWriter.compact(detail.json))) == detail)
        let summary = ModelSummary(latest: version, versionCount: 3)
        let decoded = try ModelSummary(json: JSONParser.parse(JSONWriter.compact(summary.json)))
        #expect(JSONWriter.compact(decoded.json) == JSONWriter.compact(summary.json))
        let job = TrainingJob(
            id: "job_4", model: "m", tenant: "t", kind: .logistic, target: "y", rows: 99,
            hyperparameters: .object([("l2", .number(.double(1)))]), status: .failed, progressDone: 3, progressTotal: 50,
            validationLoss: 0.693, error: "the target must be 0 or 1", version: nil, createdBy: "jek",
            createdAt: Timestamp(microseconds: 1_700_000_000_000_001), startedAt: nil,
            finishedAt: Timestamp(microseconds: 1_700_000_100_000_000))
        #expect(try TrainingJob(json: JSONParser.parse(JSONWriter.compact(job.json))) == job)
    }
}
