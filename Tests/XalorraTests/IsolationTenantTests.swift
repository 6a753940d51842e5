import Foundation
import Testing
import XalorraCore

/// Tenants' data and feeds (issue 7): models, versions, exports, jobs, logs and the live feeds of one tenant are
/// invisible to another, through every route of `RouteTable.all` that takes a tenant-scoped name.
@Suite(.serialized)
struct IsolationTenantTests: LiveServerSuite {
    /// Another tenant's models, versions, exports, jobs and logs answer like names nobody has; same names stay per tenant.
    @Test func tenantsSeeOnlyTheirOwnData() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let ana = try server.token(["--user", "ana", "--tenant", "acme"])
        let bob = try server.token(["--user", "bob", "--tenant", "globex"])
        let admin = try server.token(["--user", "root", "--role", "admin"])
        func linear(_ intercept: Int) -> String {
            #"{"format":"xalorra-model","kind":"linear","features":["a"],"#
                + #""model":{"type":"linear","link":"identity","intercept":\#(intercept),"weights":[1]}}"#
        }
        for (token, name, intercept) in [(ana, "shared", 100), (bob, "shared", 200), (ana, "acme-only", 5)] {
            let imported = try await server.request("POST", "/models/\(name)/import", token: token, body: linear(intercept))
            #expect(imported.status == 201 && json(imported.body)["data"]?["version"] == "1", "\(imported.body)")
        }
        let job = try await server.request(
            "POST", "/train/acme-job", token: ana,
            body: #"{"target":"y","kind":"linear","columns":["a","y"],"rows":"# + "\((1...10).map { [$0, 2 * $0] })}")
        let jobID = try #require(json(job.body)["data"]?["id"]?.stringValue, "\(job.body)")

        // The same name answers each tenant with its own version, through every door, whatever was asked before.
        func prediction(_ token: String, _ model: String) async throws -> Double? {
            let answer = try await server.request("POST", "/predict/\(model)", token: token, body: #"{"features":[1]}"#)
            return number(json(answer.body)["prediction"])
        }
        for _ in 0..<2 {
            #expect(try await prediction(ana, "shared") == 101)
            #expect(try await prediction(bob, "shared") == 201)
        }
        #expect(try await prediction(ana, "acme-only") == 6)
        #expect(try await prediction(bob, "acme-only") == 1, "bob must get the baseline, not acme's model")
        let infer = #"{"inputs":[{"name":"features","shape":[1,1],"datatype":"FP64","data":[1]}]}"#
        for (token, expected) in [(ana, 101), (bob, 201)] {
            let answer = json(try await server.request("POST", "/v2/models/shared/infer", token: token, body: infer).body)
            #expect(answer["outputs"]?.arrayValue?.first?["data"]?.arrayValue?.map(number) == [Double(expected)], "\(answer)")
            let export = json(try await server.request("GET", "/models/shared/versions/latest/export", token: token).body)
            #expect(number(export["model"]?["intercept"]) == Double(expected - 1), "\(export)")
        }

        // Lists hold only the caller's tenant.
        let models = json(try await server.request("GET", "/models", token: bob).body)
        #expect(models["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["shared"], "\(models)")
        #expect(json(try await server.request("GET", "/train/jobs", token: bob).body)["pagination"]?["total"] == 0)
        for (token, tenant, other) in [(bob, "globex", "acme"), (ana, "acme", "globex")] {
            let logs = json(try await server.request("GET", "/logs?limit=100", token: token).body)
            let tenants = Set(logs["data"]?.arrayValue?.compactMap { $0["tenant"]?.stringValue } ?? [])
            #expect(tenants == [tenant], "\(logs)")
            let filtered = json(try await server.request("GET", "/logs?model=shared&tenant=\(tenant)", token: token).body)
            #expect(filtered["data"]?.arrayValue?.allSatisfy { $0["tenant"] == .string(tenant) } == true)
            #expect(try await server.request("GET", "/logs?tenant=\(other)", token: token).status == 403)
        }
        // An admin reaches across tenants where the endpoint says so: the `tenant` parameter is real.
        let acmeLogs = json(try await server.request("GET", "/logs?tenant=acme&limit=100", token: admin).body)
        #expect(acmeLogs["data"]?.arrayValue?.allSatisfy { $0["tenant"] == "acme" } == true)
        #expect(acmeLogs["pagination"]?["total"] == 4, "\(acmeLogs)")
        #expect(try await server.request("GET", "/models?tenant=acme", token: admin).body.contains("acme-only"))

        // `?tenant=acme` from globex on every parameterless GET: refused, or answered without acme's data.
        for route in RouteTable.all where route.method == "GET" && route.access == .user && !route.path.contains("{") {
            let answer = try await server.request("GET", route.path + "?tenant=acme", token: bob)
            if route.transport != .plain || ["/logs", "/models", "/train/jobs"].contains(route.path) {
                #expect(answer.status == 403, "\(route.key)?tenant=acme: \(answer.status) \(answer.body)")
                #expect(json(answer.body)["error"]?["code"] == "INSUFFICIENT_PERMISSIONS")
            } else {
                #expect(answer.status == 403 || !answer.body.contains("acme"), "\(route.key)?tenant=acme: \(answer.body)")
            }
        }

        // Every tenant-scoped route with a path parameter: acme's model, version or job answers globex exactly as
        // a name nobody has does (no existence oracle either). Creating a job reads nothing of another tenant's.
        let creators: Set<String> = ["POST /train/{model}"]
        let unordered = RouteTable.all.filter {
            $0.access == .user && $0.path.contains("{") && !$0.path.hasPrefix("/chat/") && !creators.contains($0.key)
        }
        // The one that writes goes last, so that its model does not exist for the routes after it.
        let scoped = unordered.filter { !$0.path.hasSuffix("/import") } + unordered.filter { $0.path.hasSuffix("/import") }
        #expect(scoped.count >= 15)
        for (index, route) in scoped.enumerated() {
            let nobody = "none-\(index)"
            let body: String? =
                switch route.method {
                case "POST" where route.path.hasSuffix("/infer"): infer
                case "POST" where route.path.hasSuffix("/import"): linear(7)
                case "POST": #"{"features":[1]}"#
                default: nil
                }
            let unknown = try await server.request(
                route.method, Self.concrete(route.path, ["name": nobody, "model": nobody, "id": "job_999999"]),
                token: bob, body: body)
            let foreign = try await server.request(
                route.method, Self.concrete(route.path, ["name": "acme-only", "model": "acme-only", "id": jobID]),
                token: bob, body: body)
            func normalized(_ text: String, _ name: String, _ id: String) -> String {
                text.replacingOccurrences(of: name, with: "<name>").replacingOccurrences(of: id, with: "<id>")
                    .normalizingTimestamps()
            }
            #expect(![401, 403].contains(unknown.status), "\(route.key): \(unknown.body)")
            #expect(foreign.status == unknown.status, "\(route.key): \(foreign.status) \(foreign.body)")
            #expect(
                normalized(foreign.body, "acme-only", jobID) == normalized(unknown.body, nobody, "job_999999"),
                "\(route.key):\n\(foreign.body)\n\(unknown.body)")
        }
        // acme's data is intact after globex's deletes and cancels.
        let mine = json(try await server.request("GET", "/models/acme-only", token: ana).body)
        #expect(mine["data"]?["versions"]?.arrayValue?.count == 1, "\(mine)")
        #expect(try await prediction(ana, "acme-only") == 6)
        var status = ""
        for _ in 0..<100 where !["succeeded", "failed", "cancelled"].contains(status) {
            try await Task.sleep(for: .milliseconds(100))
            let job = json(try await server.request("GET", "/train/jobs/\(jobID)", token: ana).body)
            status = job["data"]?["status"]?.stringValue ?? ""
        }
        #expect(status == "succeeded")
    }

