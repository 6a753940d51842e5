import Foundation
import Testing
import XalorraCore

/// Router-level tests (HummingbirdTesting's `.router`, no socket; see ``RouterHarness``), one suite per controller:
/// every route's success answers its declared status with a body of its declared schema, and its main failures
/// answer the error envelope (the inference protocol's `{"error"}` under `/v2`) with the right status and code. The
/// live-socket suites keep what needs a real connection (framing, timeouts, WebSocket upgrades, the binary).
@Suite struct RouterTests {
    /// A one-tree gbdt model on the features `a`, `b`, `c` as `POST /models/{name}/import` takes it: 1 when `a` is
    /// below 0.5, else 2.
    static let modelDocument = """
        {"format":"xalorra-model","kind":"gbdt","features":["a","b","c"],"model":{"type":"trees",\
        "objective":"regression","base_margin":0,"feature_count":3,"float32":false,"trees":[{"feature":[0,-1,-1],\
        "threshold":[0.5,0,0],"left":[1,0,0],"right":[2,0,0],"default_left":[1,1,1],"value":[0,1,2]}]}}
        """

    /// Imports ``modelDocument`` as a new version of `name` for the holder of `token`.
    static func importModel(_ app: RouterHarness, _ name: String, token: String) async throws {
        let imported = try await app.send(.importModel, name, token: token, body: modelDocument)
        #expect(imported.status == 201, "\(imported)")
    }

    /// The objects every path parameter can name, made in one store: each route's parameters filled with one.
    struct Fixture {
        let admin: String
        let values: [String: String]
        let overrides: [Endpoint: [String: String]]

        /// A model `m` (one version), `gone` and `gone-v` to delete, accounts `root` (admin), `ana` and `bob`, two
        /// of root's conversations and a queued training job.
        static func make(_ app: RouterHarness) async throws -> Fixture {
            let admin = try await app.account("root", role: .admin)
            try await app.account("ana")
            try await app.account("bob")
            for name in ["m", "gone", "gone-v"] { try await importModel(app, name, token: admin) }
            var conversations: [String] = []
            for text in ["first", "second"] {
                let sent = try await app.send(.sendMessage, token: admin, body: #"{"message":"\#(text)"}"#)
                conversations.append(try #require(sent.json?["data"]?["conversation_id"]?.stringValue, "\(sent)"))
            }
            let queued = try await app.send(
                .train, "m", token: admin, body: #"{"target":"y","columns":["a","y"],"rows":[[1,1],[2,2],[3,3]]}"#)
            let job = try #require(queued.json?["data"]?["id"]?.stringValue, "\(queued)")
            let key = try await app.operatorAPI.createKey(APIKeyRequest(name: "fixture")).key.id
            return Fixture(
                admin: admin,
                values: [
                    "model": "m", "name": "m", "version": "1", "conversation_id": conversations[0], "id": job,
                    "username": "ana",
                ],
                overrides: [
                    .deleteModel: ["name": "gone"], .deleteModelVersion: ["name": "gone-v"],
                    .deleteConversation: ["conversation_id": conversations[1]], .deleteUser: ["username": "bob"],
                    .chatModel: ["model": "xalorra-builtin"], .dashboardAsset: ["asset": "app.js"],
                    .key: ["id": key], .revokeKey: ["id": key],
                ])
        }

        /// `endpoint`'s path parameters, each naming an existing object.
        func parameters(_ endpoint: Endpoint) -> [String] {
            endpoint.route.parameterNames.map { overrides[endpoint]?[$0] ?? values[$0] ?? "x" }
        }
    }

    /// Router and route table agree: every `Endpoint`, sent its declared method and path with its parameters
    /// naming existing objects, reaches its handler (no 404, 405 or 500), as an admin with `{}` as the body.
    @Test func everyRouteIsRouted() async throws {
        try await RouterHarness.run { app in
            let fixture = try await Fixture.make(app)
            let user = try await app.token("carol", tenant: "other")
            for endpoint in Endpoint.allCases {
                let route = endpoint.route
                // An open event stream never ends here: another tenant's is refused before it opens.
                let streams = route.transport == .eventStream
                let answer = try await app.request(
                    route.method, route.path(fixture.parameters(endpoint)) + (streams ? "?tenant=default" : ""),
                    token: streams ? user : fixture.admin, body: route.body == nil ? nil : "{}")
                #expect(![404, 405, 500].contains(answer.status), "\(route.key): \(answer)")
            }
        }
    }

    /// Access follows each route's declaration: public routes answer without a token; the others answer 401 in
    /// their error format without one, with a malformed one and with a refresh token; admin routes 403 to a user.
    @Test func accessFollowsTheRoute() async throws {
        try await RouterHarness.run { app in
            let user = try await app.token()
            let refresh = TokenForger(secret: RouterHarness.secret).sign(TokenForger.claims(user: "ana", typ: "refresh"))
            for endpoint in Endpoint.allCases {
                let route = endpoint.route
                let path = route.path(route.parameterNames.map { _ in "x" })
                let body: String? = route.body == nil ? nil : "{}"
                let anonymous = try await app.request(route.method, path, body: body)
                guard route.access != .public else {
                    #expect(![401, 403].contains(anonymous.status), "\(route.key): \(anonymous)")
                    continue
                }
                app.expectFailure(anonymous, of: endpoint, .authenticationFailed)
                for token in ["x.y.z", refresh] {
                    app.expectFailure(
                        try await app.request(route.method, path, token: token, body: body), of: endpoint,
                        .authenticationFailed)
                }
                if route.access == .admin {
                    app.expectFailure(
                        try await app.request(route.method, path, token: user, body: body), of: endpoint,
                        .insufficientPermissions)
                }
            }
        }
    }

    /// Each route's body limit is its declared one: `XALORRA_MAX_BODY` for most, `XALORRA_MAX_UPLOAD` for
    /// uploads; past it the answer is 413 in the route's error format.
    @Test func bodyLimitsFollowTheRoute() async throws {
        try await RouterHarness.run(environment: ["XALORRA_MAX_BODY": "64", "XALORRA_MAX_UPLOAD": "256"]) { app in
            let admin = try await app.adminToken()
            for endpoint in Endpoint.allCases where endpoint.route.body != nil {
                let route = endpoint.route
                let path = route.path(route.parameterNames.map { _ in "x" })
                let overStandard = try await app.request(
                    route.method, path, token: admin, body: "{" + String(repeating: " ", count: 64) + "}")
                switch route.bodyLimit {
                case .standard:
                    app.expectFailure(overStandard, of: endpoint, .payloadTooLarge)
                case .upload:
                    #expect(overStandard.status != 413, "\(route.key): \(overStandard)")
                    app.expectFailure(
                        try await app.request(
                            route.method, path, token: admin, body: "{" + String(repeating: " ", count: 256) + "}"),
                        of: endpoint, .payloadTooLarge)
                }
            }
        }
    }

    /// The schema check behind every success expectation finds a missing member, a wrong type at depth, a value
    /// outside an enum and a value matching no `oneOf` branch, and passes a conforming value.
    @Test func schemaCheckFindsDepartures() {
        let user: JSONValue = .object([
            ("id", 1), ("username", "ana"), ("email", "a@b.c"), ("nama_lengkap", "Ana"), ("role", "user"),
            ("tenant", "t"), ("is_active", true), ("created_at", "x"), ("updated_at", "x"),
        ])
        #expect(SchemaCheck.problems(Envelope.success(user, message: "ok"), Schema.envelope(Schema.ref("User"))).isEmpty)
        guard case .object(let members) = user else { return }
        let missing = JSONValue.object(members.filter { $0.0 != "tenant" })
        #expect(SchemaCheck.problems(missing, Schema.ref("User")) == ["$: missing tenant"])
        let wrongType = JSONValue.object(members.map { $0.0 == "id" ? ($0.0, .string("1")) : $0 })
        #expect(
            SchemaCheck.problems(Envelope.success(.array([wrongType]), message: "ok"), Schema.page(Schema.ref("User")))
                .contains { $0.hasPrefix("$.data[0].id: expected integer") })
        let badRole = JSONValue.object(members.map { $0.0 == "role" ? ($0.0, .string("root")) : $0 })
        #expect(SchemaCheck.problems(badRole, Schema.ref("User")).count == 1)
        #expect(!SchemaCheck.problems(.object([("model", "m")]), Schema.predictResponse).isEmpty)
        #expect(SchemaCheck.problems(.number(.double(2.0)), Schema.integer).isEmpty)
        #expect(!SchemaCheck.problems(.number(.double(2.5)), Schema.integer).isEmpty)
    }

    /// Methods a path does not have answer 405 with `Allow` listing those it has (every route sharing the path), and
    /// unknown paths 404, each in its error format.
    @Test func unknownMethodsAndPaths() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            for path in Set(RouteTable.all.map { $0.path(Array(repeating: "x", count: $0.parameterNames.count)) }) {
                let allowed = Set(RouteTable.all.filter { Self.pattern($0.path, matches: path) }.map(\.method))
                let method = try #require(["PATCH", "PUT", "DELETE", "POST", "GET"].first { !allowed.contains($0) })
                let answer = try await app.request(method, path, token: token)
                let format: Route.ErrorFormat =
                    path.hasPrefix("/v2") ? .inference : path.hasPrefix("/v1") ? .openAI : .envelope
                app.expectFailure(answer, format: format, .methodNotAllowed)
                let listed = Set((answer.header("Allow") ?? "").split(separator: ",").map {
                    $0.trimmingCharacters(in: .whitespaces)
                })
                #expect(listed == allowed, "\(method) \(path): Allow \(listed), routes \(allowed)")
            }
            app.expectFailure(try await app.request("GET", "/nope", token: token), format: .envelope, .notFound)
            app.expectFailure(
                try await app.request("GET", "/models/m/x/y/z", token: token), format: .envelope, .notFound)
            app.expectFailure(try await app.request("GET", "/v2/nope", token: token), format: .inference, .notFound)
        }
    }

