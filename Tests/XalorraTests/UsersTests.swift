import Foundation
import Testing
import XalorraClient
import XalorraCore
import XalorraML

/// The Aksara users API against a live `xalorra serve`, and `xalorra users` offline and remote.
@Suite(.serialized)
struct UsersTests {
    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    private func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    private func register(_ server: LiveServer, _ name: String, password: String = "rahasia1") async throws -> (Int, JSONValue) {
        let answer = try await server.request(
            "POST", "/users/register",
            body: body([("username", .string(name)), ("email", .string("\(name)@x.io")), ("nama_lengkap", "Budi Santoso"),
                ("password", .string(password))]))
        return (answer.status, try json(answer.body))
    }

    private func login(_ server: LiveServer, _ name: String, password: String = "rahasia1") async throws -> (Int, JSONValue) {
        let answer = try await server.request(
            "POST", "/users/login", body: body([("username", .string(name)), ("password", .string(password))]))
        return (answer.status, try json(answer.body))
    }

    private func refresh(_ server: LiveServer, _ token: String) async throws -> (Int, JSONValue) {
        let answer = try await server.request("POST", "/users/refresh", body: body([("refresh_token", .string(token))]))
        return (answer.status, try json(answer.body))
    }

    private func code(_ envelope: JSONValue) -> String? { envelope["error"]?["code"]?.stringValue }
    private func message(_ envelope: JSONValue) -> String? { envelope["error"]?["message"]?.stringValue }

    /// The Aksara client's flow: register, log in (by username and by email), profile, update, change password,
    /// log out; every documented status and message on the way.
    @Test func sdkFlow() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let (status, created) = try await register(server, "budi")
        #expect(status == 201)
        #expect(created["message"] == "User registered successfully")
        #expect(created["data"]?["username"] == "budi" && created["data"]?["role"] == "user")
        // A tenant of its own, never the operator's default tenant (issue 12: registering used to land there).
        let tenant = created["data"]?["tenant"]?.stringValue ?? ""
        #expect(tenant.hasPrefix("u-budi-") && created["data"]?["is_active"] == true, "\(created)")
        #expect(created["data"]?["password_hash"] == nil && !JSONWriter.compact(created).contains("$2"))

        #expect(message(try await register(server, "BUDI").1) == "Username already registered")
        let sameEmail = try await server.request(
            "POST", "/users/register",
            body: body([("username", "other"), ("email", "BUDI@x.io"), ("nama_lengkap", "O"), ("password", "rahasia1")]))
        #expect(try sameEmail.status == 409 && message(try json(sameEmail.body)) == "Email already registered")

        let invalid = try await server.request(
            "POST", "/users/register",
            body: body([("username", "a!"), ("email", "nope"), ("password", .string(String(repeating: "é", count: 40)))]))
        #expect(invalid.status == 422)
        let fields = try json(invalid.body)["error"]?["details"]?.arrayValue?.compactMap { $0["field"]?.stringValue }
        #expect(Set(fields ?? []) == ["username", "email", "nama_lengkap", "password"], "\(invalid.body)")
        #expect(invalid.body.contains("Password must be at most 72 bytes"))

        let (loginStatus, session) = try await login(server, "budi")
        #expect(loginStatus == 200 && session["message"] == "Login successful")
        let data = session["data"]
        #expect(data?["token_type"] == "bearer" && data?["expires_in"] == 3600 && data?["user"]?["username"] == "budi")
        let access = try #require(data?["access_token"]?.stringValue)
        let refreshToken = try #require(data?["refresh_token"]?.stringValue)
        #expect(try await login(server, "budi@x.io").0 == 200)
        let wrong = try await login(server, "budi", password: "salah123")
        #expect(wrong.0 == 401 && message(wrong.1) == "Incorrect username or password")
        #expect(code(wrong.1) == "AUTHENTICATION_FAILED")
        // A refresh token is not an access token.
        #expect(try await server.request("GET", "/users/profile", token: refreshToken).status == 401)

        let profile = try json(try await server.request("GET", "/users/profile", token: access).body)
        #expect(profile["message"] == "Profile retrieved successfully" && profile["data"]?["email"] == "budi@x.io")
        let updated = try await server.request(
            "PUT", "/users/profile", token: access, body: body([("nama_lengkap", "Budi S.")]))
        #expect(try updated.status == 200 && (try json(updated.body))["data"]?["nama_lengkap"] == "Budi S.")
        _ = try await register(server, "sari")
        let taken = try await server.request("PUT", "/users/profile", token: access, body: body([("email", "SARI@x.io")]))
        #expect(try taken.status == 409 && message(try json(taken.body)) == "Email already registered")