    /// `/logs/stream` and `/ws/predictions` deliver a tenant's predictions to that tenant only, within a second.
    @Test func liveFeedsAreTenantScoped() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let ana = try server.token(["--user", "ana", "--tenant", "acme"])
        let bob = try server.token(["--user", "bob", "--tenant", "globex"])
        let admin = try server.token(["--user", "root", "--role", "admin"])
        let followers: [(String, FeedFollower)] = [
            ("globex sse", FeedFollower(server, .serverSentEvents, token: bob)),
            ("globex ws", FeedFollower(server, .webSocket, token: bob)),
            ("globex sse by query token", FeedFollower(server, .serverSentEvents, token: bob, tokenInQuery: true)),
            ("acme sse", FeedFollower(server, .serverSentEvents, token: ana)),
            ("acme ws", FeedFollower(server, .webSocket, token: ana)),
            ("admin ws for globex", FeedFollower(server, .webSocket, token: admin, query: "?tenant=globex")),
        ]
        defer { for (_, follower) in followers { follower.stop() } }
        for (name, follower) in followers { #expect(try await follower.waitOpen(), "\(name) did not open") }

        _ = try await server.request("POST", "/predict/acme-model", token: ana, body: #"{"features":[1,2]}"#)
        _ = try await server.request("POST", "/predict/acme-model", token: ana, body: #"{"instances":[[1],[2]]}"#)
        _ = try await server.request(
            "POST", "/v2/models/acme-model/infer", token: ana,
            body: #"{"inputs":[{"name":"features","shape":[1,1],"datatype":"FP64","data":[3]}]}"#)
        _ = try await server.request("POST", "/chat/message", token: ana, body: #"{"message":"predict acme-chat 1 2"}"#)
        _ = try await server.request("POST", "/predict/globex-model", token: bob, body: #"{"features":[7]}"#)

        // Wait for each subscriber's own, then the rest of a second for anything that should not come.
        let sent = Date()
        for (name, follower) in followers {
            _ = await follower.events(within: 3) { $0.count >= (name.hasPrefix("acme") ? 5 : 1) }
        }
        try await Task.sleep(for: .seconds(max(0, 1 - Date().timeIntervalSince(sent))))
        for (name, follower) in followers {
            let acme = name.hasPrefix("acme")
            let expected = acme ? 5 : 1
            let events = await follower.events(within: 0)
            let items = events.map { json($0) }
            #expect(items.count == expected, "\(name): \(events)")
            #expect(items.allSatisfy { $0["tenant"] == .string(acme ? "acme" : "globex") }, "\(name): \(events)")
        }
    }
}