    /// DESIGN §3: "`HEAD` answers every `GET` route without the body".
    @Test
    func headAnswersEveryGetRoute() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            for route in RouteTable.all where route.method == "GET" && route.transport == .plain {
                let get = try await app.request("GET", route.path(route.parameterNames.map { _ in "x" }), token: token)
                let head = try await app.request("HEAD", route.path(route.parameterNames.map { _ in "x" }), token: token)
                #expect(head.status == get.status && head.text.isEmpty, "\(route.key): \(head)")
            }
        }
    }

    /// Whether the route path `pattern` (`/models/{name}`) matches the concrete `path`.
    static func pattern(_ pattern: String, matches path: String) -> Bool {
        let expected = pattern.split(separator: "/"), actual = path.split(separator: "/")
        return expected.count == actual.count
            && zip(expected, actual).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }

    /// The events of a Server-Sent Events body that carry data: each one's type (`message` when none), `id:` and
    /// data, parsed.
    static func events(_ text: String) -> [(type: String, id: String?, data: JSONValue?)] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var type = "message", id: String?, data: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            return data.map { (type, id, try? JSONParser.parse($0)) }
        }
    }
}

// MARK: - Service

extension RouterTests {
    /// `ServiceController`: `/`, health, the route table, OpenAPI, docs and metrics.
    @Suite struct Service {
        /// The public routes answer their declared shapes without a token.
        @Test func publicRoutes() async throws {
            try await RouterHarness.run { app in
                let root = app.expectSuccess(try await app.send(.root), of: .root)
                #expect(root["message"] == "Xalorra API is running" && root["version"] == .string(XalorraVersion.current))
                #expect(app.expectSuccess(try await app.send(.health), of: .health)["status"] != nil)
                let detailed = try await app.send(.healthDetailed)
                app.expectSuccess(detailed, of: .healthDetailed)
                #expect(detailed.json?["dependencies"]?["database"]?["status"] == "connected", "\(detailed)")
                let docs = try await app.send(.docs)
                app.expectSuccess(docs, of: .docs)
                #expect(docs.text.contains("/openapi.json"))
            }
        }

        /// `GET /routes` lists every endpoint and `/openapi.json` describes each route's method and path.
        @Test func routeTableAndOpenAPI() async throws {
            try await RouterHarness.run { app in
                let routes = app.expectSuccess(try await app.send(.routes), of: .routes)
                guard case .array(let listed)? = routes["data"] else { throw XalorraError(.internal, "\(routes)") }
                #expect(listed.count == Endpoint.allCases.count)
                let document = app.expectSuccess(try await app.send(.openAPI), of: .openAPI)
                for route in RouteTable.all {
                    #expect(
                        document["paths"]?[route.path]?[route.method.lowercased()] != nil, "\(route.key) undocumented")
                }
            }
        }

