import Foundation
import Testing
import XalorraCore

extension JSONValue {
    /// The element at `index` of an array.
    fileprivate subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}

/// The model registry, training jobs and the Open Inference Protocol on a live server: real HTTP, a real store.
@Suite(.serialized)
struct ModelsServerTests {
    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    /// A CSV whose target is a step on `x1` (10 above 0.5, else 0) plus an irrelevant `x2`: any tree learns it.
    static func stepCSV(rows: Int) -> String {
        var text = "x1,x2,y\n"
        for index in 0..<rows {
            let x1 = Double((index * 37) % 100) / 100
            let x2 = Double((index * 53) % 100) / 100
            text += "\(x1),\(x2),\(x1 > 0.5 ? 10 : 0)\n"
        }
        return text
    }

    /// Polls a job until it has finished and returns its body's `data`.
    private func finished(_ server: LiveServer, _ id: String, token: String) async throws -> JSONValue {
        for _ in 0..<600 {
            let job = try json(try await server.request("GET", "/train/jobs/\(id)", token: token).body)["data"]
            if let status = job?["status"]?.stringValue, ["succeeded", "failed", "cancelled"].contains(status) {
                return job ?? .null
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw XalorraError(.internal, "job \(id) did not finish")
    }

    /// A CSV upload becomes a queued job, the worker trains it, and the model then answers predictions by name,
    /// by pinned version and over the inference protocol, every answer naming the version and being logged.
    @Test func trainThenServe() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let token = try server.token(["--user", "ana", "--tenant", "acme"])
        let queued = try await server.request(
            "POST", "/train/step?target=y&kind=gbdt&trees=20&min_samples_leaf=5&learning_rate=0.5", token: token,
            body: Self.stepCSV(rows: 400), headers: [("Content-Type", "text/csv")])
        #expect(queued.status == 202, "\(queued.body)")
        let job = try json(queued.body)["data"]
        #expect(job?["status"] == "queued" && job?["rows"] == .int(400) && job?["target"] == "y")
        let done = try await finished(server, try #require(job?["id"]?.stringValue), token: token)
        #expect(done["status"] == "succeeded" && done["version"] == "1", "\(done)")
        #expect(done["progress"]?["done"] == .int(20) || done["progress"]?["done"] != nil)

        let high = try json(try await server.request("POST", "/predict/step", token: token, body: #"{"features":[0.9, 0.1]}"#).body)
        #expect(high["version"] == "1" && high["model"] == "step")
        #expect(abs((high["prediction"].flatMap { if case .number(let n) = $0 { n.doubleValue } else { nil } } ?? 0) - 10) < 0.5)
        let wrongWidth = try await server.request("POST", "/predict/step", token: token, body: #"{"features":[1, 2, 3]}"#)
        #expect(wrongWidth.status == 422 && wrongWidth.body.contains("expects 2 features"))
        let pinned = try await server.request("POST", "/predict/step@2", token: token, body: #"{"features":[0.9, 0.1]}"#)
        #expect(pinned.status == 404)

        let listed = try json(try await server.request("GET", "/models", token: token).body)
        #expect(listed["data"]?[0]?["name"] == "step" && listed["data"]?[0]?["latest_version"] == "1")
        let version = try json(try await server.request("GET", "/models/step/versions/latest", token: token).body)
        #expect(version["data"]?["features"] == .array(["x1", "x2"]) && version["data"]?["kind"] == "gbdt")
        #expect(version["data"]?["metrics"]?["rmse"] != nil)

        let metadata = try json(try await server.request("GET", "/v2/models/step", token: token).body)
        #expect(metadata["versions"] == .array(["1"]) && metadata["platform"] == "xalorra")
        let infer = try await server.request(
            "POST", "/v2/models/step/infer", token: token,
            body: #"{"id":"r1","inputs":[{"name":"features","shape":[2,2],"datatype":"FP32","data":[[0.9,0.1],[0.1,0.1]]}]}"#)
        #expect(infer.status == 200, "\(infer.body)")
        let outputs = try json(infer.body)
        #expect(outputs["model_version"] == "1" && outputs["id"] == "r1")
        #expect(outputs["outputs"]?[0]?["shape"] == .array([.int(2)]))
        let badInfer = try await server.request(
            "POST", "/v2/models/step/infer", token: token,
            body: #"{"inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,2,3]}]}"#)
        let badInferBody = try json(badInfer.body)
        #expect(badInfer.status == 422 && badInferBody["error"]?.stringValue?.contains("needs 4") == true)
        let unauthenticated = try await server.request("GET", "/v2/models/step")
        let unauthenticatedBody = try json(unauthenticated.body)
        #expect(unauthenticated.status == 401 && unauthenticatedBody["error"]?.stringValue != nil)
        #expect(try await server.request("GET", "/v2/health/ready").body == #"{"ready":true}"#)

        let logs = try json(try await server.request("GET", "/logs?model=step", token: token).body)
        #expect(logs["pagination"]?["total"] == .int(3))
    }

    /// Models and jobs belong to a tenant: another tenant sees neither, and the same name answers with its own
    /// baseline there.
    @Test func tenantsAreIsolated() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let acme = try server.token(["--user", "ana", "--tenant", "acme"])
        let other = try server.token(["--user", "bob", "--tenant", "globex"])
        let body = #"{"target":"y","trees":5,"min_samples_leaf":2,"columns":["a","y"],"rows":[[1,1],[2,2],[3,3],[4,4],[5,5],[6,6]]}"#
        let queued = try json(try await server.request("POST", "/train/m", token: acme, body: body).body)
        let id = try #require(queued["data"]?["id"]?.stringValue)
        _ = try await finished(server, id, token: acme)
        #expect(try await server.request("GET", "/train/jobs/\(id)", token: other).status == 404)
        #expect(try await server.request("DELETE", "/train/jobs/\(id)", token: other).status == 404)
        #expect(try json(try await server.request("GET", "/train/jobs", token: other).body)["pagination"]?["total"] == .int(0))
        #expect(try json(try await server.request("GET", "/models", token: other).body)["pagination"]?["total"] == .int(0))
        #expect(try await server.request("GET", "/models/m", token: other).status == 404)
        #expect(try await server.request("GET", "/models?tenant=acme", token: other).status == 403)
        let baseline = try json(try await server.request("POST", "/predict/m", token: other, body: #"{"features":[1,2]}"#).body)
        #expect(baseline["version"] == "baseline" && baseline["prediction"] == .int(3))
        #expect(try await server.request("DELETE", "/models/m", token: other).status == 404)
        #expect(try await server.request("DELETE", "/models/m", token: acme).status == 204)
        #expect(try await server.request("GET", "/models/m", token: acme).status == 404)
    }

    /// Bad training requests and model files are 4xx with every problem named, and store nothing.
    @Test func badInputIsRefused() async throws {
        let server = try await LiveServer(environment: ["XALORRA_MAX_UPLOAD": "5000"])
        defer { server.stop() }
        let token = try server.token()
        let cases: [(String, String, String, Int, String)] = [
            ("POST", "/train/m?target=nope", "a,y\n1,2\n", 422, "nope"),
            ("POST", "/train/m?target=y&trees=0&tree=5", "a,y\n1,2\n", 422, "trees"),
            ("POST", "/train/m?target=y", "a,y\n1,x\n", 422, "line 2"),
            ("POST", "/train/m?target=y&kind=xgboost", "a,y\n1,2\n", 422, "kind"),
            ("POST", "/train/m@2?target=y", "a,y\n1,2\n", 422, "name alone"),
            ("POST", "/train/..%2Fetc?target=y", "a,y\n1,2\n", 422, "model"),
            ("POST", "/train/m", #"{"target":"y","rows":[[1,"x"]],"columns":["a","y"]}"#, 422, "rows[0][1]"),
            ("POST", "/train/m?target=y", "a,y\n" + String(repeating: "1,2\n", count: 2000), 413, "PAYLOAD_TOO_LARGE"),
            ("POST", "/models/m/import", "{not json", 422, "not valid JSON"),
            ("POST", "/models/m/import", #"{"learner":{}}"#, 422, "file"),
            ("POST", "/models/m/import", #"{"format":"xalorra-model","kind":"gbdt","features":["a"],"model":{"type":"trees","objective":"regression","base_margin":0,"feature_count":1,"float32":false,"trees":[{"feature":[0,-1,-1],"threshold":[1,0,0],"left":[1,0,0],"right":[0,0,0],"default_left":[1,1,1],"value":[0,1,2]}]}}"#, 422, "reached twice"),
            ("GET", "/models/m/versions/zero", "", 422, "version"),
            ("DELETE", "/train/jobs/job_999", "", 404, "job_999"),
            ("GET", "/train/jobs/abc", "", 404, "abc"),
            ("GET", "/train/jobs?status=done", "", 422, "status"),
        ]
        for (method, path, body, status, needle) in cases {
            let response = try await server.request(method, path, token: token, body: body.isEmpty ? nil : body)
            #expect(response.status == status && response.body.contains(needle), "\(method) \(path): \(response.status) \(response.body)")
        }
        #expect(try json(try await server.request("GET", "/train/jobs", token: token).body)["pagination"]?["total"] == .int(0))
        #expect(try json(try await server.request("GET", "/models", token: token).body)["pagination"]?["total"] == .int(0))
    }

    /// An XGBoost model imported over HTTP predicts what XGBoost predicted; its export imports back as the next
    /// version with the same answers, and deleting a version leaves the others.
    @Test func importExportDelete() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let token = try server.token()
        let fixture = try #require(Bundle.module.url(forResource: "Fixtures/xgboost/binary-logistic.json", withExtension: nil))
        let imported = try await server.request(
            "POST", "/models/clf/import", token: token, body: try String(contentsOf: fixture, encoding: .utf8))
        #expect(imported.status == 201, "\(imported.body)")
        #expect(try json(imported.body)["data"]?["kind"] == "xgboost")
        let input = try String(
            contentsOf: try #require(Bundle.module.url(forResource: "Fixtures/xgboost/binary-logistic.input.csv", withExtension: nil)),
            encoding: .utf8)
        let expected = try String(
            contentsOf: try #require(Bundle.module.url(forResource: "Fixtures/xgboost/binary-logistic.expected.txt", withExtension: nil)),
            encoding: .utf8
        ).split(separator: "\n").compactMap { Double($0) }
        // The second row has a missing value: `null` in `instances`, routed by each split's default direction.
        let rows = input.split(separator: "\n")[1...2].map { line in
            "[" + line.split(separator: ",", omittingEmptySubsequences: false).map { $0.isEmpty ? "null" : String($0) }
                .joined(separator: ",") + "]"
        }
        #expect(rows[1].contains("null"))
        let answer = try await server.request(
            "POST", "/predict/clf", token: token, body: #"{"instances":[\#(rows.joined(separator: ","))]}"#)
        #expect(answer.status == 200, "\(answer.body)")
        for index in 0..<2 {
            let predicted = try json(answer.body)["predictions"]?[index]
            #expect(abs((predicted.flatMap { if case .number(let n) = $0 { n.doubleValue } else { nil } } ?? -1) - expected[index]) < 1e-5)
        }
        let export = try await server.request("GET", "/models/clf/versions/1/export", token: token)
        #expect(export.status == 200 && export.body.contains(#""format":"xalorra-model""#))
        let again = try json(try await server.request("POST", "/models/clf/import", token: token, body: export.body).body)
        #expect(again["data"]?["version"] == "2" && again["data"]?["kind"] == "xgboost")
        #expect(try await server.request("DELETE", "/models/clf/versions/1", token: token).status == 204)
        #expect(try await server.request("DELETE", "/models/clf/versions/1", token: token).status == 404)
        let detail = try json(try await server.request("GET", "/models/clf", token: token).body)
        #expect(detail["data"]?["versions"]?[0]?["version"] == "2" && detail["data"]?["latest_version"] == "2")
    }

    /// Cancelling stops a running job within a round, a finished job cannot be cancelled, and a job that was
    /// running when the server was killed is marked failed (`interrupted`) when it starts again.
    @Test func cancelAndRestart() async throws {
        let server = try await LiveServer()
        let token = try server.token()
        var big = "a,b,c,y\n"
        for index in 0..<20_000 { big += "\(index % 97),\(index % 13),\(index % 7),\(index % 5)\n" }
        let long = "/train/slow?target=y&trees=10000&min_samples_leaf=1&learning_rate=0.01"
        func start() async throws -> String {
            let queued = try json(try await server.request("POST", long, token: token, body: big).body)
            return try #require(queued["data"]?["id"]?.stringValue)
        }
        func waitRunning(_ id: String, on server: LiveServer) async throws {
            for _ in 0..<300 {
                let job = try json(try await server.request("GET", "/train/jobs/\(id)", token: token).body)["data"]
                if job?["status"] == "running", job?["progress"]?["done"] != .int(0) { return }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let first = try await start()
        try await waitRunning(first, on: server)
        let cancelled = try await server.request("DELETE", "/train/jobs/\(first)", token: token)
        let cancelledBody = try json(cancelled.body)
        #expect(cancelled.status == 200 && cancelledBody["data"]?["status"] == "cancelled")
        let again = try await server.request("DELETE", "/train/jobs/\(first)", token: token)
        #expect(again.status == 409 && again.body.contains("CONFLICT"))

        let second = try await start()
        try await waitRunning(second, on: server)
        server.crash()
        let restarted = try await LiveServer(home: server.cli)
        defer { restarted.stop() }
        let job = try json(try await restarted.request("GET", "/train/jobs/\(second)", token: token).body)["data"]
        #expect(job?["status"] == "failed" && job?["error"] == "interrupted", "\(String(describing: job))")
        #expect(try json(try await restarted.request("GET", "/models", token: token).body)["pagination"]?["total"] == .int(0))
    }
}
