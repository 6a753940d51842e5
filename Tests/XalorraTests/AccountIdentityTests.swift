import Foundation
import GRDB
import Testing
@testable import XalorraCore

/// Ownership follows an account's identity, not its reusable name (DESIGN §5), and self-registration is a setting
/// whose accounts never share the operator's tenant (DESIGN §9): issue 12, items 3 and 6.
@Suite(.serialized)
struct AccountIdentityTests {
    typealias Response = (status: Int, body: String)

    private func json(_ text: String) -> JSONValue { (try? JSONParser.parse(text)) ?? .null }

    private func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    private func register(_ server: LiveServer, _ name: String) async throws -> Response {
        let answer = try await server.request(
            "POST", "/users/register",
            body: body([("username", .string(name)), ("email", .string("\(name)@x.io")), ("nama_lengkap", "Some One"),
                ("password", .string("rahasia-\(name)"))]))
        return (answer.status, answer.body)
    }

    /// Logs `name` in and returns its access token.
    private func login(_ server: LiveServer, _ name: String) async throws -> String {
        let answer = try await server.request(
            "POST", "/users/login", body: body([("username", .string(name)), ("password", .string("rahasia-\(name)"))]))
        return try #require(json(answer.body)["data"]?["access_token"]?.stringValue, "\(answer.body)")
    }

    /// Sends a chat message and returns the conversation's id.
    private func chat(_ server: LiveServer, _ token: String, _ message: String) async throws -> String {
        let answer = try await server.request("POST", "/chat/message", token: token, body: body([("message", .string(message))]))
        return try #require(json(answer.body)["data"]?["conversation_id"]?.stringValue, "\(answer.body)")
    }

    /// The ids of the caller's conversations.
    private func conversations(_ server: LiveServer, _ token: String) async throws -> [String] {
        let answer = try await server.request("GET", "/chat/histories?limit=100", token: token)
        #expect(answer.status == 200, "\(answer.body)")
        return json(answer.body)["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    /// How many rows `sql` counts in the server's store.
    private func count(_ server: LiveServer, _ sql: String) throws -> Int {
        let store = try DatabaseQueue(path: server.cli.home.appendingPathComponent("xalorra.db").path)
        return try store.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    // MARK: - Ownership (item 3)

    /// A deleted user's conversations and messages are deleted with the account; a new account with the name starts
    /// A token id names an account only as `….a<digits>` after its last dot; anything else, or a number past
    /// Int64, names none (read on the UTF-8 view, as every authenticated request does).
    @Test func tokenIDsNameTheirAccount() {
        #expect(User.account(inTokenID: "k3.a12") == 12)
        #expect(User.account(inTokenID: "a.b.a7") == 7)
        #expect(User.account(inTokenID: "é.ü.a5") == 5)
        for jti in [nil, "", "x", "k3.b12", "k3.a", "k3.a1x", "k3.a-1", "k3.a١", "k3.a99999999999999999999", "k3.a12."] {
            #expect(User.account(inTokenID: jti) == nil, "\(jti ?? "nil")")
        }
    }

    /// empty, and the old account's token is refused.
    @Test func aNewAccountWithADeletedUsersNameStartsEmpty() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--user", "root", "--role", "admin"])
        #expect(try await register(server, "bob").status == 201)
        let first = try await login(server, "bob")
        let secret = try await chat(server, first, "bob's secret plans")
        #expect(try await conversations(server, first) == [secret])
        #expect(try count(server, "SELECT count(*) FROM messages") == 2)

        #expect(try await server.request("DELETE", "/admin/users/bob", token: admin).status == 204)
        #expect(try count(server, "SELECT count(*) FROM conversations") == 0)
        #expect(try count(server, "SELECT count(*) FROM messages") == 0)

        #expect(try await register(server, "bob").status == 201)
        let second = try await login(server, "bob")
        #expect(try await conversations(server, second) == [])
        let old = try await server.request("GET", "/chat/histories/\(secret)", token: second)
        #expect(old.status == 404 && !old.body.contains("secret plans"), "\(old.body)")
        let stale = try await server.request("GET", "/chat/histories", token: first)
        #expect(stale.status == 401 && json(stale.body)["error"]?["code"] == "AUTHENTICATION_FAILED", "\(stale.body)")
    }

    /// A token minted for a name without an account and the account later registered under that name are
    /// strangers: neither sees the other's conversations, and the older token is refused once the account exists.
    @Test func mintedTokensAndALaterAccountOfTheNameAreStrangers() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let minted = try server.token(["--user", "carol"])
        let principals = try await chat(server, minted, "minted carol's notes")
        #expect(try await register(server, "carol").status == 201)
        let account = try await login(server, "carol")
        #expect(try await conversations(server, account) == [])
        for (method, path) in [("GET", "/chat/histories/\(principals)"), ("DELETE", "/chat/histories/\(principals)")] {
            let answer = try await server.request(method, path, token: account)
            #expect(answer.status == 403 && !answer.body.contains("notes"), "\(method) \(path): \(answer.body)")
        }
        let mine = try await chat(server, account, "account carol's diary")
        #expect(try await conversations(server, account) == [mine])

        let refused = try await server.request("GET", "/chat/histories/\(mine)", token: minted)
        #expect(refused.status == 401 && refused.body.contains("before the account"), "\(refused.body)")
        #expect(!refused.body.contains("diary"))
        #expect(try await server.request("GET", "/whoami", token: minted).status == 401)

        // A token minted now for the name is the account's (same role and tenant) and sees the account's only.
        let tenant = try #require(json(try await server.request("GET", "/whoami", token: account).body)["tenant"]?.stringValue)
        let fresh = try server.token(["--user", "carol", "--tenant", tenant])
        #expect(try await conversations(server, fresh) == [mine])
        #expect(try count(server, "SELECT count(*) FROM conversations WHERE account_id IS NULL") == 1)
    }

    /// An account id is never handed out twice, even when the newest account is deleted (SQLite's default reuses it).
    @Test func accountIdsAreNeverReused() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--user", "root", "--role", "admin"])
        func id(_ name: String) async throws -> Int64? {
            let answer = try await server.request("GET", "/admin/users/\(name)", token: admin)
            return json(answer.body)["data"]?["id"]?.numberValue.flatMap { Int64(exactly: $0.doubleValue) }
        }
        #expect(try await register(server, "first").status == 201)
        #expect(try await register(server, "newest").status == 201)
        let deleted = try #require(try await id("newest"))
        #expect(try await server.request("DELETE", "/admin/users/newest", token: admin).status == 204)
        #expect(try await register(server, "newest").status == 201)
        let again = try #require(try await id("newest"))
        #expect(again > deleted, "the new account got id \(again), the deleted one had \(deleted)")
    }