        /// Each route's API-key scope is in both listings, from the route table: `GET /routes` (`scope`, `any` where
        /// any key will do, null on public routes, decoded back the same) and `/openapi.json` (the `apiKey` scheme
        /// with the scope as its role, and `x-scope`).
        @Test func keyScopesAreListed() async throws {
            try await RouterHarness.run { app in
                let routes = app.expectSuccess(try await app.send(.routes), of: .routes)
                let listed = try (routes["data"]?.arrayValue ?? []).map { try RouteListing(json: $0) }
                let document = app.expectSuccess(try await app.send(.openAPI), of: .openAPI)
                #expect(document["components"]?["securitySchemes"]?["apiKey"]?["name"] == "X-API-Key")
                for route in RouteTable.all {
                    let listing = listed.first { $0.key == route.key }
                    #expect(listing?.scope == route.scope, "\(route.key)")
                    let raw = (routes["data"]?.arrayValue ?? []).first { $0["path"]?.stringValue == route.path
                        && $0["method"]?.stringValue == route.method }
                    let operation = document["paths"]?[route.path]?[route.method.lowercased()]
                    if route.access == .public {
                        #expect(raw?["scope"] == .null && operation?["security"] == nil, "\(route.key)")
                        continue
                    }
                    let expected = route.scope?.rawValue ?? "any"
                    #expect(raw?["scope"]?.stringValue == expected, "\(route.key)")
                    let schemes = operation?["security"]?.arrayValue ?? []
                    let roles = schemes.compactMap { $0["apiKey"]?.arrayValue }.first?.compactMap(\.stringValue)
                    #expect(roles == route.scope.map { [$0.rawValue] } ?? [], "\(route.key)")
                    #expect(operation?["x-scope"]?.stringValue == route.scope?.rawValue, "\(route.key)")
                }
            }
        }

        /// `/metrics` is the admin's by default (401 without a token, 403 for a user) and anyone's with
        /// `XALORRA_METRICS=open`.
        @Test func metrics() async throws {
            try await RouterHarness.run { app in
                let answer = try await app.send(.metrics, token: try await app.adminToken())
                app.expectSuccess(answer, of: .metrics)
                #expect(answer.text.contains("# TYPE"), "\(answer)")
                app.expectFailure(try await app.send(.metrics), of: .metrics, .authenticationFailed)
                app.expectFailure(
                    try await app.send(.metrics, token: try await app.token()), of: .metrics, .insufficientPermissions)
            }
            try await RouterHarness.run(environment: ["XALORRA_METRICS": "open"]) { app in
                app.expectSuccess(try await app.send(.metrics), of: .metrics)
            }
        }
    }
}

// MARK: - Users

