import Foundation
import Testing
import XalorraCore
import XalorraServer

/// `xalorra serve` on a real loopback socket: the seed's bodies, the error envelope everywhere, auth, limits.
@Suite(.serialized)
struct ServerTests {
    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    /// Each operation has one route and each method and path one operation (the handlers are an exhaustive switch
    /// over the operations, so a missing one does not compile); a path's parameters fill in order, percent-encoded.
    @Test func everyRouteIsOneOperation() {
        #expect(RouteTable.all.map(\.endpoint) == Endpoint.allCases)
        #expect(Set(RouteTable.all.map(\.key)).count == RouteTable.all.count, "two operations share a method and path")
        for endpoint in Endpoint.allCases { #expect(endpoint.route.endpoint == endpoint) }
        #expect(Endpoint.modelVersion.route.path("a b/c", "latest") == "/models/a%20b%2Fc/versions/latest")
        #expect(Endpoint.conversation.route.parameterNames == ["conversation_id"])
    }

    /// The Xalorra seed's four endpoints answer exactly their seed bodies.
    @Test func seedEndpoints() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let root = try await server.request("GET", "/")
        #expect(root.status == 200 && root.body == #"{"message":"Xalorra API is running","version":"\#(XalorraVersion.current)"}"#)
        let token = try server.token(["--user", "jek", "--role", "admin", "--tenant", "tenant1"])
        let whoami = try await server.request("GET", "/whoami", token: token)
        #expect(whoami.body == #"{"user_id":"jek","role":"admin","tenant":"tenant1"}"#)
        let echo = try await server.request("POST", "/echo", token: token, body: #"{"a": [1, 2.5], "b": null}"#)
        #expect(echo.status == 200 && echo.body == #"{"a": [1, 2.5], "b": null}"#)
        let predict = try await server.request("POST", "/predict/xgb-v2", token: token, body: #"{"features":[1,2,3]}"#)
        #expect(predict.status == 200)
        #expect(predict.body == #"{"model":"xgb-v2","input":[1,2,3],"prediction":6,"version":"baseline"}"#)
        #expect(predict.headers["Content-Type"].first == "application/json")
        let batch = try await server.request(
            "POST", "/predict/xgb-v2", token: token, body: #"{"instances":[[1,2],[3.5]]}"#)
        #expect(batch.body == #"{"model":"xgb-v2","version":"baseline","predictions":[3,3.5]}"#)
        let logs = try json(try await server.request("GET", "/logs?limit=5", token: token).body)
        #expect(logs["pagination"]?["total"] == .int(3))
        #expect(logs["data"].map { if case .array(let items) = $0 { items.allSatisfy { $0["tenant"] == "tenant1" } } else { false } } == true)
        let file = try String(contentsOf: server.cli.home.appendingPathComponent("logs/predictions.log"), encoding: .utf8)
        #expect(file.contains("model=xgb-v2 input=[1, 2, 3] prediction=6"))
    }

    /// Every failure is the one envelope with the seed's codes.
    @Test func errorEnvelopes() async throws {
        let server = try await LiveServer(environment: ["XALORRA_MAX_BODY": "1000"])
        defer { server.stop() }
        let token = try server.token()
        let cases: [(String, String, String?, String?, Int, String)] = [
            ("GET", "/nope", nil, nil, 404, "RESOURCE_NOT_FOUND"),
            ("DELETE", "/whoami", token, nil, 405, "METHOD_NOT_ALLOWED"),
            ("GET", "/whoami", nil, nil, 401, "AUTHENTICATION_FAILED"),
            ("POST", "/predict/m", token, "{\"features\": [1,", 400, "VALIDATION_ERROR"),
            ("POST", "/predict/m", token, #"{"features": [1, "x", true]}"#, 422, "VALIDATION_ERROR"),
            ("POST", "/predict/m", token, #"{"feature": [1]}"#, 422, "VALIDATION_ERROR"),
            ("POST", "/predict/..%2F..%2Fetc", token, #"{"features": [1]}"#, 422, "VALIDATION_ERROR"),
            ("POST", "/echo", token, String(repeating: " ", count: 2000) + "1", 413, "PAYLOAD_TOO_LARGE"),
            ("GET", "/logs?limit=0", token, nil, 422, "VALIDATION_ERROR"),
            // Found by schemathesis: sums past the largest double answered `inf` (not JSON) and stored it, and then
            // GET /logs failed with 500 reading it back.
            ("POST", "/predict/m", token, #"{"features": [1.7e308, 1.7e308]}"#, 422, "VALIDATION_ERROR"),
            ("POST", "/predict/m", token, #"{"instances": [[1], [1.7e308, 1.7e308]]}"#, 422, "VALIDATION_ERROR"),
            ("GET", "/logs?limit=-1", token, nil, 422, "VALIDATION_ERROR"),
            ("POST", "/admin/tokens", token, "{}", 403, "INSUFFICIENT_PERMISSIONS"),
            ("DELETE", "/train/jobs/job_1", token, nil, 404, "RESOURCE_NOT_FOUND"),
        ]
        for (method, path, auth, body, status, code) in cases {
            let response = try await server.request(method, path, token: auth, body: body)
            #expect(response.status == status, "\(method) \(path): \(response.body)")
            let envelope = try json(response.body)
            #expect(envelope["error"]?["code"] == .string(code), "\(method) \(path): \(response.body)")
            #expect(envelope["timestamp"] != nil)
        }
        let details = try json(try await server.request("POST", "/predict/m", token: token, body: #"{"features": [1, "x"]}"#).body)
        #expect(details["error"]?["details"] == .array([.object([("field", "features[1]"), ("message", "expected a number, got string")])]))
        // A path parameter is refused by the value the client sent: decoded where its escapes are sound, as written
        // where they are not (Foundation's decoding had answered nil for those, and the refusal named '').
        for (path, value) in [("/predict/xgb%zz", "xgb%zz"), ("/predict/a%", "a%"), ("/predict/%FF", "%FF"),
                              ("/predict/a%2fb", "a/b"), ("/predict/%E2%82%AC", "€")] {
            // Sent as written: an HTTP client library re-encodes what it finds malformed.
            let refused = try #require(try await RawHTTP.exchange(
                port: server.port, RawHTTP.request("POST", path, token: token, body: Array(#"{"features": [1]}"#.utf8))))
            #expect(refused.status == 422, "\(path): \(refused)")
            let message = try json(refused.text)["error"]?["message"]
            #expect(message == .string("model: '\(value)' is not a model name (letters, digits, '.', '_', '-'; at most 128; optionally @VERSION)"), "\(path): \(refused)")
        }
        let wrongMethod = try await server.request("DELETE", "/whoami", token: token)
        #expect(wrongMethod.headers["Allow"].first == "GET")
        // Nothing of the refused requests was stored, and the log reads back.
        let logs = try await server.request("GET", "/logs", token: token)
        #expect(try logs.status == 200 && json(logs.body)["pagination"]?["total"] == 0, "\(logs.body)")
    }

    /// `XALORRA_ACCESS_LOG=off` drops the access log's line per request, and nothing else: an answer of 500 and above
    /// is still logged, every request is still counted in the metrics, and a bad value is refused when `serve` starts.
    @Test func accessLogSwitch() async throws {
        for enabled in [true, false] {
            // An AI service that cannot be reached, for a 503.
            var environment = ["XALORRA_CHAT_URL": "http://127.0.0.1:9", "XALORRA_CHAT_TIMEOUT": "1s"]
            if !enabled { environment["XALORRA_ACCESS_LOG"] = "off" }
            let server = try await LiveServer(environment: environment)
            defer { server.stop() }
            let admin = try server.token(["--role", "admin"])
            #expect(try await server.request("GET", "/whoami", token: admin).status == 200)
            #expect(try await server.request("GET", "/nope").status == 404)
            let unavailable = try await server.request(
                "POST", "/chat/message", token: admin, body: #"{"message": "anyone?"}"#)
            #expect(unavailable.status == 503, "\(unavailable.body)")
            // Each line is written before its answer is sent, in this order: once the 503's line has been read from
            // the server's stderr, the earlier ones would have been too.
            #expect(try await server.log.waitFor("POST /chat/message 503", seconds: 10), "\(server.log.text)")
            #expect(server.log.text.contains("GET /whoami 200") == enabled, "\(server.log.text)")
            #expect(server.log.text.contains("GET /nope 404") == enabled, "\(server.log.text)")
            let metrics = try await server.request("GET", "/metrics", token: admin).body
            #expect(metrics.contains(#"xalorra_http_requests_total{route="GET /whoami",status="200"} 1"#), "\(metrics)")
        }
        var cli = try BinaryRunner()
        cli.environment = ["SECRET_KEY": LiveServer.secret, "XALORRA_ACCESS_LOG": "sometimes"]
        let (process, _, err) = try cli.start(["serve", "--port", "0"])
        let refusal = OutputCollector(err.fileHandleForReading)
        // Refused before it binds; a `serve` that started anyway is stopped rather than left to hang the run.
        let refused = try await refusal.waitFor("XALORRA_ACCESS_LOG=sometimes is not one of", seconds: 10)
        if process.isRunning { try? await Task.sleep(for: .milliseconds(500)) }
        let stillRunning = process.isRunning
        if stillRunning { process.terminate() }
        process.waitUntilExit()
        #expect(refused && !stillRunning && process.terminationStatus != 0, "\(refusal.text)")
    }

    /// The JWT attack matrix over HTTP: each is a 401 envelope.
    @Test func jwtAttacksRefused() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let forger = TokenForger.live
        let claims = #"{"sub":"a","user_id":"a","role":"admin","tenant":"t","exp":4000000000}"#
        let attacks = [
            TokenForger.unsigned(payload: claims),
            forger.sign(claims, alg: "HS512"),
            TokenForger(secret: "wrong-secret-wrong-secret-wrong!!").sign(claims),
            forger.sign(#"{"sub":"a","role":"admin","tenant":"t","exp":1000}"#),
            forger.sign(#"{"sub":"a","role":"admin","tenant":"t","exp":4000000000,"typ":"refresh"}"#),
            forger.sign(#"{"user_id":"a","role":"admin","tenant":"t"}"#),
            try server.token().dropLast(3) + "abc",
        ]
        for token in attacks {
            let response = try await server.request("GET", "/whoami", token: token)
            #expect(response.status == 401, "\(token)")
            #expect(try json(response.body)["error"]?["code"] != nil)
        }
        #expect(try await server.request("GET", "/whoami", token: forger.sign(claims)).status == 200)
    }

    /// Rate limits send both header families and refuse with 429 and `retry_after`; off sends no headers.
    @Test func rateLimits() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let first = try await server.request("GET", "/health")
        #expect(first.headers["X-RateLimit-Limit"].first == "100")
        #expect(first.headers["X-RateLimit-Remaining"].first == "99")
        #expect(first.headers["RateLimit-Policy"].first == #""default";q=100;w=60"#)
        var last = first
        var sent = 1
        // Windows are fixed minutes: one may roll over during the run, so allow a second window's worth.
        while last.status != 429, sent < 202 {
            last = try await server.request("GET", "/health")
            sent += 1
        }
        #expect(last.status == 429)
        let body = try json(last.body)
        #expect(body["error"]?["code"] == "RATE_LIMIT_EXCEEDED")
        #expect(body["error"]?["retry_after"] != nil && last.headers["Retry-After"].first != nil)
        let off = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { off.stop() }
        #expect(try await off.request("GET", "/health").headers["X-RateLimit-Limit"].isEmpty)
    }

    /// Admins mint tokens remotely; the token works against the same server.
    @Test func adminTokens() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let admin = try server.token(["--role", "admin"])
        let minted = try await server.request(
            "POST", "/admin/tokens", token: admin, body: #"{"user":"bob","tenant":"t2","ttl":"15m"}"#)
        #expect(minted.status == 200)
        let issued = try IssuedToken(json: json(minted.body))
        #expect(issued.claims.userID == "bob" && issued.claims.tenant == "t2" && issued.expiresIn == 900)
        #expect(try await server.request("GET", "/whoami", token: issued.token).body == #"{"user_id":"bob","role":"user","tenant":"t2"}"#)
    }

    /// The server keeps the text log open, and follows it when it is rotated away (renamed, as logrotate does).
    @Test func textLogRotation() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let token = try server.token()
        let logs = server.cli.home.appendingPathComponent("logs")
        _ = try await server.request("POST", "/predict/before", token: token, body: #"{"features":[1]}"#)
        try FileManager.default.moveItem(
            at: logs.appendingPathComponent("predictions.log"), to: logs.appendingPathComponent("predictions.log.1"))
        _ = try await server.request("POST", "/predict/after", token: token, body: #"{"features":[2]}"#)
        let current = try String(contentsOf: logs.appendingPathComponent("predictions.log"), encoding: .utf8)
        let rotated = try String(contentsOf: logs.appendingPathComponent("predictions.log.1"), encoding: .utf8)
        #expect(current.contains("model=after") && !current.contains("model=before"))
        #expect(rotated.contains("model=before") && !rotated.contains("model=after"))
    }

    /// `/openapi.json` describes every route of the table; `/docs` renders it. (openapi-spec-validator checks it in
    /// ThirdPartyClientTests.openAPISpecValidator.)
    @Test func openAPIAndDocs() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let response = try await server.request("GET", "/openapi.json")
        #expect(response.status == 200)
        let document = try json(response.body)
        #expect(document["openapi"] == "3.1.0")
        for route in RouteTable.all {
            #expect(document["paths"]?[route.path]?[route.method.lowercased()] != nil, "\(route.key) missing")
        }
        // The Aksara seed names a conversation's path parameter `conversation_id`; generated clients take the name.
        let parameters = document["paths"]?["/chat/histories/{conversation_id}"]?["get"]?["parameters"]?.arrayValue ?? []
        #expect(parameters.contains { $0["name"] == "conversation_id" && $0["in"] == "path" }, "\(parameters)")
        let docs = try await server.request("GET", "/docs")
        #expect(docs.status == 200 && docs.body.contains("/openapi.json"))
        #expect(docs.headers["Content-Type"].first?.hasPrefix("text/html") == true)
    }

    /// `/metrics` counts requests by route and status, and committed predictions by model.
    @Test func metrics() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let token = try server.token()
        _ = try await server.request("POST", "/predict/xgb-v2", token: token, body: #"{"instances":[[1],[2]]}"#)
        _ = try await server.request("GET", "/nope")
        let text = try await server.request("GET", "/metrics", token: try server.token(["--role", "admin"])).body
        #expect(text.contains(#"xalorra_predictions_total{model="xgb-v2"} 2"#))
        #expect(text.contains(#"xalorra_http_requests_total{route="POST /predict/{model}",status="200"} 1"#))
        #expect(text.contains(#"xalorra_http_requests_total{route="unmatched",status="404"} 1"#))
        #expect(text.contains(#"xalorra_http_request_duration_seconds_bucket{route="POST /predict/{model}",status="200",le="+Inf"} 1"#))
    }

    /// A prediction another process commits to the store (`xalorra predict` offline beside the server) reaches the
    /// server's live feeds within moments, as its own do, and no row is sent twice (the dashboard's Live page showed
    /// only the server's own predictions).
    @Test func predictionsOfOtherProcessesReachTheLiveFeeds() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let events = FeedFollower(server, .serverSentEvents, token: token)
        let socket = FeedFollower(server, .webSocket, token: token)
        defer {
            events.stop()
            socket.stop()
        }
        #expect(try await events.waitOpen())
        #expect(try await socket.waitOpen())
        // The server's own commits and a CLI process's (the same store, another process) interleave.
        for round in 1...3 {
            _ = try await server.request("POST", "/predict/own", token: token, body: #"{"features":[\#(round)]}"#)
            #expect(try server.cli.run(["predict", "cli", "\(round)", "\(round)"]).status == 0)
        }
        _ = try await server.request("POST", "/predict/own", token: token, body: #"{"instances":[[7],[8]]}"#)
        for follower in [events, socket] {
            let received = await follower.events(within: 5) { $0.count >= 8 }
            let models = received.compactMap { try? JSONParser.parse($0)["model"]?.stringValue }
            #expect(models.filter { $0 == "cli" }.count == 3, "\(received)")
            #expect(models.filter { $0 == "own" }.count == 5, "\(received)")
            let ids = received.compactMap { try? JSONParser.parse($0)["id"] }.map { JSONWriter.compact($0) }
            #expect(Set(ids).count == received.count, "an id sent twice: \(received)")
        }
    }

    /// `/metrics` keeps one series per registered or listed model: predictions against any other name (anyone may
    /// predict against any name while the baseline answers) share `model="_other"`, so a client cannot grow the
    /// series without bound; scrapes spend their own rate-limit budget, not the anonymous one.
    @Test func metricsSeriesStayBounded() async throws {
        let server = try await LiveServer(environment: ["XALORRA_METRICS_MODELS": "listed, price"])
        defer { server.stop() }
        let token = try server.token()
        for name in ["random-1", "random-2", "random-3", "listed"] {
            _ = try await server.request("POST", "/predict/\(name)", token: token, body: #"{"features":[1,2]}"#)
        }
        let file = try server.cli.write("train.csv", "a,y\n1,2\n2,4\n3,6\n4,8\n5,10\n6,12\n")
        let trained = try server.cli.run(["train", "fitted", "--data", file, "--target", "y", "--kind", "linear"])
        #expect(trained.status == 0, "\(trained.stderr)")
        _ = try await server.request("POST", "/predict/fitted", token: token, body: #"{"features":[7]}"#)
        let admin = try server.token(["--role", "admin"])
        let scrape = try await server.request("GET", "/metrics", token: admin)
        #expect(scrape.headers["RateLimit-Policy"].first?.hasPrefix(#""metrics";q=600"#) == true, "\(scrape.headers)")
        let text = scrape.body
        #expect(text.contains(#"xalorra_predictions_total{model="_other"} 3"#), "\(text)")
        #expect(text.contains(#"xalorra_predictions_total{model="listed"} 1"#))
        #expect(text.contains(#"xalorra_predictions_total{model="fitted"} 1"#))
        #expect(!text.contains("random-"))
    }

    /// The same commands print the same output offline and with --url (the contract, tested through the CLI).
    @Test func remoteParity() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let cli = server.cli
        let token = try server.token(["--role", "admin"])
        let remote = ["--url", server.url, "--token", token]
        let local = try cli.run(["predict", "xgb-v2", "1", "2", "3", "--json"])
        let over = try cli.run(["predict", "xgb-v2", "1", "2", "3", "--json"] + remote)
        #expect(over.status == 0 && over.stdout == local.stdout)
        let batch = try cli.write("rows.csv", "a,b\n1,2\n3,4\n")
        #expect(try cli.run(["predict", "m", "-f", batch] + remote).stdout == "3\n7\n")
        #expect(try cli.run(["logs"] + remote).stdout == cli.run(["logs", "--tenant", "default"]).stdout)
        #expect(try cli.run(["routes"] + remote).stdout == cli.run(["routes"]).stdout)
        let bad = try cli.run(["predict", "xgb-v2@9", "1"] + remote)
        #expect(bad.status == 1 && bad.stderr.contains("has no version 9"))
        let minted = try cli.run(["token", "--user", "zed", "--json"] + remote)
        #expect(try json(minted.stdout)["claims"]?["user_id"] == "zed")
        let noToken = try cli.run(["predict", "m", "1", "--url", server.url])
        #expect(noToken.status == 4 && noToken.stderr.contains("Not authenticated"))
        let down = try cli.run(["routes", "--url", "http://127.0.0.1:9"])
        #expect(down.status == 1 && down.stderr.contains("cannot reach"))
    }

    /// `logs --tail --url` follows `GET /logs/stream`: it prints predictions of its own tenant as they commit, and
    /// never another tenant's.
    @Test func remoteTailIsLiveAndTenantScoped() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let mine = try server.token(["--tenant", "t1"])
        let theirs = try server.token(["--tenant", "t2"])
        let (follower, out, _) = try server.cli.start(["logs", "--tail", "--url", server.url, "--token", mine])
        let collected = OutputCollector(out.fileHandleForReading)
        try await Task.sleep(for: .milliseconds(700))
        _ = try await server.request("POST", "/predict/other", token: theirs, body: #"{"features":[1]}"#)
        _ = try await server.request("POST", "/predict/live", token: mine, body: #"{"features":[4,5]}"#)
        #expect(try await collected.waitFor("model=live input=[4, 5] prediction=9", seconds: 3))
        #expect(!collected.text.contains("model=other"))
        kill(follower.processIdentifier, SIGINT)
        follower.waitUntilExit()
        #expect(follower.terminationStatus == 0)
    }

    /// `--cors-origin` (repeatable): allowed origins get the preflight and the CORS headers, others get none, and
    /// a server without it never sends any.
    @Test func corsOrigins() async throws {
        let server = try await LiveServer(arguments: ["--cors-origin", "https://app.example", "--cors-origin", "https://b.example"])
        defer { server.stop() }
        let preflight = try await server.request(
            "OPTIONS", "/predict/m",
            headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization, content-type")])
        #expect(preflight.status == 204)
        #expect(preflight.headers.first(name: "Access-Control-Allow-Origin") == "https://app.example")
        #expect(preflight.headers.first(name: "Access-Control-Allow-Methods") == "POST")
        #expect(preflight.headers.first(name: "Access-Control-Allow-Headers")?.contains("Authorization") == true)
        // What the inference protocol's and the OpenAI SDK's browser clients send: binary framing, compressed bodies,
        // the SDK's own fields (asked for by name in the preflight); a binary answer's framing field is readable.
        let sdk = try await server.request(
            "OPTIONS", "/v2/models/m/infer",
            headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-encoding, x-stainless-os, inference-header-content-length")])
        let allowedFields = sdk.headers.first(name: "Access-Control-Allow-Headers") ?? ""
        for field in ["Content-Encoding", "Inference-Header-Content-Length", "x-stainless-os"] {
            #expect(allowedFields.contains(field), "\(allowedFields)")
        }
        let hostile = try await server.request(
            "OPTIONS", "/v2/models/m/infer",
            headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "x-a, bad name")])
        #expect(hostile.headers.first(name: "Access-Control-Allow-Headers")?.contains("bad") == false)
        // The answer follows the asked-for fields: a shared cache keys it by them too.
        #expect(sdk.headers.first(name: "Vary")?.contains("Access-Control-Request-Headers") == true, "\(sdk.headers)")
        let allowed = try await server.request("GET", "/", headers: [("Origin", "https://b.example")])
        #expect(allowed.headers.first(name: "Access-Control-Allow-Origin") == "https://b.example")
        #expect(allowed.headers.first(name: "Vary") == "Origin")
        #expect(allowed.headers.first(name: "Access-Control-Expose-Headers")?.contains("Retry-After") == true)
        #expect(allowed.headers.first(name: "Access-Control-Expose-Headers")?.contains("Inference-Header-Content-Length") == true)
        let other = try await server.request("GET", "/", headers: [("Origin", "https://evil.example")])
        #expect(other.status == 200 && other.headers.first(name: "Access-Control-Allow-Origin") == nil)
        let otherPreflight = try await server.request(
            "OPTIONS", "/predict/m", headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")])
        #expect(otherPreflight.status == 405)

        let plain = try await LiveServer()
        defer { plain.stop() }
        let none = try await plain.request("GET", "/", headers: [("Origin", "https://app.example")])
        #expect(none.headers.first(name: "Access-Control-Allow-Origin") == nil)
        let bad = try plain.cli.run(["serve", "--port", "0", "--cors-origin", "app.example"])
        #expect(bad.status == 2 && bad.stderr.contains("scheme://host"), "\(bad)")
    }

    /// SIGTERM stops the server cleanly and promptly (exit 0), even with a stream open; health reports the store.
    @Test func healthAndShutdown() async throws {
        let server = try await LiveServer()
        let detailed = try json(try await server.request("GET", "/health/detailed").body)
        #expect(detailed["status"] == "healthy")
        #expect(detailed["dependencies"]?["database"]?["status"] == "connected")
        let health = try server.cli.run(["health", "--url", server.url])
        #expect(health.status == 0 && health.stdout.contains("connected"))
        // An open event stream must not hold the shutdown up (it waited for the next heartbeat before).
        let (follower, _, _) = try server.cli.start(["logs", "--tail", "--url", server.url, "--token", try server.token()])
        try await Task.sleep(for: .milliseconds(500))
        let started = Date()
        #expect(server.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 5, "shutdown took \(Date().timeIntervalSince(started)) s")
        follower.waitUntilExit()
    }
}