    /// A token is an account's when xalorra signed it for that account (its `jti` names the id), or, not naming
    /// one, when issued after the account was created (a microsecond before, in the same second, is too early) with
    /// an `iat` (unless legacy tokens are accepted). A token signed for a deleted account is refused, also when a new
    /// account took the name.
    @Test func tokensOlderThanTheAccountAreNotIts() async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("xalorra-identity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        func api(legacy: Bool) throws -> LocalAPI {
            let settings = try Settings.resolve(
                flags: ["--home": home.path],
                environment: [
                    "HOME": home.path, "SECRET_KEY": "identity-test-secret-identity-test!", "XALORRA_BCRYPT_COST": "10",
                    "XALORRA_ACCEPT_LEGACY_TOKENS": legacy ? "1" : "0",
                ], dotEnv: [:])
            return LocalAPI(settings: settings, caller: Caller(user: "operator", role: .admin, tenant: "default"))
        }
        let strict = try api(legacy: false)
        let user = try await strict.register(
            NewUser(username: "dana", email: "dana@x.io", fullName: "Dana", password: "rahasia-dana"))
        let service = try await strict.tokenService()
        func claims(issued: Timestamp) async throws -> TokenClaims {
            let (token, _) = try await service.mint(
                user: "dana", role: .user, tenant: user.tenant, ttl: TimeSpan(seconds: 600), now: issued)
            return try await service.verify(token)
        }
        let justBefore = try await claims(issued: Timestamp(microseconds: user.createdAt.microseconds - 1))
        await #expect(throws: XalorraError.self) { try await strict.caller(for: justBefore) }
        #expect(try await strict.tokenRefusal(justBefore)?.contains("before the account") == true)

        let login = try await strict.login("dana", password: "rahasia-dana")
        let caller = try await strict.caller(for: try await service.verify(login.tokens.accessToken))
        #expect(caller.account == user.id && caller.user == "dana" && caller.tenant == user.tenant)
        #expect(caller.expires != nil)
        let minted = try await strict.mintToken(
            TokenRequest(user: "dana", role: .user, tenant: user.tenant, ttl: TimeSpan(seconds: 60)))
        #expect(try await strict.caller(for: minted.claims).account == user.id)

