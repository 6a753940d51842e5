import Foundation
import Testing
import XalorraCore

/// `/admin/*` and roles (issue 7): admin routes need the admin role, users cannot grant themselves one, and a token
/// follows its account's role, tenant and existence.
@Suite(.serialized)
struct IsolationAdminTests: LiveServerSuite {
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
}
