import Foundation
import Testing
import XalorraCore

/// Secrets (issue 7): secret files are private on disk, and no password, token or the secret reaches the server's
/// log or an error body.
@Suite(.serialized)
struct IsolationSecretTests: LiveServerSuite {
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
            "too-long password": long, "secret": LiveServer.secret,
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

        let forged = TokenForger(secret: "attacker-secret-attacker-secret!!").sign(TokenForger.claims(role: "admin"))
        let expired = TokenForger.live.sign(TokenForger.claims(exp: TokenForger.now - 3600))
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