extension RouterTests {
    /// `UsersController`'s own routes: register, login, refresh, logout, profile, change password.
    @Suite struct Users {
        /// Registration answers 201 with the user; a taken name 409, a bad field 422 naming it, malformed JSON 400,
        /// a body that is not an object 422 (`body`); closed registration 403.
        @Test func register() async throws {
            try await RouterHarness.run { app in
                let body = #"{"username":"dewi","email":"dewi@example.com","nama_lengkap":"Dewi","password":"secret1"}"#
                let created = app.expectSuccess(try await app.send(.register, body: body), of: .register)
                #expect(created["data"]?["username"] == "dewi" && created["data"]?["role"] == "user")
                app.expectFailure(try await app.send(.register, body: body), of: .register, .alreadyExists)
                let badName = body.replacingOccurrences(of: "dewi\",", with: "d!\",")
                app.expectFailure(
                    try await app.send(.register, body: badName), of: .register, .validation, field: "username")
                let noEmail = #"{"username":"eko","nama_lengkap":"Eko","password":"secret1"}"#
                app.expectFailure(
                    try await app.send(.register, body: noEmail), of: .register, .validation, field: "email")
                app.expectFailure(try await app.send(.register, body: #"{"username":"#), of: .register, .badRequest)
                app.expectFailure(try await app.send(.register, body: "[]"), of: .register, .validation, field: "body")
            }
            try await RouterHarness.run(environment: ["XALORRA_REGISTRATION": "closed"]) { app in
                let body = #"{"username":"dewi","email":"dewi@example.com","nama_lengkap":"Dewi","password":"secret1"}"#
                app.expectFailure(try await app.send(.register, body: body), of: .register, .insufficientPermissions)
            }
        }

        /// Login answers the token pair and the user (not cached), a wrong password 401, a missing field 422; refresh
        /// rotates the pair and refuses an access token; logout revokes the refresh token (204) and needs a token.
        @Test func loginRefreshLogout() async throws {
            try await RouterHarness.run { app in
                try await app.account("ana")
                let login = try await app.send(
                    .login, body: #"{"username":"ana","password":"\#(RouterHarness.password)"}"#)
                let pair = app.expectSuccess(login, of: .login)
                #expect(login.header("Cache-Control") == "no-store")
                let access = try #require(pair["data"]?["access_token"]?.stringValue)
                let refreshToken = try #require(pair["data"]?["refresh_token"]?.stringValue)
                app.expectFailure(
                    try await app.send(.login, body: #"{"username":"ana","password":"wrong password"}"#), of: .login,
                    .authenticationFailed)
                app.expectFailure(
                    try await app.send(.login, body: #"{"username":"ana"}"#), of: .login, .validation, field: "password")
                app.expectFailure(try await app.send(.login, body: "{"), of: .login, .badRequest)

                let refreshed = try await app.send(.refresh, body: #"{"refresh_token":"\#(refreshToken)"}"#)
                let rotated = app.expectSuccess(refreshed, of: .refresh)
                #expect(refreshed.header("Cache-Control") == "no-store")
                let newRefresh = try #require(rotated["data"]?["refresh_token"]?.stringValue)
                app.expectFailure(
                    try await app.send(.refresh, body: #"{"refresh_token":"\#(access)"}"#), of: .refresh, .tokenExpired)
                app.expectFailure(
                    try await app.send(.refresh, body: #"{"refresh_token":5}"#), of: .refresh, .validation,
                    field: "refresh_token")

                let logoutBody = #"{"refresh_token":"\#(newRefresh)"}"#
                app.expectFailure(try await app.send(.logout, body: logoutBody), of: .logout, .authenticationFailed)
                app.expectSuccess(try await app.send(.logout, token: access, body: logoutBody), of: .logout)
                let revoked = try await app.send(.refresh, body: logoutBody)
                #expect(revoked.status == 401, "\(revoked)")
            }
        }

        /// The profile answers the caller's account; an update changes email or name (a bad email 422 naming it,
        /// malformed JSON 400), and neither answers without a token.
        @Test func profile() async throws {
            try await RouterHarness.run { app in
                let token = try await app.account("ana")
                let profile = app.expectSuccess(try await app.send(.profile, token: token), of: .profile)
                #expect(profile["data"]?["username"] == "ana" && profile["data"]?["email"] == "ana@example.com")
                app.expectFailure(try await app.send(.profile), of: .profile, .authenticationFailed)

                let updated = app.expectSuccess(
                    try await app.send(.updateProfile, token: token, body: #"{"email":"ana@example.org"}"#),
                    of: .updateProfile)
                #expect(updated["data"]?["email"] == "ana@example.org")
                app.expectFailure(
                    try await app.send(.updateProfile, token: token, body: #"{"email":"not an address"}"#),
                    of: .updateProfile, .validation, field: "email")
                app.expectFailure(
                    try await app.send(.updateProfile, token: token, body: #"{"nama_lengkap":7}"#), of: .updateProfile,
                    .validation, field: "nama_lengkap")
                app.expectFailure(
                    try await app.send(.updateProfile, token: token, body: "{,}"), of: .updateProfile, .badRequest)
                app.expectFailure(
                    try await app.send(.updateProfile, body: #"{"email":"x@example.org"}"#), of: .updateProfile,
                    .authenticationFailed)
                let unchanged = app.expectSuccess(try await app.send(.profile, token: token), of: .profile)
                #expect(unchanged["data"]?["email"] == "ana@example.org")
            }
        }

        /// A password change answers `data: null`; a wrong current password is 401, a short new one 422 naming it.
        @Test func changePassword() async throws {
            try await RouterHarness.run { app in
                let token = try await app.account("ana")
                app.expectFailure(
                    try await app.send(
                        .changePassword, token: token,
                        body: #"{"current_password":"\#(RouterHarness.password)","new_password":"abc"}"#),
                    of: .changePassword, .validation, field: "new_password")
                app.expectFailure(
                    try await app.send(
                        .changePassword, token: token,
                        body: #"{"current_password":"wrong one","new_password":"abcdefg"}"#),
                    of: .changePassword, .authenticationFailed)
                app.expectFailure(
                    try await app.send(.changePassword, body: #"{"current_password":"a","new_password":"abcdefg"}"#),
                    of: .changePassword, .authenticationFailed)
                let changed = app.expectSuccess(
                    try await app.send(
                        .changePassword, token: token,
                        body: #"{"current_password":"\#(RouterHarness.password)","new_password":"another secret"}"#),
                    of: .changePassword)
                #expect(changed["data"] == .null)
            }
        }
    }
}

// MARK: - Admin

extension RouterTests {
    /// `UsersController`'s admin routes and `AdminController`: `/admin/users*` and `/admin/tokens`.
    @Suite struct Admin {
        /// Listing and showing users: a page, a bad `limit` 422 naming it, an unknown user 404.
        @Test func listAndShow() async throws {
            try await RouterHarness.run { app in
                let admin = try await app.account("root", role: .admin)
                try await app.account("ana")
                let page = app.expectSuccess(try await app.send(.users, token: admin), of: .users)
                #expect(page["pagination"]?["total"] == .int(2))
                let searched = app.expectSuccess(
                    try await app.send(.users, query: "?search=ana", token: admin), of: .users)
                #expect(searched["pagination"]?["total"] == .int(1))
                app.expectFailure(
                    try await app.send(.users, query: "?limit=0", token: admin), of: .users, .validation, field: "limit")
                app.expectFailure(
                    try await app.send(.users, query: "?offset=x", token: admin), of: .users, .validation, field: "offset")
                let shown = app.expectSuccess(try await app.send(.user, "ana", token: admin), of: .user)
                #expect(shown["data"]?["username"] == "ana")
                app.expectFailure(try await app.send(.user, "nobody", token: admin), of: .user, .notFound)
            }
        }

        /// Creating (201; a taken name 409; a bad role 422 naming it), updating (a bad flag 422 naming it; an
        /// unknown user 404) and deleting (204, then 404) users.
        @Test func createUpdateDelete() async throws {
            try await RouterHarness.run { app in
                let admin = try await app.adminToken()
                let body = """
                    {"username":"eko","email":"eko@example.com","nama_lengkap":"Eko","password":"secret1","tenant":"acme"}
                    """
                let created = app.expectSuccess(
                    try await app.send(.createUser, token: admin, body: body), of: .createUser)
                #expect(created["data"]?["tenant"] == "acme")
                app.expectFailure(
                    try await app.send(.createUser, token: admin, body: body), of: .createUser, .alreadyExists)
                let badRole = """
                    {"username":"fay","email":"fay@example.com","nama_lengkap":"Fay","password":"secret1","role":"root"}
                    """
                app.expectFailure(
                    try await app.send(.createUser, token: admin, body: badRole), of: .createUser, .validation, field: "role")
                app.expectFailure(
                    try await app.send(.createUser, token: admin, body: "{"), of: .createUser, .badRequest)

                let disabled = app.expectSuccess(
                    try await app.send(.updateUser, "eko", token: admin, body: #"{"is_active":false}"#), of: .updateUser)
                #expect(disabled["data"]?["is_active"] == false)
                app.expectFailure(
                    try await app.send(.updateUser, "eko", token: admin, body: #"{"is_active":"no"}"#), of: .updateUser,
                    .validation, field: "is_active")
                app.expectFailure(
                    try await app.send(.updateUser, "nobody", token: admin, body: #"{"is_active":true}"#), of: .updateUser,
                    .notFound)

                app.expectSuccess(try await app.send(.deleteUser, "eko", token: admin), of: .deleteUser)
                app.expectFailure(try await app.send(.deleteUser, "eko", token: admin), of: .deleteUser, .notFound)
            }
        }

        /// An admin mints a token (not cached) that the server takes with the claims asked for; a bad `ttl` is 422
        /// naming it.
        @Test func mintToken() async throws {
            try await RouterHarness.run { app in
                let admin = try await app.adminToken()
                let answer = try await app.send(
                    .mintToken, token: admin, body: #"{"user":"gus","tenant":"acme","ttl":"10m"}"#)
                let minted = app.expectSuccess(answer, of: .mintToken)
                #expect(answer.header("Cache-Control") == "no-store" && minted["expires_in"] == .int(600))
                let token = try #require(minted["access_token"]?.stringValue)
                let whoami = app.expectSuccess(try await app.send(.whoami, token: token), of: .whoami)
                #expect(whoami["user_id"] == "gus" && whoami["tenant"] == "acme" && whoami["role"] == "user")
                app.expectFailure(
                    try await app.send(.mintToken, token: admin, body: #"{"ttl":"forever"}"#), of: .mintToken,
                    .validation, field: "ttl")
                app.expectFailure(
                    try await app.send(.mintToken, token: admin, body: #"{"role":"owner"}"#), of: .mintToken,
                    .validation, field: "role")
                app.expectFailure(
                    try await app.send(.mintToken, token: admin, body: "nope"), of: .mintToken, .badRequest)
            }
        }
    }
}

// MARK: - Chat

extension RouterTests {
    /// `ChatController`: send (whole and streamed), list, read, rename and delete conversations.
    @Suite struct Chat {
        /// A message starts a conversation that the list and the detail show; bad input and other users are refused.
        @Test func sendListAndRead() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                let reply = app.expectSuccess(
                    try await app.send(.sendMessage, token: token, body: #"{"message":"hello there"}"#), of: .sendMessage)
                let id = try #require(reply["data"]?["conversation_id"]?.stringValue)
                let more = app.expectSuccess(
                    try await app.send(
                        .sendMessage, token: token, body: #"{"message":"again","conversation_id":"\#(id)"}"#),
                    of: .sendMessage)
                #expect(more["data"]?["conversation_id"] == .string(id))
                app.expectFailure(
                    try await app.send(.sendMessage, token: token, body: #"{"stream":true}"#), of: .sendMessage,
                    .validation, field: "message")
                app.expectFailure(
                    try await app.send(.sendMessage, token: token, body: #"{"message":"x","stream":"yes"}"#),
                    of: .sendMessage, .validation, field: "stream")
                app.expectFailure(
                    try await app.send(.sendMessage, token: token, body: "{x}"), of: .sendMessage, .badRequest)
                app.expectFailure(
                    try await app.send(.sendMessage, body: #"{"message":"hi"}"#), of: .sendMessage, .authenticationFailed)

                let list = app.expectSuccess(try await app.send(.conversations, token: token), of: .conversations)
                #expect(list["pagination"]?["total"] == .int(1))
                app.expectFailure(
                    try await app.send(.conversations, query: "?sort=title", token: token), of: .conversations,
                    .validation, field: "sort")
                let detail = app.expectSuccess(try await app.send(.conversation, id, token: token), of: .conversation)
                #expect(detail["data"]?["message_count"] == .int(4))
                app.expectFailure(
                    try await app.send(.conversation, id, query: "?limit=0", token: token), of: .conversation,
                    .validation, field: "limit")
                app.expectFailure(
                    try await app.send(.conversation, "conv_999", token: token), of: .conversation, .notFound)
                let other = try await app.token("bob")
                app.expectFailure(
                    try await app.send(.conversation, id, token: other), of: .conversation, .insufficientPermissions)
                app.expectFailure(try await app.send(.conversation, id), of: .conversation, .authenticationFailed)
            }
        }

        /// `"stream": true` answers Server-Sent Events: `delta` pieces, then `done` with the reply's fields.
        @Test func streamedReply() async throws {
            try await RouterHarness.run { app in
                let answer = try await app.send(
                    .sendMessage, token: try await app.token(), body: #"{"message":"help","stream":true}"#)
                #expect(answer.status == 200 && answer.header("Content-Type") == "text/event-stream", "\(answer)")
                let events = RouterTests.events(answer.text)
                #expect(events.count >= 2 && events.dropLast().allSatisfy { $0.data?["delta"] != nil }, "\(answer)")
                let done = try #require(events.last?.data)
                #expect(done["done"] == true)
                var reply = done
                if case .object(let members) = done { reply = .object(members.filter { $0.0 != "done" }) }
                #expect(SchemaCheck.problems(reply, Schema.ref("ChatReply")).isEmpty, "\(done)")
            }
        }

        /// Renaming answers the new title (a blank one 422 naming it); deleting answers 204, then 404.
        @Test func renameAndDelete() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                let sent = try await app.send(.sendMessage, token: token, body: #"{"message":"hello"}"#)
                let id = try #require(sent.json?["data"]?["conversation_id"]?.stringValue)
                let renamed = app.expectSuccess(
                    try await app.send(.renameConversation, id, token: token, body: #"{"title":"Plans"}"#),
                    of: .renameConversation)
                #expect(renamed["data"]?["title"] == "Plans")
                app.expectFailure(
                    try await app.send(.renameConversation, id, token: token, body: #"{"title":"  "}"#),
                    of: .renameConversation, .validation, field: "title")
                app.expectFailure(
                    try await app.send(.renameConversation, "conv_999", token: token, body: #"{"title":"x"}"#),
                    of: .renameConversation, .notFound)
                app.expectFailure(
                    try await app.send(.deleteConversation, id, token: try await app.token("bob")),
                    of: .deleteConversation, .insufficientPermissions)
                app.expectSuccess(try await app.send(.deleteConversation, id, token: token), of: .deleteConversation)
                app.expectFailure(
                    try await app.send(.deleteConversation, id, token: token), of: .deleteConversation, .notFound)
            }
        }
    }
}

// MARK: - Predictions

extension RouterTests {
    /// `PredictionController`: `/whoami`, `/echo`, `/predict/{model}`, `/logs` and its live feeds.
    @Suite struct Prediction {
        /// `/whoami` names the token's claims; a missing, malformed or foreign token is 401.
        @Test func whoami() async throws {
            try await RouterHarness.run { app in
                let whoami = app.expectSuccess(
                    try await app.send(.whoami, token: try await app.token("ana", tenant: "acme")), of: .whoami)
                #expect(whoami["user_id"] == "ana" && whoami["role"] == "user" && whoami["tenant"] == "acme")
                app.expectFailure(try await app.send(.whoami), of: .whoami, .authenticationFailed)
                app.expectFailure(try await app.send(.whoami, token: "not.a.token"), of: .whoami, .authenticationFailed)
                let foreign = TokenForger(secret: "another-secret-another-secret-12345")
                    .sign(TokenForger.claims(user: "ana"))
                app.expectFailure(try await app.send(.whoami, token: foreign), of: .whoami, .authenticationFailed)
                let basic = try await app.request("GET", "/whoami", headers: [("Authorization", "Basic YW5hOng=")])
                app.expectFailure(basic, of: .whoami, .authenticationFailed)
            }
        }

        /// `/echo` answers the body as sent; malformed JSON is 400.
        @Test func echo() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                let body = #"{"b":[1,2.5,"x"],"a":null}"#
                let echoed = try await app.send(.echo, token: token, body: body)
                app.expectSuccess(echoed, of: .echo)
                #expect(echoed.text == body)
                app.expectFailure(try await app.send(.echo, token: token, body: "{"), of: .echo, .badRequest)
                app.expectFailure(try await app.send(.echo, body: body), of: .echo, .authenticationFailed)
            }
        }

        /// Single and batch predictions, by the baseline and by an imported model; bad features 422 naming them,
        /// an unknown version 404, malformed JSON 400.
        @Test func predict() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                let baseline = app.expectSuccess(
                    try await app.send(.predict, "nothing", token: token, body: #"{"features":[1,2,3]}"#), of: .predict)
                #expect(baseline["prediction"] == .int(6) && baseline["version"] == "baseline")
                try await RouterTests.importModel(app, "m", token: token)
                let single = app.expectSuccess(
                    try await app.send(.predict, "m", token: token, body: #"{"features":[0.9,0,0]}"#), of: .predict)
                #expect(single["prediction"] == .int(2) && single["version"] == "1", "\(single)")
                let batch = app.expectSuccess(
                    try await app.send(.predict, "m", token: token, body: #"{"instances":[[0,0,0],[1,1,1]]}"#),
                    of: .predict)
                #expect(batch["predictions"] == .array([.int(1), .int(2)]), "\(batch)")
                app.expectFailure(
                    try await app.send(.predict, "m", token: token, body: #"{"features":[1,2]}"#), of: .predict,
                    .validation, field: "features")
                app.expectFailure(
                    try await app.send(.predict, "m", token: token, body: #"{"features":"1,2,3"}"#), of: .predict,
                    .validation, field: "features")
                app.expectFailure(
                    try await app.send(.predict, "m@7", token: token, body: #"{"features":[1,2,3]}"#), of: .predict,
                    .notFound)
                app.expectFailure(
                    try await app.send(.predict, "m", token: token, body: #"{"features":[1,"#), of: .predict, .badRequest)
                app.expectFailure(
                    try await app.send(.predict, "m", body: #"{"features":[1,2,3]}"#), of: .predict, .authenticationFailed)
            }
        }

        /// The log lists the tenant's predictions; bad filters are 422 naming them, another tenant 403.
        @Test func logs() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                for _ in 0..<3 { _ = try await app.send(.predict, "m", token: token, body: #"{"features":[1,2]}"#) }
                let page = app.expectSuccess(
                    try await app.send(.logs, query: "?model=m&limit=2", token: token), of: .logs)
                #expect(page["pagination"]?["total"] == .int(3) && page["pagination"]?["has_next"] == true)
                app.expectFailure(
                    try await app.send(.logs, query: "?since=yesterday-ish", token: token), of: .logs, .validation,
                    field: "since")
                app.expectFailure(
                    try await app.send(.logs, query: "?limit=many", token: token), of: .logs, .validation, field: "limit")
                app.expectFailure(
                    try await app.send(.logs, query: "?tenant=acme", token: token), of: .logs, .insufficientPermissions)
                app.expectFailure(try await app.send(.logs), of: .logs, .authenticationFailed)
            }
        }

        /// `/logs/stream` sends each prediction committed while it is open as a log item and ends with an
        /// `event: error` when its subscriber is disabled; a missing token is 401 and another tenant 403, before it
        /// opens.
        @Test func logStream() async throws {
            try await RouterHarness.run { app in
                let token = try await app.account("ana")
                app.expectFailure(try await app.send(.logStream), of: .logStream, .authenticationFailed)
                app.expectFailure(
                    try await app.send(.logStream, query: "?tenant=acme", token: token), of: .logStream,
                    .insufficientPermissions)
                let answer = try await Self.streamWhilePredicting(app, account: "ana", token: token)
                app.expectSuccess(answer, of: .logStream)
                #expect(answer.text.hasPrefix(": stream open"), "\(answer)")
                let events = RouterTests.events(answer.text)
                let items = events.filter { $0.type == "message" }
                #expect(!items.isEmpty, "\(answer)")
                for item in items {
                    #expect(SchemaCheck.problems(item.data ?? .null, Schema.ref("LogItem")).isEmpty, "\(item)")
                }
                #expect(events.last?.type == "error" && events.last?.data?["error"]?["code"] == "AUTHENTICATION_FAILED")
            }
        }

        /// DESIGN §3: SSE events carry the prediction's id as `id:` (so that a reconnect with `Last-Event-ID` can
        /// replay what it missed).
        @Test
        func logStreamEventsCarryTheirID() async throws {
            try await RouterHarness.run { app in
                let token = try await app.account("ana")
                let answer = try await Self.streamWhilePredicting(app, account: "ana", token: token)
                let items = RouterTests.events(answer.text).filter { $0.type == "message" }
                #expect(!items.isEmpty, "\(answer)")
                for item in items {
                    #expect(item.id != nil && item.id == item.data?["id"].map(JSONWriter.compact), "\(answer)")
                }
            }
        }

        /// A reconnect resumes: `Last-Event-ID` (or `?after=`) first replays what was logged after that id, in order,
        /// then what commits; a bad id is a 422 naming where it came from.
        @Test func logStreamResumesAfterTheLastEventID() async throws {
            try await RouterHarness.run { app in
                let token = try await app.account("bonita")
                for value in 1...4 {
                    _ = try await app.send(.predict, "m", token: token, body: #"{"features":[\#(value)]}"#)
                }
                let logged = try #require(try await app.send(.logs, query: "?limit=10", token: token).json?["data"])
                guard case .array(let items) = logged else { throw XalorraError(.internal, "no items") }
                let ids = items.compactMap { $0["id"].flatMap { if case .number(.int(let id)) = $0 { id } else { nil } } }
                    .sorted()
                #expect(ids.count == 4)
                for resume in [("header", [("Last-Event-ID", String(ids[1]))], ""), ("query", [], "?after=\(ids[1])")] {
                    async let streamed = app.request("GET", "/logs/stream" + resume.2, token: token, headers: resume.1)
                    try await Task.sleep(for: .milliseconds(300))
                    let admin = try await app.adminToken()
                    _ = try await app.send(.updateUser, "bonita", token: admin, body: #"{"is_active":false}"#)
                    let answer = try await streamed
                    _ = try await app.send(.updateUser, "bonita", token: admin, body: #"{"is_active":true}"#)
                    let replayed = RouterTests.events(answer.text).filter { $0.type == "message" }.compactMap(\.id)
                    #expect(replayed == ids[2...].map(String.init), "\(resume.0): \(answer)")
                }
                let bad = try await app.request("GET", "/logs/stream", token: token, headers: [("Last-Event-ID", "x")])
                app.expectFailure(bad, of: .logStream, .validation, field: "Last-Event-ID")
                app.expectFailure(
                    try await app.send(.logStream, query: "?after=-1", token: token), of: .logStream, .validation,
                    field: "after")
                // Past what a JSON number carries exactly, the message names that bound (not "from 0").
                let huge = try await app.send(.logStream, query: "?after=9223372036854775807", token: token)
                app.expectFailure(huge, of: .logStream, .validation, field: "after")
                #expect(huge.text.contains("must be at most \(IntegerRule.largestExact)"), "\(huge)")
            }
        }

        /// Opens `/logs/stream` for `account` (whose `token` it is), predicts as it five times, then disables the
        /// account, which ends the stream within the server's access re-check; returns the whole stream.
        static func streamWhilePredicting(
            _ app: RouterHarness, account: String, token: String
        ) async throws -> RouterHarness.Answer {
            async let streamed = app.send(.logStream, token: token)
            // Nothing here tells when the stream is open: predictions keep coming until one lands after it.
            for _ in 0..<5 {
                try await Task.sleep(for: .milliseconds(50))
                _ = try await app.send(.predict, "m", token: token, body: #"{"features":[1,2]}"#)
            }
            let admin = try await app.adminToken()
            _ = try await app.send(.updateUser, account, token: admin, body: #"{"is_active":false}"#)
            return try await streamed
        }

        /// `/ws/predictions` without an upgrade is 400 in the envelope, and 401 without a token.
        @Test func logSocketWithoutUpgrade() async throws {
            try await RouterHarness.run { app in
                app.expectFailure(
                    try await app.send(.logSocket, token: try await app.token()), of: .logSocket, .badRequest)
                app.expectFailure(try await app.send(.logSocket), of: .logSocket, .authenticationFailed)
            }
        }
    }
}

// MARK: - Models

extension RouterTests {
    /// `ModelsController`: the registry, export and import.
    @Suite struct Models {
        /// An imported model is listed, shown, and its versions shown and exported; unknown ones are 404.
        @Test func importListShowExport() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                let imported = app.expectSuccess(
                    try await app.send(.importModel, "m", token: token, body: RouterTests.modelDocument), of: .importModel)
                #expect(imported["data"]?["version"] == "1" && imported["data"]?["features"] == .array(["a", "b", "c"]))
                app.expectFailure(
                    try await app.send(.importModel, "m", token: token, body: #"{"learner":{}}"#), of: .importModel,
                    .validation)
                app.expectFailure(
                    try await app.send(.importModel, "m", body: RouterTests.modelDocument), of: .importModel,
                    .authenticationFailed)

                let list = app.expectSuccess(try await app.send(.models, token: token), of: .models)
                #expect(list["pagination"]?["total"] == .int(1))
                app.expectFailure(
                    try await app.send(.models, query: "?limit=-1", token: token), of: .models, .validation, field: "limit")
                app.expectFailure(
                    try await app.send(.models, query: "?tenant=acme", token: token), of: .models, .insufficientPermissions)
                let model = app.expectSuccess(try await app.send(.model, "m", token: token), of: .model)
                #expect(model["data"]?["latest_version"] == "1")
                app.expectFailure(try await app.send(.model, "nope", token: token), of: .model, .notFound)
                app.expectFailure(
                    try await app.send(.model, "m", token: try await app.token("bob", tenant: "acme")), of: .model,
                    .notFound)

                for version in ["1", "latest"] {
                    app.expectSuccess(try await app.send(.modelVersion, "m", version, token: token), of: .modelVersion)
                }
                app.expectFailure(
                    try await app.send(.modelVersion, "m", "9", token: token), of: .modelVersion, .notFound)
                app.expectFailure(
                    try await app.send(.modelVersion, "m", "v1", token: token), of: .modelVersion, .validation,
                    field: "version")
                let export = app.expectSuccess(
                    try await app.send(.exportModelVersion, "m", "1", token: token), of: .exportModelVersion)
                #expect(export["format"] == "xalorra-model")
                app.expectFailure(
                    try await app.send(.exportModelVersion, "m", "9", token: token), of: .exportModelVersion, .notFound)
            }
        }

        /// Deleting a version (never `latest`) and a model answer 204, then 404.
        @Test func delete() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                for _ in 0..<2 { try await RouterTests.importModel(app, "m", token: token) }
                app.expectFailure(
                    try await app.send(.deleteModelVersion, "m", "latest", token: token), of: .deleteModelVersion,
                    .validation, field: "version")
                app.expectSuccess(
                    try await app.send(.deleteModelVersion, "m", "1", token: token), of: .deleteModelVersion)
                app.expectFailure(
                    try await app.send(.deleteModelVersion, "m", "1", token: token), of: .deleteModelVersion, .notFound)
                app.expectFailure(
                    try await app.send(.deleteModel, "m", token: try await app.token("bob", tenant: "acme")),
                    of: .deleteModel, .notFound)
                app.expectSuccess(try await app.send(.deleteModel, "m", token: token), of: .deleteModel)
                app.expectFailure(try await app.send(.deleteModel, "m", token: token), of: .deleteModel, .notFound)
                app.expectFailure(try await app.send(.deleteModel, "m"), of: .deleteModel, .authenticationFailed)
            }
        }
    }
}

// MARK: - Training

extension RouterTests {
    /// `TrainingController`: queue (JSON or CSV), list, show and cancel jobs. Router tests run no training worker,
    /// so jobs stay queued.
    @Suite struct Training {
        /// JSON and CSV bodies queue a job (202); a missing target or a bad kind is 422 naming it, malformed JSON 400.
        @Test func train() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                let json = #"{"target":"y","columns":["a","y"],"rows":[[1,1],[2,2],[3,3]],"trees":5}"#
                let queued = app.expectSuccess(try await app.send(.train, "m", token: token, body: json), of: .train)
                #expect(queued["data"]?["status"] == "queued" && queued["data"]?["rows"] == .int(3))
                let csv = app.expectSuccess(
                    try await app.send(.train, "m", query: "?target=y&kind=linear", token: token, body: "a,y\n1,1\n2,2\n"),
                    of: .train)
                #expect(csv["data"]?["kind"] == "linear", "\(csv)")
                app.expectFailure(
                    try await app.send(.train, "m", token: token, body: #"{"columns":["a","y"],"rows":[[1,1]]}"#),
                    of: .train, .validation, field: "target")
                app.expectFailure(
                    try await app.send(.train, "m", query: "?target=y&kind=forest", token: token, body: "a,y\n1,1\n"),
                    of: .train, .validation, field: "kind")
                app.expectFailure(
                    try await app.send(.train, "m", query: "?target=y&trees=0", token: token, body: "a,y\n1,1\n"),
                    of: .train, .validation, field: "trees")
                app.expectFailure(
                    try await app.send(.train, "m", token: token, body: #"{"target":"#), of: .train, .badRequest)
                app.expectFailure(try await app.send(.train, "m", body: json), of: .train, .authenticationFailed)
            }
        }

        /// Jobs are listed (a bad status filter 422 naming it), shown (another tenant's 404) and cancelled (twice:
        /// 409).
        @Test func jobs() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                let queued = try await app.send(
                    .train, "m", token: token, body: #"{"target":"y","columns":["a","y"],"rows":[[1,1],[2,2]]}"#)
                let id = try #require(queued.json?["data"]?["id"]?.stringValue, "\(queued)")
                let list = app.expectSuccess(try await app.send(.trainingJobs, token: token), of: .trainingJobs)
                #expect(list["pagination"]?["total"] == .int(1))
                app.expectFailure(
                    try await app.send(.trainingJobs, query: "?status=sleeping", token: token), of: .trainingJobs,
                    .validation, field: "status")
                let job = app.expectSuccess(try await app.send(.trainingJob, id, token: token), of: .trainingJob)
                #expect(job["data"]?["id"] == .string(id))
                app.expectFailure(
                    try await app.send(.trainingJob, "job_999", token: token), of: .trainingJob, .notFound)
                let other = try await app.token("bob", tenant: "acme")
                app.expectFailure(try await app.send(.trainingJob, id, token: other), of: .trainingJob, .notFound)
                app.expectFailure(
                    try await app.send(.cancelTrainingJob, id, token: other), of: .cancelTrainingJob, .notFound)
                let cancelled = app.expectSuccess(
                    try await app.send(.cancelTrainingJob, id, token: token), of: .cancelTrainingJob)
                #expect(cancelled["data"]?["status"] == "cancelled")
                app.expectFailure(
                    try await app.send(.cancelTrainingJob, id, token: token), of: .cancelTrainingJob, .conflict)
                app.expectFailure(try await app.send(.trainingJobs), of: .trainingJobs, .authenticationFailed)
            }
        }
    }
}

// MARK: - Inference

extension RouterTests {
    /// `InferenceController`: the Open Inference Protocol, whose errors are `{"error": "…"}`.
    @Suite struct Inference {
        /// Server metadata, liveness and readiness answer without a token.
        @Test func server() async throws {
            try await RouterHarness.run { app in
                app.expectSuccess(try await app.send(.inferenceServer), of: .inferenceServer)
                #expect(app.expectSuccess(try await app.send(.inferenceLive), of: .inferenceLive)["live"] == true)
                #expect(app.expectSuccess(try await app.send(.inferenceReady), of: .inferenceReady)["ready"] == true)
            }
        }

        /// Model and version metadata and readiness; an unknown version is 404, an unknown model the baseline's.
        @Test func metadata() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                try await RouterTests.importModel(app, "m", token: token)
                let model = app.expectSuccess(try await app.send(.inferenceModel, "m", token: token), of: .inferenceModel)
                #expect(model["versions"] == .array(["1"]))
                app.expectSuccess(try await app.send(.inferenceVersion, "m", "1", token: token), of: .inferenceVersion)
                app.expectSuccess(try await app.send(.inferenceModelReady, "m", token: token), of: .inferenceModelReady)
                app.expectSuccess(
                    try await app.send(.inferenceVersionReady, "m", "1", token: token), of: .inferenceVersionReady)
                let unknown = app.expectSuccess(
                    try await app.send(.inferenceModel, "nope", token: token), of: .inferenceModel)
                #expect(unknown["versions"] == .array(["baseline"]))
                for endpoint in [Endpoint.inferenceVersion, .inferenceVersionReady] {
                    app.expectFailure(try await app.send(endpoint, "m", "9", token: token), of: endpoint, .notFound)
                }
                app.expectFailure(try await app.send(.inferenceModel, "m"), of: .inferenceModel, .authenticationFailed)
            }
        }

        /// Inference with the newest or a named version; a tensor of the wrong size is 422, malformed JSON 400, an
        /// unknown version 404, no token 401, each as `{"error"}`.
        @Test func infer() async throws {
            try await RouterHarness.run { app in
                let token = try await app.token()
                try await RouterTests.importModel(app, "m", token: token)
                let body = #"{"id":"r1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP64","data":[0,0,0,1,1,1]}]}"#
                let answer = app.expectSuccess(try await app.send(.infer, "m", token: token, body: body), of: .infer)
                #expect(answer["id"] == "r1" && answer["model_version"] == "1")
                guard case .array(let outputs)? = answer["outputs"] else { throw XalorraError(.internal, "\(answer)") }
                #expect(outputs.first?["data"] == .array([.int(1), .int(2)]), "\(answer)")
                app.expectSuccess(
                    try await app.send(.inferVersion, "m", "1", token: token, body: body), of: .inferVersion)
                let short = #"{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP64","data":[1,2]}]}"#
                app.expectFailure(try await app.send(.infer, "m", token: token, body: short), of: .infer, .validation)
                app.expectFailure(try await app.send(.infer, "m", token: token, body: "{"), of: .infer, .badRequest)
                app.expectFailure(
                    try await app.send(.inferVersion, "m", "9", token: token, body: body), of: .inferVersion, .notFound)
                app.expectFailure(try await app.send(.infer, "m", body: body), of: .infer, .authenticationFailed)
            }
        }
    }
}
