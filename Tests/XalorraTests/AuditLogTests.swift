import Foundation
import Testing
import XalorraCore

/// The audit log (issue 18): a row per change with who (and which key), from where, what, on which object and the
/// outcome; `GET /admin/audit` for admins only, and `xalorra audit` offline and remote alike.
@Suite(.serialized)
struct AuditLogTests: LiveServerSuite {
    /// Creating and revoking keys, over HTTP (by token and by key) and offline, writes one row each, refusals
    /// included, with the actor, the key used, the client's address or `local`, and the outcome.
    @Test func keyChangesAreAudited() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let admin = try server.token(["--user", "boss", "--role", "admin"])
        let create = try await server.request(
            "POST", "/keys", token: admin, body: #"{"name":"full","scopes":["admin"]}"#)
        #expect(create.status == 201, "\(create.body)")
        let key = try #require(json(create.body)["data"]?["key"]?.stringValue)
        let id = try #require(json(create.body)["data"]?["id"]?.stringValue)
        let byKey = try await server.request(
            "POST", "/keys", body: #"{"name":"child"}"#, headers: [("X-API-Key", key)])
        #expect(byKey.status == 201, "\(byKey.body)")
        #expect(try await server.request("DELETE", "/keys/ffffffffffffffff", token: admin).status == 404)
        #expect(try cli.run(["keys", "revoke", id]).status == 0)

        let answer = try await server.request("GET", "/admin/audit?action=keys", token: admin)
        #expect(answer.status == 200, "\(answer.body)")
        let page = json(answer.body)
        #expect(page["pagination"]?["total"] == .number(.int(4)), "\(answer.body)")
        let rows = page["data"]?.arrayValue ?? []
        let summary = rows.map { row in
            [row["action"], row["actor"], row["key_id"], row["origin"], row["outcome"]].map { $0?.stringValue ?? "-" }
        }
        #expect(summary == [
            ["keys.revoke", "tester", "-", "local", "success"],
            ["keys.revoke", "boss", "-", "127.0.0.1", "failure: RESOURCE_NOT_FOUND"],
            ["keys.create", "boss", id, "127.0.0.1", "success"],
            ["keys.create", "boss", "-", "127.0.0.1", "success"],
        ], "\(answer.body)")
        #expect(rows.last?["object"]?.stringValue == "\(id) (boss)")
        #expect(!answer.body.contains(String(key.suffix(43))), "the audit log holds a key")
    }

    /// Only admins read the audit log; filters by user, action and time, pages, and bad input, all as the
    /// paginated envelope or the error envelope; `xalorra audit` prints the same offline and remote.
    @Test func readingTheLog() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let admin = try server.token(["--role", "admin"])
        for name in ["a", "b", "c"] { #expect(try cli.run(["keys", "create", name]).status == 0) }
        let user = try server.token(["--user", "pat"])
        let refused = try await server.request("GET", "/admin/audit", token: user)
        #expect(refused.status == 403 && json(refused.body)["error"]?["code"] == "INSUFFICIENT_PERMISSIONS")
        #expect(try await server.request("GET", "/admin/audit").status == 401)
        // The tokens minted above are audited too (`tokens.mint`): page through the keys' rows.
        let paged = json(try await server.request("GET", "/admin/audit?action=keys&limit=2&offset=1", token: admin).body)
        #expect(paged["data"]?.arrayValue?.count == 2 && paged["pagination"]?["has_next"] == false, "\(paged)")
        #expect(paged["pagination"]?["total"] == .number(.int(3)) && paged["pagination"]?["has_prev"] == true)
        let none = json(try await server.request("GET", "/admin/audit?user=nobody", token: admin).body)
        #expect(none["pagination"]?["total"] == .number(.int(0)))
        let future = json(try await server.request("GET", "/admin/audit?since=2999-01-01T00:00:00Z", token: admin).body)
        #expect(future["pagination"]?["total"] == .number(.int(0)))
        for bad in ["since=yesterday", "limit=0", "limit=501", "offset=-1"] {
            let answer = try await server.request("GET", "/admin/audit?\(bad)", token: admin)
            #expect(answer.status == 422 && json(answer.body)["error"]?["code"] == "VALIDATION_ERROR", "\(bad)")
        }
        for arguments in [["audit"], ["audit", "--json"], ["audit", "--action", "keys.create", "--since", "1d"]] {
            let offline = try cli.run(arguments)
            let remote = try cli.run(arguments + ["--url", server.url, "--token", admin])
            #expect(offline.status == 0 && remote.status == 0, "\(arguments): \(offline) \(remote)")
            #expect(offline.stdout.normalizingTimestamps() == remote.stdout.normalizingTimestamps(), "\(arguments)")
            #expect(offline.stdout.contains("keys.create"), "\(offline)")
        }
        let remoteRefused = try cli.run(["audit", "--url", server.url, "--token", user])
        #expect(remoteRefused.status == 4, "\(remoteRefused)")
    }

    /// Account changes (create, disable, delete, a refused create) and a token minted by an admin each write a row.
    @Test func accountChangesAreAudited() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--user", "boss", "--role", "admin"])
        let user = #"{"username":"sam","email":"sam@x.io","nama_lengkap":"Sam","password":"rahasia-sam"}"#
        #expect(try await server.request("POST", "/admin/users", token: admin, body: user).status == 201)
        #expect(try await server.request("POST", "/admin/users", token: admin, body: user).status == 409)
        let disable = try await server.request("PATCH", "/admin/users/sam", token: admin, body: #"{"is_active":false}"#)
        #expect(disable.status == 200)
        #expect(try await server.request("DELETE", "/admin/users/sam", token: admin).status == 204)
        let minted = try await server.request("POST", "/admin/tokens", token: admin, body: #"{"user":"ci"}"#)
        #expect(minted.status == 200)
        let rows = json(try await server.request("GET", "/admin/audit", token: admin).body)["data"]?.arrayValue ?? []
        let seen = rows.map { row in ["action", "object", "outcome"].map { row[$0]?.stringValue ?? "" } }
        #expect(seen == [
            ["tokens.mint", "ci", "success"], ["users.delete", "sam", "success"],
            ["users.disable", "sam", "success"], ["users.create", "sam", "failure: RESOURCE_ALREADY_EXISTS"],
            ["users.create", "sam", "success"], ["tokens.mint", "boss", "success"],
        ], "\(rows)")  // the last: the admin token this test minted with the CLI
    }

    /// Logins refused beyond the login limit write one row per client and window, however many more are refused;
    /// logins within the limit (even failed ones) write none, and the refused body is never read.
    @Test func loginsRefusedBeyondTheLimitAreAudited() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let guess = #"{"username":"victim","password":"wrong-guess"}"#
        var statuses: [Int] = []
        for _ in 0..<8 { statuses.append(try await server.request("POST", "/users/login", body: guess).status) }
        #expect(statuses == [401, 401, 401, 401, 401, 429, 429, 429], "\(statuses)")
        let audit = try server.cli.run(["audit", "--action", "users.login", "--json"])
        #expect(audit.status == 0, "\(audit)")
        let rows = json(audit.stdout)["data"]?.arrayValue ?? []
        let seen = rows.map { row in ["action", "actor", "origin", "object", "outcome"].map { row[$0]?.stringValue ?? "" } }
        #expect(seen == [["users.login", "anonymous", "127.0.0.1", "login", "failure: RATE_LIMIT_EXCEEDED"]], "\(audit)")
    }
}