        var legacy = try await claims(issued: .now())
        legacy.iat = nil
        #expect(try await strict.tokenRefusal(legacy)?.contains("no iat") == true)
        #expect(try await api(legacy: true).caller(for: legacy).account == user.id)

        let other = try await service.verify(
            try await service.mint(
                user: "dana", role: .user, tenant: user.tenant, ttl: TimeSpan(seconds: 60), id: User.tokenID(for: user.id + 1)
            ).token)
        #expect(try await strict.tokenRefusal(other)?.contains("before the account") == true)

        let loggedIn = try await service.verify(login.tokens.accessToken)
        try await strict.deleteUser("dana")
        #expect(try await strict.tokenRefusal(loggedIn) == "This account was deleted")
        let again = try await strict.register(
            NewUser(username: "dana", email: "dana@x.io", fullName: "Dana", password: "rahasia-dana"))
        #expect(again.id > user.id)
        #expect(try await strict.tokenRefusal(loggedIn)?.contains("before the account") == true)
        let fresh = try await strict.login("dana", password: "rahasia-dana")
        #expect(try await strict.caller(for: try await service.verify(fresh.tokens.accessToken)).account == again.id)

        // A name without an account is accepted as that name alone.
        let stranger = try await service.verify(
            try await service.mint(user: "nobody_here", role: .user, tenant: "default", ttl: TimeSpan(seconds: 60)).token)
        let alone = try await strict.caller(for: stranger)
        #expect(alone.account == nil && alone.user == "nobody_here")
    }

    /// Offline, the CLI's chats belong to the operator's account named `settings.user` (one in the default tenant)
    /// when there is one, else to that name alone. A self-registered account of the same name is someone else's: it
    /// never gets the operator's offline chats, nor the operator its chats.
    @Test func offlineChatsFollowTheSameRule() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let asErin = ["--as", "erin"]
        #expect(try cli.run(["chat", "before the account"] + asErin).status == 0)
        let before = try cli.run(["chat", "list", "--json"] + asErin)
        #expect(json(before.stdout)["pagination"]?["total"] == 1, "\(before)")
        #expect(try await register(server, "erin").status == 201)
        let registrant = try await login(server, "erin")
        #expect(try await conversations(server, registrant) == [], "the registrant must not see the name's chats")
        let written = try await chat(server, registrant, "written through the server")
        #expect(try cli.run(["chat", "operator's secret"] + asErin).status == 0)
        let offline = try cli.run(["chat", "list", "--json"] + asErin)
        #expect(json(offline.stdout)["pagination"]?["total"] == 2, "\(offline)")
        #expect(!offline.stdout.contains(written), "the operator must not see the registrant's chats: \(offline)")
        #expect(try await conversations(server, registrant) == [written], "the operator's chats went to the registrant")

        // An account the admin made in the operator's tenant is the operator's: offline work is its own.
        let admin = try server.token(["--user", "root", "--role", "admin"])
        let created = try await server.request(
            "POST", "/admin/users", token: admin,
            body: body([("username", "fay"), ("email", "fay@x.io"), ("nama_lengkap", "Fay"),
                ("password", "rahasia-fay")]))
        #expect(created.status == 201, "\(created.body)")
        let fay = try await login(server, "fay")
        let hers = try await chat(server, fay, "written by fay's account")
        let asFay = try cli.run(["chat", "list", "--json", "--as", "fay"])
        #expect(json(asFay.stdout)["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [hers], "\(asFay)")
    }

    /// A store written before identities (schema 5) is migrated: conversations written by an account stay its own,
    /// older ones under its name belong to the name alone, and those from before a deletion of the name are gone.
    @Test func migrationBindsConversationsToAccounts() throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "v5-deleted-users")
        let second: Int64 = 1_000_000
        try queue.write { db in
            let hash = "$2b$10$abcdefghijklmnopqrstuv"
            for (id, name, created) in [(1, "ann", 100 * second), (2, "zed", 300 * second)] {
                try db.execute(
                    sql: """
                        INSERT INTO users (id, username, email, nama_lengkap, password_hash, role, tenant, is_active,
                            created_at, updated_at) VALUES (?, ?, ?, 'N', ?, 'user', 'default', 1, ?, ?)
                        """,
                    arguments: [id, name, "\(name)@x.io", hash, created, created])
            }
            try db.execute(sql: "INSERT INTO deleted_users (username, deleted_at) VALUES ('zed', ?)", arguments: [200 * second])
            // 1: ann's own; 2: under ann's name before her account; 3: the deleted zed's (same case-insensitively);
            // 4: under zed's name after the deletion, before the new account; 5: the new zed's own.
            let rows: [(Int64, String, Int64)] = [
                (1, "ann", 150), (2, "ANN", 50), (3, "Zed", 150), (4, "zed", 250), (5, "zed", 350),
            ]
            for (id, owner, created) in rows {
                try db.execute(
                    sql: "INSERT INTO conversations (id, owner, title, created_at, updated_at) VALUES (?, ?, 't', ?, ?)",
                    arguments: [id, owner, created * second, created * second])
                try db.execute(
                    sql: "INSERT INTO messages (conversation_id, sender, content, created_at) VALUES (?, 'user', 'm', ?)",
                    arguments: [id, created * second])
            }
        }
        _ = try AppDatabase(queue, path: ":memory:")
        try queue.write { db in
            let owners = try Row.fetchAll(db, sql: "SELECT id, account_id FROM conversations ORDER BY id")
                .map { row in "\(row["id"] as Int64):\((row["account_id"] as Int64?).map(String.init) ?? "-")" }
            #expect(owners == ["1:1", "2:-", "4:-", "5:2"])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE conversation_id = 3") == 0)
            #expect(try Int.fetchOne(db, sql: "PRAGMA user_version") == AppDatabase.schemaVersion)
            // Deleting the newest account removes what it owns, and its id is not given out again.
            try db.execute(sql: "DELETE FROM users WHERE id = 2")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations WHERE id = 5") == 0)
            try db.execute(
                sql: """
                    INSERT INTO users (username, email, nama_lengkap, password_hash, role, tenant, is_active, created_at,
                        updated_at) VALUES ('zed', 'zed@x.io', 'N', '$2b$10$x', 'user', 'default', 1, 0, 0)
                    """)
            #expect(db.lastInsertedRowID == 3)
        }
    }

    // MARK: - Registration (item 6)

    /// With registration closed, `POST /users/register` is a 403 that creates nothing; admins still create accounts.
    @Test func closedRegistrationCreatesNothing() async throws {
        let server = try await LiveServer(environment: ["XALORRA_REGISTRATION": "closed"], arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let answer = try await register(server, "walkin")
        #expect(answer.status == 403, "\(answer.body)")
        #expect(json(answer.body)["error"]?["code"] == "INSUFFICIENT_PERMISSIONS")
        #expect(json(answer.body)["error"]?["message"] == "registration is closed; ask an admin")
        #expect(try count(server, "SELECT count(*) FROM users") == 0)
        let offline = try server.cli.run(
            ["users", "register", "walkin", "--email", "w@x.io", "--name", "W", "--password-stdin"],
            stdin: Data("rahasia1\n".utf8))
        #expect(offline.status != 0 && offline.stderr.contains("registration is closed"), "\(offline)")

        let admin = try server.token(["--user", "root", "--role", "admin"])
        let created = try await server.request(
            "POST", "/admin/users", token: admin,
            body: body([("username", "staff"), ("email", "staff@x.io"), ("nama_lengkap", "S"), ("password", "rahasia1")]))
        #expect(created.status == 201 && json(created.body)["data"]?["tenant"] == "default", "\(created.body)")
        #expect(try count(server, "SELECT count(*) FROM users") == 1)
    }

    /// Open registration gives each account the `user` role and a tenant of its own: never the default tenant,
    /// never another account's, not the one a deleted account of the same name had.
    @Test func selfRegisteredAccountsGetATenantOfTheirOwn() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--user", "root", "--role", "admin"])
        var tenants: [String] = []
        for name in ["uma", "vic", "uma"] {
            let answer = try await register(server, name)
            let data = json(answer.body)["data"]
            #expect(answer.status == 201 && data?["role"] == "user", "\(answer.body)")
            let tenant = try #require(data?["tenant"]?.stringValue)
            #expect(tenant.hasPrefix("u-\(name)-") && tenant != "default")
            tenants.append(tenant)
            let token = try await login(server, name)
            #expect(json(try await server.request("GET", "/whoami", token: token).body)["tenant"] == .string(tenant))
            let profile = json(try await server.request("GET", "/users/profile", token: token).body)
            #expect(profile["data"]?["tenant"] == .string(tenant))
            if name == "uma", tenants.count == 1 {
                #expect(try await server.request("DELETE", "/admin/users/uma", token: admin).status == 204)
            }
        }
        #expect(Set(tenants).count == 3, "\(tenants)")
    }

    /// An anonymous visitor who registers reaches none of the operator's data: models, versions, exports,
    /// predictions, logs, training jobs and live feeds of the default tenant; deleting the operator's model is a 404
    /// that deletes nothing.
    @Test func anonymousRegistrantsReachNoneOfTheOperatorsData() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--user", "root", "--role", "admin"])
        let model = #"{"format":"xalorra-model","kind":"linear","features":["a"],"#
            + #""model":{"type":"linear","link":"identity","intercept":1000,"weights":[1]}}"#
        let imported = try await server.request("POST", "/models/ops_private/import", token: admin, body: model)
        #expect(imported.status == 201, "\(imported.body)")
        #expect(try await server.request("POST", "/predict/ops_private", token: admin, body: #"{"features":[1]}"#).status == 200)
        let offline = try server.cli.run(["predict", "ops_private", "2"])
        #expect(offline.status == 0 && offline.stdout.contains("1002"), "\(offline)")
        let job = try await server.request(
            "POST", "/train/ops_job", token: admin,
            body: #"{"target":"y","kind":"linear","columns":["a","y"],"rows":"# + "\((1...10).map { [$0, 2 * $0] })}")
        let jobID = try #require(json(job.body)["data"]?["id"]?.stringValue, "\(job.body)")

        #expect(try await register(server, "mallory").status == 201)
        let mallory = try await login(server, "mallory")
        let feed = FeedFollower(server, .serverSentEvents, token: mallory)
        defer { feed.stop() }
        #expect(try await feed.waitOpen())

        let models = try await server.request("GET", "/models", token: mallory)
        #expect(models.status == 200 && !models.body.contains("ops_private") && !models.body.contains("ops_job"))
        for path in [
            "/models/ops_private", "/models/ops_private/versions/1", "/models/ops_private/versions/latest/export",
            "/train/jobs/\(jobID)",
        ] {
            let answer = try await server.request("GET", path, token: mallory)
            #expect(answer.status == 404, "GET \(path): \(answer.status) \(answer.body)")
        }
        // The inference protocol describes the operator's model as it does a name nobody has: the baseline.
        let metadata = try await server.request("GET", "/v2/models/ops_private", token: mallory)
        let nobody = try await server.request("GET", "/v2/models/nobody_has", token: mallory)
        #expect(metadata.status == nobody.status, "\(metadata.body)")
        #expect(metadata.body.replacingOccurrences(of: "ops_private", with: "nobody_has") == nobody.body)
        let prediction = try await server.request("POST", "/predict/ops_private", token: mallory, body: #"{"features":[1]}"#)
        #expect(json(prediction.body)["version"] == "baseline", "the operator's model answered: \(prediction.body)")
        let jobs = json(try await server.request("GET", "/train/jobs", token: mallory).body)
        #expect(jobs["pagination"]?["total"] == 0, "\(jobs)")
        let logs = try await server.request("GET", "/logs?limit=100", token: mallory)
        let tenants = Set(json(logs.body)["data"]?.arrayValue?.compactMap { $0["tenant"]?.stringValue } ?? [])
        #expect(!tenants.contains("default") && !logs.body.contains("\"root\""), "\(logs.body)")
        #expect(try await server.request("GET", "/logs?tenant=default", token: mallory).status == 403)

        // Writes: deleting or cancelling the operator's things finds nothing, and nothing is gone.
        for (method, path) in [
            ("DELETE", "/models/ops_private"), ("DELETE", "/models/ops_private/versions/1"),
            ("DELETE", "/train/jobs/\(jobID)"),
        ] {
            let answer = try await server.request(method, path, token: mallory)
            #expect(answer.status == 404, "\(method) \(path): \(answer.status) \(answer.body)")
        }
        let still = json(try await server.request("GET", "/models/ops_private", token: admin).body)
        #expect(still["data"]?["versions"]?.arrayValue?.count == 1, "\(still)")
        let operatorPrediction = try await server.request("POST", "/predict/ops_private", token: admin, body: #"{"features":[5]}"#)
        #expect(json(operatorPrediction.body)["prediction"]?.numberValue?.doubleValue == 1005)
        let offlineList = try server.cli.run(["models", "--json"])
        #expect(offlineList.stdout.contains("ops_private"))

        // The live feed carried only the registrant's own prediction, not the operator's.
        let events = await feed.events(within: 2) { $0.count >= 2 }
        #expect(events.count == 1 && !events.contains { $0.contains("\"default\"") }, "\(events)")
    }
}
