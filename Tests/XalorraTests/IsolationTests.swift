import Foundation
import NIOHTTP1
import Testing
@testable import XalorraCore

/// Auth, isolation and secrets (issue 7), black-box against a live `xalorra serve`: forged tokens on every
/// protected route, brute-force logins, users' conversations, tenants' data and feeds, `/admin/*`, secret files and
/// what the server writes to its log. Route lists come from `RouteTable.all`, so a new route is covered (or the test
/// asks for a decision about it).
@Suite(.serialized)
struct IsolationTests {
    /// The secret `LiveServer` starts every server with.
    static let secret = "live-test-secret-live-test-secret!"

    typealias Response = (status: Int, headers: HTTPHeaders, body: String)

    private func json(_ text: String) -> JSONValue { (try? JSONParser.parse(text)) ?? .null }

    private func number(_ value: JSONValue?) -> Double? { value?.numberValue?.doubleValue }

    private func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    private static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// A token signed by hand: HMAC-SHA256 over `header` and `payload` with `key` (whatever `alg` says).
    private func sign(_ header: String, _ payload: String, key: String = secret) -> String {
        let input = base64URL(Array(header.utf8)) + "." + base64URL(Array(payload.utf8))
        return input + "." + base64URL(HMACSHA256.mac(key: Array(key.utf8), message: Array(input.utf8)))
    }

    /// Claims as xalorra issues them; `nil` leaves a claim out.
    private func claims(
        user: String = "mallory", role: String = "user", tenant: String = "default", typ: String? = "access",
        iat: Int64? = IsolationTests.now, exp: Int64? = IsolationTests.now + 3600, nbf: Int64? = nil
    ) -> String {
        var members: [(String, JSONValue)] = [
            ("sub", .string(user)), ("user_id", .string(user)), ("role", .string(role)), ("tenant", .string(tenant)),
        ]
        if let typ { members.append(("typ", .string(typ))) }
        if let iat { members.append(("iat", .int(iat))) }
        if let exp { members.append(("exp", .int(exp))) }
        if let nbf { members.append(("nbf", .int(nbf))) }
        members.append(("jti", .string(TokenService.randomID())))
        return body(members)
    }

    /// `token` with its payload edited and its signature kept.
    private func tampered(_ token: String, _ key: String, _ value: JSONValue) throws -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let payload = try JSONParser.parse(try #require(Base64URL.decode(parts[1])))
        return "\(parts[0]).\(base64URL(Array(JSONWriter.compact(payload.setting(key, value)).utf8))).\(parts[2])"
    }

    /// `path` with each `{parameter}` replaced from `values` (else a harmless stand-in).
    static func concrete(_ path: String, _ values: [String: String] = [:]) -> String {
        var out = path
        while let open = out.firstIndex(of: "{"), let close = out[open...].firstIndex(of: "}") {
            let name = String(out[out.index(after: open)..<close])
            out.replaceSubrange(open...close, with: values[name] ?? (name == "version" ? "1" : "probe"))
        }
        return out
    }

    /// Sends `requests` (label, method, path, token, body) eight at a time and returns the answers in order.
    private func sendAll(
        _ server: LiveServer, _ requests: [(String, String, String, String?, String?)]
    ) async throws -> [(String, Response)] {
        var answers: [(String, Response)] = []
        for start in stride(from: 0, to: requests.count, by: 8) {
            let chunk = Array(requests[start..<min(start + 8, requests.count)])
            let results = try await withThrowingTaskGroup(of: (Int, Response).self) { group in
                for (index, (_, method, path, token, body)) in chunk.enumerated() {
                    group.addTask { (index, try await server.request(method, path, token: token, body: body)) }
                }
                var collected: [(Int, Response)] = []
                for try await result in group { collected.append(result) }
                return collected.sorted { $0.0 < $1.0 }.map(\.1)
            }
            answers += zip(chunk.map(\.0), results).map { ($0, $1) }
        }
        return answers
    }

    /// Expects a 401 in `route`'s error format: the envelope with `code`, or the inference protocol's string.
    private func expectRefused(_ route: Route, _ answer: Response, code: String, _ label: String) {
        #expect(answer.status == 401, "\(label): \(answer.status) \(answer.body)")
        let body = json(answer.body)
        switch route.errorFormat {
        case .envelope:
            #expect(body["error"]?["code"]?.stringValue == code, "\(label): \(answer.body)")
            #expect(body["timestamp"] != nil, "\(label): \(answer.body)")
        case .inference:
            #expect(body["error"]?.stringValue?.isEmpty == false, "\(label): \(answer.body)")
        }
    }