        let badCurrent = try await server.request(
            "POST", "/users/change-password", token: access,
            body: body([("current_password", "salah123"), ("new_password", "baru12345")]))
        #expect(try badCurrent.status == 401 && message(try json(badCurrent.body)) == "Current password is incorrect")
        let changed = try await server.request(
            "POST", "/users/change-password", token: access,
            body: body([("current_password", "rahasia1"), ("new_password", "baru12345")]))
        #expect(try changed.status == 200 && (try json(changed.body))["message"] == "Password changed successfully")
        // Every refresh token of the user was revoked; the new password logs in.
        #expect(try await refresh(server, refreshToken).0 == 401)
        #expect(try await login(server, "budi", password: "rahasia1").0 == 401)
        let (_, again) = try await login(server, "budi", password: "baru12345")
        let newRefresh = try #require(again["data"]?["refresh_token"]?.stringValue)

        // Logout: only one's own refresh token; then it is refused.
        let sari = try await login(server, "sari").1["data"]?["access_token"]?.stringValue
        let foreign = try await server.request(
            "POST", "/users/logout", token: sari, body: body([("refresh_token", .string(newRefresh))]))
        #expect(try foreign.status == 403 && message(try json(foreign.body)) == "Refresh token belongs to another user", "\(foreign)")
        let out = try await server.request(
            "POST", "/users/logout", token: access, body: body([("refresh_token", .string(newRefresh))]))
        #expect(out.status == 204 && out.body.isEmpty, "\(out)")
        let afterLogout = try await refresh(server, newRefresh)
        #expect(afterLogout.0 == 401 && code(afterLogout.1) == "TOKEN_EXPIRED")
    }

    /// Refresh rotates: the old token is revoked; presenting it again revokes the token that replaced it too.
    @Test func refreshRotationAndReuseDetection() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        _ = try await register(server, "rina")
        let first = try #require(try await login(server, "rina").1["data"]?["refresh_token"]?.stringValue)
        let (status, rotated) = try await refresh(server, first)
        #expect(status == 200 && rotated["message"] == "Token refreshed successfully")
        let second = try #require(rotated["data"]?["refresh_token"]?.stringValue)
        #expect(second != first && rotated["data"]?["access_token"] != nil && rotated["data"]?["expires_in"] == 3600)
        let access = try #require(rotated["data"]?["access_token"]?.stringValue)
        #expect(try await server.request("GET", "/whoami", token: access).status == 200)

        let replay = try await refresh(server, first)
        #expect(replay.0 == 401 && code(replay.1) == "TOKEN_EXPIRED" && message(replay.1)?.contains("already used") == true)
        let chain = try await refresh(server, second)
        #expect(chain.0 == 401 && code(chain.1) == "TOKEN_EXPIRED", "the replay must revoke the whole chain")
        #expect(try await refresh(server, "not-a-token").0 == 401)
        let missing = try await server.request("POST", "/users/refresh", body: "{}")
        #expect(missing.status == 422 && missing.body.contains("Refresh token is required"))
    }

    /// A disabled user is locked out at once: its access token, its refresh token and its password.
    @Test func disabledUsersAreLockedOut() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        _ = try await register(server, "dodi")
        let session = try #require(try await login(server, "dodi").1["data"])
        let access = try #require(session["access_token"]?.stringValue)
        #expect(try await server.request("GET", "/whoami", token: access).status == 200)
        let admin = try server.token(["--role", "admin"])
        let patched = try await server.request(
            "PATCH", "/admin/users/dodi", token: admin, body: body([("is_active", false)]))
        #expect(try patched.status == 200 && (try json(patched.body))["data"]?["is_active"] == false)
        let refused = try await server.request("GET", "/whoami", token: access)
        #expect(refused.status == 401 && refused.body.contains("disabled"))
        #expect(try await login(server, "dodi").0 == 401)
        #expect(try await refresh(server, session["refresh_token"]?.stringValue ?? "").0 == 401)

        // Enabled again offline by another process: the server notices within its one-second cache.
        #expect(try server.cli.run(["users", "enable", "dodi"]).status == 0)
        let fresh = try #require(try await login(server, "dodi").1["data"]?["access_token"]?.stringValue)
        #expect(try server.cli.run(["users", "disable", "dodi"]).status == 0)
        var status = 200
        for _ in 0..<30 where status == 200 {
            try await Task.sleep(for: .milliseconds(100))
            status = try await server.request("GET", "/whoami", token: fresh).status
        }
        #expect(status == 401)
    }

    /// An unknown username spends one bcrypt comparison like a known one, and gets the same answer.
    @Test func unknownUsersCostABcryptComparison() async throws {
        let server = try await LiveServer(environment: ["XALORRA_METRICS": "open"], arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        func checks() async throws -> Int {
            let metrics = try await server.request("GET", "/metrics").body
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("xalorra_password_checks_total ") }
            return Int(line?.split(separator: " ").last ?? "") ?? -1
        }
        let before = try await checks()
        let unknown = try await login(server, "nobody_here")
        #expect(unknown.0 == 401 && message(unknown.1) == "Incorrect username or password")
        #expect(try await checks() == before + 1)
        _ = try await register(server, "known")
        let known = try await login(server, "known", password: "wrong-one")
        #expect(known.1 == unknown.1 || message(known.1) == message(unknown.1))
        #expect(try await checks() == before + 2)
    }

    /// Admin routes: 403 for users; list with search and pages, show, create, 404s, delete.
    @Test func adminUserRoutes() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        for name in ["alpha", "beta", "gamma"] { _ = try await register(server, name) }
        let admin = try server.token(["--role", "admin"])
        let user = try #require(try await login(server, "alpha").1["data"]?["access_token"]?.stringValue)
        #expect(try await server.request("GET", "/admin/users", token: user).status == 403)
        let page = try json(try await server.request("GET", "/admin/users?limit=2&search=a", token: admin).body)
        #expect(page["pagination"]?["total"] == 3 && page["pagination"]?["has_next"] == true)
        #expect(page["data"]?.arrayValue?.count == 2)
        let searched = try json(try await server.request("GET", "/admin/users?search=gam", token: admin).body)
        #expect(searched["data"]?.arrayValue?.map { $0["username"] } == ["gamma"])
        let created = try await server.request(
            "POST", "/admin/users", token: admin,
            body: body([("username", "ops"), ("email", "ops@x.io"), ("nama_lengkap", "Ops"), ("password", "rahasia1"),
                ("role", "admin"), ("tenant", "t7")]))
        #expect(try created.status == 201 && (try json(created.body))["data"]?["tenant"] == "t7")
        let badRole = try await server.request("PATCH", "/admin/users/beta", token: admin, body: body([("role", "root")]))
        #expect(badRole.status == 422 && badRole.body.contains("\"field\":\"role\""))
        #expect(try await server.request("GET", "/admin/users/nobody", token: admin).status == 404)
        #expect(try await server.request("DELETE", "/admin/users/beta", token: admin).status == 204)
        #expect(try await server.request("GET", "/admin/users/beta", token: admin).status == 404)
        #expect(try await server.request("DELETE", "/admin/users/beta", token: admin).status == 404)
    }

    /// The seed's limits: register 3 per hour and login 5 per 15 minutes per client.
    @Test func registerAndLoginRateLimits() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        var statuses: [Int] = []
        for index in 0..<4 { statuses.append(try await register(server, "limit\(index)").0) }
        #expect(statuses == [201, 201, 201, 429])
        statuses = []
        for _ in 0..<6 { statuses.append(try await login(server, "limit0", password: "wrong-one").0) }
        #expect(statuses == [401, 401, 401, 401, 401, 429])
    }

    /// `xalorra users` prints the same offline and with `--url`, on one store.
    @Test func cliOfflineAndRemoteAgree() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let cli = server.cli
        let add = try cli.run(
            ["users", "add", "jek", "--email", "jek@x.io", "--name", "Jek Doe", "--role", "admin", "--password-stdin"],
            stdin: Data("rahasia1\n".utf8))
        #expect(add.status == 0 && add.stdout.contains("admin"), "\(add)")
        let admin = try server.token(["--role", "admin"])
        for arguments in [["users", "list"], ["users", "show", "jek"], ["users", "list", "--search", "je", "--json"]] {
            let offline = try cli.run(arguments)
            let remote = try cli.run(arguments + ["--url", server.url, "--token", admin])
            #expect(offline.status == 0, "\(arguments): \(offline)")
            #expect(offline.stdout.normalizingTimestamps() == remote.stdout.normalizingTimestamps(), "\(arguments)")
        }
        for (arguments, needle) in [
            (["users", "update", "jek", "--tenant", "t2"], "t2"), (["users", "disable", "jek"], "no"),
            (["users", "enable", "jek"], "yes"),
        ] {
            let offline = try cli.run(arguments)
            let remote = try cli.run(arguments + ["--url", server.url, "--token", admin])
            #expect(offline.stdout.contains(needle) && remote.stdout.contains(needle), "\(arguments)")
            #expect(offline.stdout.normalizingTimestamps() == remote.stdout.normalizingTimestamps())
        }
        let missing = try cli.run(["users", "show", "nobody", "--url", server.url, "--token", admin])
        let missingOffline = try cli.run(["users", "show", "nobody"])
        #expect(missing.status == 1 && missing.stderr == missingOffline.stderr && missing.stderr.contains("User not found"))
        let noTTY = try cli.run(["users", "add", "zed", "--email", "z@x.io", "--name", "Z"])
        #expect(noTTY.status == 2 && noTTY.stderr.contains("--password-stdin"))
        let delete = try cli.run(["users", "delete", "jek", "--url", server.url, "--token", admin])
        #expect(delete.status == 0 && delete.stdout == "deleted user jek\n")
        #expect(try cli.run(["users", "show", "jek"]).status == 1)
    }

    /// `users login` saves 0600 credentials that later remote commands use and renew; `logout` revokes them.
    @Test func cliLoginSavesRenewsAndLogsOut() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let cli = server.cli
        #expect(try cli.run(
            ["users", "register", "kiki", "--email", "kiki@x.io", "--name", "Kiki", "--url", server.url, "--password-stdin"],
            stdin: Data("rahasia1\n".utf8)).status == 0)
        let bad = try cli.run(["users", "login", "kiki", "--url", server.url, "--password-stdin"], stdin: Data("nope\n".utf8))
        #expect(bad.status == 4 && bad.stderr.contains("Incorrect username or password"))
        let login = try cli.run(["users", "login", "kiki", "--url", server.url, "--password-stdin"], stdin: Data("rahasia1\n".utf8))
        #expect(login.status == 0 && login.stdout.contains("logged in as kiki"), "\(login)")
        let path = cli.home.appendingPathComponent("credentials.json").path
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let whoami = try cli.run(["users", "whoami", "--url", server.url])
        #expect(whoami.status == 0 && whoami.stdout.contains("kiki@x.io"), "\(whoami)")

        // An access token about to expire is renewed through /users/refresh before the command runs.
        var saved = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        let oldRefresh = saved["refresh_token"]
        saved = saved.setting("expires_at", .int(1))
        try JSONWriter.compact(saved).write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try cli.run(["logs", "--url", server.url]).status == 0)
        let renewed = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(renewed["refresh_token"] != oldRefresh && (renewed["expires_at"]?.numberValue?.doubleValue ?? 0) > 1)

        chmod(path, 0o644)
        let exposed = try cli.run(["users", "whoami", "--url", server.url])
        #expect(exposed.status == 4 && exposed.stderr.contains("readable by other users"))
        chmod(path, 0o600)

        let logout = try cli.run(["users", "logout", "--url", server.url])
        #expect(logout.status == 0 && !FileManager.default.fileExists(atPath: path), "\(logout)")
        let refreshToken = renewed["refresh_token"]?.stringValue ?? ""
        #expect(try await refresh(server, refreshToken).0 == 401, "logout must revoke the saved refresh token")
        #expect(try cli.run(["users", "whoami", "--url", server.url]).status == 4)
    }
}

extension String {
    /// `self` with every ISO timestamp replaced by `<time>`, for comparing outputs printed at different moments.
    func normalizingTimestamps() -> String {
        replacing(try! Regex(#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#), with: "<time>")
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    var numberValue: Number? {
        if case .number(let number) = self { return number }
        return nil
    }

    /// The object with `key` set to `value`.
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let index = members.firstIndex(where: { $0.0 == key }) { members[index].1 = value } else { members.append((key, value)) }
        return .object(members)
    }
}