    private func register(_ server: LiveServer, _ name: String, password: String, extra: [(String, JSONValue)] = [])
        async throws -> Response
    {
        try await server.request(
            "POST", "/users/register",
            body: body([("username", .string(name)), ("email", .string("\(name)@x.io")), ("nama_lengkap", "Test User"),
                ("password", .string(password))] + extra))
    }

    private func login(_ server: LiveServer, _ name: String, password: String, token: String? = nil) async throws
        -> Response
    {
        try await server.request(
            "POST", "/users/login", token: token, body: body([("username", .string(name)), ("password", .string(password))]))
    }

    // MARK: - RFC 8725 over HTTP

    /// Every RFC 8725 attack token is a 401 in the route's error format on every protected route; valid variants pass.
    @Test func forgedTokensAreRefusedOnEveryProtectedRoute() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        #expect(try await register(server, "mallory", password: "mallory-pass-1").status == 201)
        let session = json(try await login(server, "mallory", password: "mallory-pass-1").body)["data"]
        let access = try #require(session?["access_token"]?.stringValue)
        let refresh = try #require(session?["refresh_token"]?.stringValue)
        let now = Self.now
        let admin = claims(role: "admin")
        let attacker = "attacker-secret-attacker-secret!!"
        func otherAlgorithm(_ name: String) throws -> String {
            let minted = try server.cli.run(["token", "--user", "mallory", "--role", "admin"], environment: ["JWT_ALGORITHM": name])
            #expect(minted.status == 0, "\(minted.stderr)")
            return minted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let unsigned = { (header: String) in base64URL(Array(header.utf8)) + "." + base64URL(Array(admin.utf8)) + "." }
        let accessParts = access.split(separator: ".")
        let attacks: [(String, String, String)] = [
            ("alg none, unsigned", unsigned(#"{"alg":"none","typ":"JWT"}"#), "AUTHENTICATION_FAILED"),
            ("alg NONE, unsigned", unsigned(#"{"alg":"NONE"}"#), "AUTHENTICATION_FAILED"),
            ("alg none, signed", sign(#"{"alg":"none"}"#, admin), "AUTHENTICATION_FAILED"),
            ("duplicate alg, none last", unsigned(#"{"alg":"HS256","alg":"none"}"#), "AUTHENTICATION_FAILED"),
            ("HS512 with the right secret", try otherAlgorithm("HS512"), "AUTHENTICATION_FAILED"),
            ("HS384 with the right secret", try otherAlgorithm("HS384"), "AUTHENTICATION_FAILED"),
            ("HS512 header over an HS256 MAC", sign(#"{"alg":"HS512"}"#, admin), "AUTHENTICATION_FAILED"),
            ("RS256 with the secret as public key", sign(#"{"alg":"RS256","typ":"JWT"}"#, admin), "AUTHENTICATION_FAILED"),
            ("alg in lower case", sign(#"{"alg":"hs256"}"#, admin), "AUTHENTICATION_FAILED"),
            ("wrong secret", sign(#"{"alg":"HS256"}"#, admin, key: attacker), "AUTHENTICATION_FAILED"),
            ("role tampered to admin", try tampered(access, "role", "admin"), "AUTHENTICATION_FAILED"),
            ("tenant tampered", try tampered(access, "tenant", "acme"), "AUTHENTICATION_FAILED"),
            ("user tampered", try tampered(try tampered(access, "sub", "root"), "user_id", "root"), "AUTHENTICATION_FAILED"),
            ("signature stripped", "\(accessParts[0]).\(accessParts[1]).", "AUTHENTICATION_FAILED"),
            ("expired an hour ago", sign(#"{"alg":"HS256"}"#, claims(role: "admin", exp: now - 3600)), "TOKEN_EXPIRED"),
            ("expired past the leeway", sign(#"{"alg":"HS256"}"#, claims(exp: now - 90)), "TOKEN_EXPIRED"),
            ("nbf in the future", sign(#"{"alg":"HS256"}"#, claims(nbf: now + 600)), "AUTHENTICATION_FAILED"),
            ("iat in the future", sign(#"{"alg":"HS256"}"#, claims(iat: now + 600)), "AUTHENTICATION_FAILED"),
            ("refresh token as access", refresh, "AUTHENTICATION_FAILED"),
            ("forged typ refresh", sign(#"{"alg":"HS256"}"#, claims(role: "admin", typ: "refresh")), "AUTHENTICATION_FAILED"),
            ("no exp", sign(#"{"alg":"HS256"}"#, claims(role: "admin", exp: nil)), "AUTHENTICATION_FAILED"),
            ("jku at the attacker's key",
                sign(#"{"alg":"HS256","kid":"attacker","jku":"http://127.0.0.1:9/jwks.json"}"#, admin, key: attacker),
                "AUTHENTICATION_FAILED"),
            ("x5u at the attacker's key", sign(#"{"alg":"HS256","x5u":"http://127.0.0.1:9/c.pem"}"#, admin, key: attacker),
                "AUTHENTICATION_FAILED"),
            ("embedded jwk", sign(
                #"{"alg":"HS256","jwk":{"kty":"oct","k":"\#(base64URL(Array(attacker.utf8)))"}}"#, admin, key: attacker),
                "AUTHENTICATION_FAILED"),
            ("kid at /dev/null, empty key", sign(#"{"alg":"HS256","kid":"../../../../../dev/null"}"#, admin, key: ""),
                "AUTHENTICATION_FAILED"),
            ("not a JWT", "not.a.jwt", "AUTHENTICATION_FAILED"),
        ]
        let protected = RouteTable.all.filter { $0.access != .public }
        #expect(protected.count >= 30 && protected.contains { $0.access == .admin })
        var requests: [(String, String, String, String?, String?)] = []
        var routeOf: [String: (Route, String)] = [:]
        for route in protected {
            let path = Self.concrete(route.path)
            let body: String? = ["POST", "PUT", "PATCH"].contains(route.method) ? "{}" : nil
            for (name, token, code) in attacks {
                let label = "\(route.key) — \(name)"
                requests.append((label, route.method, path, token, body))
                routeOf[label] = (route, code)
                if route.transport.acceptsQueryToken {
                    let queryLabel = label + " (query)"
                    requests.append((queryLabel, route.method, path + "?access_token=" + token, nil, body))
                    routeOf[queryLabel] = (route, code)
                }
            }
        }
        for (label, answer) in try await sendAll(server, requests) {
            let (route, code) = try #require(routeOf[label])
            expectRefused(route, answer, code: code, label)
            #expect(!answer.body.contains(access) && !answer.body.contains(Self.secret), "\(label) echoes a secret")
        }

        // A refused WebSocket upgrade never opens a socket.
        for (name, token, _) in attacks where ["alg none, unsigned", "role tampered to admin"].contains(name) {
            let follower = FeedFollower(server, .webSocket, token: token)
            let opened = try await follower.waitOpen(seconds: 1)
            #expect(!opened, "\(name) opened a WebSocket")
            follower.stop()
        }

        let foreignKeyHeader =
            #"{"alg":"HS256","kid":"attacker","jku":"http://127.0.0.1:9/jwks.json","x5u":"http://127.0.0.1:9/c.pem"}"#
        // Controls: the forging is real (the same helper with the right secret passes), foreign key headers do not
        // change which key verifies, and the documented 60 s leeway applies to exp, nbf and iat.
        // Hand-signed controls name someone without an account: mallory's account has a tenant of its own and
        // takes only tokens issued after it was created (issue 12), which a token "expired 20 s ago" cannot be.
        // The clock is read again here: the attack matrix above may take a minute on a loaded machine.
        let fresh = Self.now
        let accepted: [(String, String, String)] = [
            ("the login's own access token", access, "mallory"),
            ("kid/jku/x5u pointing elsewhere", sign(foreignKeyHeader, claims(user: "oscar")), "oscar"),
            ("expired 20 s ago", sign(#"{"alg":"HS256"}"#, claims(user: "oscar", exp: fresh - 20)), "oscar"),
            ("nbf and iat 20 s ahead", sign(#"{"alg":"HS256"}"#, claims(user: "oscar", iat: fresh + 20, nbf: fresh + 20)), "oscar"),
        ]
        for (name, token, user) in accepted {
            let whoami = try await server.request("GET", "/whoami", token: token)
            #expect(whoami.status == 200 && json(whoami.body)["user_id"] == .string(user), "\(name): \(whoami.body)")
            #expect(try await server.request("GET", "/v2/models/m", token: token).status == 200, "\(name)")
        }
        // (mallory's account has the user role, so a correct admin token is one for a name outside the store.)
        let foreignHeaders = sign(foreignKeyHeader, claims(user: "trent", role: "admin"))
        #expect(try await server.request("GET", "/admin/users", token: foreignHeaders).status == 200)
        // An access token is not a refresh token either.
        let swapped = try await server.request("POST", "/users/refresh", body: body([("refresh_token", .string(access))]))
        #expect(swapped.status == 401, "\(swapped.body)")
    }

    // MARK: - Brute force

    /// Wrong passwords reach 429 within 5 per 15 min; then even the right one is refused, whatever token comes along.
    @Test func bruteForceLoginIsLimited() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        #expect(try await register(server, "victim", password: "correct-horse-1").status == 201)
        var remaining: [String] = []
        for attempt in 0..<5 {
            let answer = try await login(server, attempt == 2 ? "someone_else" : "victim", password: "guess-\(attempt)")
            #expect(answer.status == 401, "attempt \(attempt): \(answer.body)")
            remaining.append(answer.headers["X-RateLimit-Remaining"].first ?? "?")
        }
        #expect(remaining == ["4", "3", "2", "1", "0"])
        let limited = try await login(server, "victim", password: "guess-5")
        #expect(limited.status == 429, "\(limited.body)")
        let error = json(limited.body)["error"]
        #expect(error?["code"] == "RATE_LIMIT_EXCEEDED")
        let retryAfter = error?["retry_after"]?.numberValue.map { Int($0.doubleValue) } ?? -1
        #expect((1...900).contains(retryAfter), "retry_after \(retryAfter)")
        #expect(limited.headers["Retry-After"].first == String(retryAfter))
        #expect(limited.headers["RateLimit-Policy"].first == #""login";q=5;w=900"#)

        let mintedForAnother = try server.token(["--user", "accomplice"])
        let attempts: [(String, String, String?)] = [
            ("the right password", "victim", nil), ("by email", "victim@x.io", nil),
            ("with a forged bearer token", "victim", "not-a-token"),
            ("with another account's valid token", "victim", mintedForAnother),
        ]
        for (name, username, token) in attempts {
            let answer = try await login(server, username, password: "correct-horse-1", token: token)
            #expect(answer.status == 429, "\(name): \(answer.status) \(answer.body)")
            #expect(!answer.body.contains("access_token"), "\(name)")
        }
    }

    // MARK: - Conversations

    /// Another user gets 403/404 on every chat `{id}` route and posts, and never sees the conversation in lists or searches.
    @Test func conversationsStayWithTheirOwner() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let alice = try server.token(["--user", "alice"])
        let bob = try server.token(["--user", "bob"])
        func send(_ token: String, _ message: String, to id: String? = nil, stream: Bool = false) async throws -> Response {
            var members: [(String, JSONValue)] = [("message", .string(message))]
            if let id { members.append(("conversation_id", .string(id))) }
            if stream { members.append(("stream", true)) }
            return try await server.request("POST", "/chat/message", token: token, body: body(members))
        }
        let title = "Quarterly zebra forecast"
        let first = try await send(alice, title)
        let id = try #require(json(first.body)["data"]?["conversation_id"]?.stringValue)
        #expect(try await send(alice, "and the giraffes?", to: id).status == 200)
        let own = try #require(json(try await send(bob, "my own notes").body)["data"]?["conversation_id"]?.stringValue)

        let routes = RouteTable.all.filter { $0.path.hasPrefix("/chat/") && $0.path.contains("{conversation_id}") }
        #expect(routes.count >= 3)
        for route in routes {
            let answer = try await server.request(
                route.method, Self.concrete(route.path, ["conversation_id": id]), token: bob,
                body: route.method == "PUT" ? body([("title", "taken over")]) : nil)
            #expect([403, 404].contains(answer.status), "\(route.key): \(answer.status) \(answer.body)")
            #expect(["INSUFFICIENT_PERMISSIONS", "RESOURCE_NOT_FOUND"].contains(json(answer.body)["error"]?["code"]?.stringValue))
            #expect(!answer.body.contains("zebra") && !answer.body.contains("giraffes"), "\(route.key) leaks")
        }
        for stream in [false, true] {
            let answer = try await send(bob, "injected by bob", to: id, stream: stream)
            #expect([403, 404].contains(answer.status), "stream \(stream): \(answer.status) \(answer.body)")
            #expect(!answer.body.contains("zebra"))
        }
        // Sequential ids are guessable; guessing them gets nothing.
        for number in 1...6 where "conv_\(number)" != own {
            let answer = try await server.request("GET", "/chat/histories/conv_\(number)", token: bob)
            #expect([403, 404].contains(answer.status), "conv_\(number): \(answer.body)")
        }
        for query in ["", "?search=zebra", "?search=Quarterly", "?search=giraffes", "?limit=100&order=asc", "?sort=updated_at"] {
            let list = try await server.request("GET", "/chat/histories\(query)", token: bob)
            #expect(list.status == 200)
            let ids = json(list.body)["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(!ids.contains(id) && !list.body.contains("zebra"), "\(query): \(list.body)")
            #expect(ids == (query.hasPrefix("?search") ? [] : [own]), "\(query): \(ids)")
        }

        let detail = json(try await server.request("GET", "/chat/histories/\(id)", token: alice).body)["data"]
        #expect(detail?["title"] == .string(title) && detail?["message_count"] == 4, "\(String(describing: detail))")
        #expect(detail?["messages"]?.arrayValue?.contains { $0["content"] == "injected by bob" } == false)
        let found = json(try await server.request("GET", "/chat/histories?search=zebra", token: alice).body)
        #expect(found["pagination"]?["total"] == 1)
    }

    // MARK: - Tenants

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

    // MARK: - Admin

    /// Every admin route is 401 without a token and 403 for users, changing nothing; users cannot grant themselves a role.
    @Test func adminRoutesNeedTheAdminRole() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let registered = try await register(
            server, "climber", password: "climber-pass-1",
            extra: [("role", "admin"), ("tenant", "acme"), ("is_active", true), ("id", 1)])
        #expect(registered.status == 201 || registered.status == 422, "\(registered.body)")
        // Self-registered accounts get a tenant of their own, never the operator's default one (issue 12).
        var own = json(registered.body)["data"]?["tenant"]?.stringValue
        if registered.status == 422 {
            let again = try await register(server, "climber", password: "climber-pass-1")
            #expect(again.status == 201)
            own = json(again.body)["data"]?["tenant"]?.stringValue
        } else {
            #expect(json(registered.body)["data"]?["role"] == "user")
        }
        let tenant = try #require(own)
        #expect(tenant.hasPrefix("u-climber-"), "\(tenant)")
        let session = json(try await login(server, "climber", password: "climber-pass-1").body)
        let loggedIn = try #require(session["data"]?["access_token"]?.stringValue)
        let profile = try await server.request(
            "PUT", "/users/profile", token: loggedIn, body: body([("role", "admin"), ("tenant", "acme"), ("nama_lengkap", "C")]))
        #expect(profile.status == 200 || profile.status == 422, "\(profile.body)")
        let whoami = json(try await server.request("GET", "/whoami", token: loggedIn).body)
        #expect(whoami["role"] == "user" && whoami["tenant"] == .string(tenant))
        let fresh = json(try await login(server, "climber", password: "climber-pass-1").body)["data"]?["user"]
        #expect(fresh?["role"] == "user" && fresh?["tenant"] == .string(tenant), "\(String(describing: fresh))")

        let minted = try server.token(["--user", "someone"])
        let admin = try server.token(["--user", "root", "--role", "admin"])
        let routes = RouteTable.all.filter { $0.access == .admin }
        // `/metrics` too: it names every tenant's models (XALORRA_METRICS may open it).
        #expect(routes.count >= 7 && routes.allSatisfy { $0.path.hasPrefix("/admin/") || $0.path == "/metrics" })
        #expect(RouteTable.all.filter { $0.path.hasPrefix("/admin") }.allSatisfy { $0.access == .admin })
        for route in routes {
            let path = Self.concrete(route.path, ["username": "climber"])
            let body: String? =
                switch route.method {
                case "POST" where route.path == "/admin/tokens": #"{"user":"someone","role":"admin","tenant":"acme"}"#
                case "POST": #"{"username":"sneaky","email":"s@x.io","nama_lengkap":"S","password":"sneaky-pass","role":"admin"}"#
                case "PATCH": #"{"role":"admin","tenant":"acme"}"#
                default: nil
                }
            let anonymous = try await server.request(route.method, path, body: body)
            #expect(anonymous.status == 401 && json(anonymous.body)["error"]?["code"] == "AUTHENTICATION_FAILED", "\(route.key)")
            for (who, token) in [("minted user", minted), ("logged-in user", loggedIn)] {
                let answer = try await server.request(route.method, path, token: token, body: body)
                #expect(answer.status == 403, "\(route.key) as \(who): \(answer.status) \(answer.body)")
                #expect(json(answer.body)["error"]?["code"] == "INSUFFICIENT_PERMISSIONS", "\(route.key)")
                #expect(!answer.body.contains("access_token") && !answer.body.contains("climber@x.io"), "\(route.key)")
            }
            if route.method == "GET" {
                #expect(try await server.request(route.method, path, token: admin).status == 200, "\(route.key) as admin")
            }
        }
        let climber = json(try await server.request("GET", "/admin/users/climber", token: admin).body)["data"]
        #expect(climber?["role"] == "user" && climber?["tenant"] == .string(tenant) && climber?["is_active"] == true)
        #expect(try await server.request("GET", "/admin/users/sneaky", token: admin).status == 404)
    }

    /// A token stops working once its account is demoted, moved to another tenant or deleted (it was good until
    /// its `exp` before), while a fresh login gets the account's new role and tenant.
    @Test func demotedOrDeletedAccountsLoseTheirAccess() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--user", "root", "--role", "admin"])
        #expect(try await register(server, "eve", password: "eve-pass-1").status == 201)
        let promote = try await server.request("PATCH", "/admin/users/eve", token: admin, body: #"{"role":"admin"}"#)
        #expect(promote.status == 200)
        let session = json(try await login(server, "eve", password: "eve-pass-1").body)
        let token = try #require(session["data"]?["access_token"]?.stringValue)
        #expect(try await server.request("GET", "/admin/users", token: token).status == 200)
        let demote = try await server.request(
            "PATCH", "/admin/users/eve", token: admin, body: #"{"role":"user","tenant":"globex"}"#)
        #expect(demote.status == 200)
        let stillAdmin = try await server.request("GET", "/admin/users", token: token)
        #expect(stillAdmin.status == 401 && stillAdmin.body.contains("out of date"), "\(stillAdmin.body)")
        #expect(try await server.request("GET", "/whoami", token: token).status == 401)
        let fresh = json(try await login(server, "eve", password: "eve-pass-1").body)
        let renewed = try #require(fresh["data"]?["access_token"]?.stringValue)
        let whoami = json(try await server.request("GET", "/whoami", token: renewed).body)
        #expect(whoami["role"] == "user" && whoami["tenant"] == "globex", "\(whoami)")
        #expect(try await server.request("DELETE", "/admin/users/eve", token: admin).status == 204)
        let deleted = try await server.request("GET", "/whoami", token: renewed)
        #expect(deleted.status == 401 && deleted.body.contains("deleted"), "a deleted user's token works")
        // Names never in the store keep working: that is what `xalorra token` mints.
        #expect(try await server.request("GET", "/whoami", token: try server.token(["--user", "nobody"])).status == 200)
    }

    // MARK: - Secrets

    /// `secret.key`, the store and the text log are private even under umask 000; readable secret files are refused.
    @Test func secretFilesArePrivate() async throws {
        let cli = try BinaryRunner()
        let home = cli.home.path
        func mode(_ name: String) -> Int? {
            (try? FileManager.default.attributesOfItem(atPath: home + "/" + name)[.posixPermissions] as? Int) ?? nil
        }
        /// Runs the binary under `umask 000`, killing it after `seconds` (a server that started is a failure).
        func permissive(_ arguments: [String], seconds: Double = 20) throws -> BinaryRunner.Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", #"umask 000; exec "$0" "$@""#, BinaryRunner.binary.path] + arguments
            process.environment = cli.processEnvironment()
            process.currentDirectoryURL = cli.home
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { process.terminate() }
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return .init(
                status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                stderr: String(decoding: stderr, as: UTF8.self))
        }
        let token = try permissive(["token"])
        #expect(token.status == 0, "\(token.stderr)")
        #expect(mode("secret.key") == 0o600)
        #expect(try permissive(["predict", "m", "1", "2"]).status == 0)
        for file in ["xalorra.db", "logs/predictions.log"] {
            #expect(mode(file).map { $0 & 0o077 } == 0, "\(file) is mode \(String(mode(file) ?? 0, radix: 8)) under umask 000")
        }
        for suffix in ["-wal", "-shm"] where mode("xalorra.db" + suffix) != nil {
            #expect(mode("xalorra.db" + suffix).map { $0 & 0o077 } == 0, "xalorra.db\(suffix)")
        }

        let secretPath = home + "/secret.key"
        for bad in [0o640, 0o604, 0o660] {
            chmod(secretPath, mode_t(bad))
            let serve = try permissive(["serve", "--port", "0"], seconds: 10)
            #expect(serve.status != 0 && !serve.stderr.contains("serving http://"), "serve ran with mode \(String(bad, radix: 8))")
            #expect(serve.stderr.contains("readable by other users") && serve.stderr.contains("chmod 600"), "\(serve.stderr)")
            let minted = try cli.run(["token"])
            #expect(minted.status == 4 && minted.stdout.isEmpty && minted.stderr.contains("readable by other users"))
        }
        chmod(secretPath, 0o600)
        #expect(try cli.run(["token"]).status == 0)

        let credentials = try cli.write(
            "credentials.json",
            #"{"url":"http://127.0.0.1:9","username":"kiki","access_token":"a","refresh_token":"r","expires_at":1}"#)
        for bad in [0o640, 0o604] {
            chmod(credentials, mode_t(bad))
            let whoami = try cli.run(["users", "whoami", "--url", "http://127.0.0.1:9"])
            #expect(whoami.status == 4 && whoami.stderr.contains("readable by other users"), "\(whoami.stderr)")
            #expect(whoami.stderr.contains("chmod 600"))
        }
    }

    /// After a full session, no password, token or the secret is in the server's log or in any error body.
    @Test func noSecretInLogsOrErrorBodies() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let unique = { (prefix: String) in prefix + "-" + String(UUID().uuidString.prefix(13)).lowercased() }
        let first = unique("pw1"), second = unique("pw2"), wrong = unique("pw3"), byAdmin = unique("pw4")
        let created = unique("pw5"), short = "Zq9!x", long = unique("pw6") + String(repeating: "λ", count: 40)
        var secrets: [String: String] = [
            "first password": first, "second password": second, "wrong password": wrong,
            "admin-set password": byAdmin, "created user's password": created, "too-short password": short,
            "too-long password": long, "secret": Self.secret,
        ]
        var errors: [(String, Response)] = []
        func call(_ label: String, _ method: String, _ path: String, token: String? = nil, body: String? = nil)
            async throws -> Response
        {
            let answer = try await server.request(method, path, token: token, body: body)
            if answer.status >= 400 { errors.append((label, answer)) }
            return answer
        }
        func credentials(_ user: String, _ password: String) -> String {
            body([("username", .string(user)), ("password", .string(password))])
        }
        func refreshing(_ token: String) -> String { body([("refresh_token", .string(token))]) }
        func registration(_ user: String, _ password: String) -> String {
            body([("username", .string(user)), ("email", .string("\(user)@x.io")), ("nama_lengkap", "Sam"),
                ("password", .string(password))])
        }

        #expect(try await call("register", "POST", "/users/register", body: registration("sam", first)).status == 201)
        #expect(try await call("register short", "POST", "/users/register", body: registration("sam2", short)).status == 422)
        #expect(try await call("register long", "POST", "/users/register", body: registration("sam3", long)).status == 422)
        let session = json(try await call("login", "POST", "/users/login", body: credentials("sam", first)).body)["data"]
        let access1 = try #require(session?["access_token"]?.stringValue)
        let refresh1 = try #require(session?["refresh_token"]?.stringValue)
        #expect(try await call("failed login", "POST", "/users/login", body: credentials("sam", wrong)).status == 401)
        let truncated = #"{"username":"sam","password":"\#(wrong)"#
        #expect(try await call("truncated login", "POST", "/users/login", body: truncated).status == 400)
        let typed = body([("username", "sam"), ("password", .array([.string(wrong)]))])
        #expect(try await call("mistyped login", "POST", "/users/login", body: typed).status == 422)
        let rotated = json(try await call("refresh", "POST", "/users/refresh", body: refreshing(refresh1)).body)["data"]
        let access2 = try #require(rotated?["access_token"]?.stringValue)
        let refresh2 = try #require(rotated?["refresh_token"]?.stringValue)
        #expect(try await call("replayed refresh", "POST", "/users/refresh", body: refreshing(refresh1)).status == 401)
        #expect(try await call("predict", "POST", "/predict/m", token: access2, body: #"{"features":[1,2]}"#).status == 200)
        #expect(try await call("chat", "POST", "/chat/message", token: access2, body: #"{"message":"predict m 1 2"}"#).status == 200)
        let change = { (current: String, next: String) in
            self.body([("current_password", .string(current)), ("new_password", .string(next))])
        }
        let changePath = "/users/change-password"
        #expect(try await call("bad change", "POST", changePath, token: access2, body: change(wrong, second)).status == 401)
        #expect(try await call("change", "POST", changePath, token: access2, body: change(first, second)).status == 200)
        #expect(try await call("old password", "POST", "/users/login", body: credentials("sam", first)).status == 401)
        let again = json(try await call("login again", "POST", "/users/login", body: credentials("sam", second)).body)["data"]
        let access3 = try #require(again?["access_token"]?.stringValue)
        let refresh3 = try #require(again?["refresh_token"]?.stringValue)
        #expect(try await call("logout", "POST", "/users/logout", token: access3, body: refreshing(refresh3)).status == 204)
        #expect(try await call("refresh after logout", "POST", "/users/refresh", body: refreshing(refresh3)).status == 401)

        let admin = try server.token(["--user", "root", "--role", "admin"])
        let mintedBody = try await call("mint", "POST", "/admin/tokens", token: admin, body: #"{"user":"bot","ttl":"15m"}"#)
        let minted = try #require(json(mintedBody.body)["access_token"]?.stringValue, "\(mintedBody.body)")
        #expect(try await call("minted whoami", "GET", "/whoami", token: minted).status == 200)
        let newPassword = body([("password", .string(byAdmin))])
        #expect(try await call("admin sets password", "PATCH", "/admin/users/sam", token: admin, body: newPassword).status == 200)
        let creation = registration("pat", created)
        #expect(try await call("admin creates", "POST", "/admin/users", token: admin, body: creation).status == 201)

        let forged = sign(#"{"alg":"HS256"}"#, claims(role: "admin"), key: "attacker-secret-attacker-secret!!")
        let expired = sign(#"{"alg":"HS256"}"#, claims(exp: Self.now - 3600))
        for (name, token) in [("forged", forged), ("expired", expired), ("refresh as access", refresh2)] {
            _ = try await call("\(name) header", "GET", "/whoami", token: token)
            _ = try await call("\(name) v2", "GET", "/v2/models/m", token: token)
            _ = try await call("\(name) query sse", "GET", "/logs/stream?access_token=\(token)")
            _ = try await call("\(name) query ws", "GET", "/ws/predictions?access_token=\(token)")
        }
        _ = try await call("garbage bearer", "GET", "/whoami", token: "garbage-\(wrong)")
        // A stream opened with a valid token in the query string (the browsers' way).
        let follower = FeedFollower(server, .serverSentEvents, token: access3, tokenInQuery: true)
        #expect(try await follower.waitOpen())
        follower.stop()
        let socket = FeedFollower(server, .webSocket, token: minted, tokenInQuery: true)
        #expect(try await socket.waitOpen())
        socket.stop()

        for (name, token) in [
            ("access token 1", access1), ("access token 2", access2), ("access token 3", access3),
            ("refresh token 1", refresh1), ("refresh token 2", refresh2), ("refresh token 3", refresh3),
            ("minted token", minted), ("admin token", admin), ("forged token", forged), ("expired token", expired),
        ] {
            secrets[name] = token
            // The signature alone is as good as the token for grepping; a logged payload would hold it too.
            secrets[name + " signature"] = String(token.split(separator: ".").last ?? "")
        }
        try await Task.sleep(for: .milliseconds(300))
        server.stop()
        let log = server.log.text
        #expect(log.contains("POST /users/login 401") && log.contains("GET /logs/stream 200"), "not the access log:\n\(log)")
        #expect(errors.count >= 20)
        for (name, value) in secrets where !value.isEmpty {
            #expect(!log.contains(value), "the server log holds the \(name)")
            for (label, answer) in errors {
                #expect(!answer.body.contains(value), "the error body of \(label) holds the \(name): \(answer.body)")
            }
        }
    }
}
