import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing
import XalorraCore

/// Live feeds end when their subscriber loses access (DESIGN §9, issue 12 item 7): `GET /logs/stream` and
/// `GET /ws/predictions` are cut within about a second of the account being disabled, deleted, moved to another
/// tenant or demoted, and at the token's expiry, with a last event (SSE `event: error` and the error envelope) or a
/// close frame (1008) saying why, and the cut is counted in the server's log.
@Suite(.serialized)
struct StreamAccessTests {
    /// One subscriber of both feeds with the same token, recording what arrives and how each feed ended.
    final class Subscriber: Sendable {
        /// An SSE event: its `event:` type (`message` when none) and its data.
        struct Event: Sendable {
            let type: String
            let data: String
        }

        let events = Mutex<[Event]>([])
        let messages = Mutex<[String]>([])
        let sseStatus = Mutex<Int?>(nil)
        let socketOpen = Mutex(false)
        /// When the SSE response ended, and when the WebSocket closed with which frame.
        let sseEnded = Mutex<Date?>(nil)
        let socketEnded = Mutex<(at: Date, frame: WebSocketCloseFrame?)?>(nil)
        private let tasks = Mutex<[Task<Void, Never>]>([])

        /// Opens `GET /logs/stream` and `GET /ws/predictions` on `server` with `token`.
        init(_ server: LiveServer, token: String) {
            let sse = Task { [self] in
                var request = HTTPClientRequest(url: server.url + "/logs/stream")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                do {
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
                    sseStatus.withLock { $0 = Int(response.status.code) }
                    var pending = ""
                    for try await chunk in response.body {
                        pending += String(buffer: chunk)
                        while let end = pending.range(of: "\n\n") {
                            var type = "message"
                            var data: [String] = []
                            for line in pending[..<end.lowerBound].split(separator: "\n") {
                                if line.hasPrefix("event: ") { type = String(line.dropFirst(7)) }
                                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
                            }
                            if !data.isEmpty {
                                events.withLock { $0.append(Event(type: type, data: data.joined(separator: "\n"))) }
                            }
                            pending = String(pending[end.upperBound...])
                        }
                    }
                } catch {}
                sseEnded.withLock { $0 = Date() }
            }
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(token)"
            let url = server.url.replacingOccurrences(of: "http://", with: "ws://") + "/ws/predictions"
            let socket = Task { [self, headers] in
                let frame = try? await WebSocketClient.connect(
                    url: url, configuration: .init(additionalHeaders: headers), logger: Logger(label: "test")
                ) { inbound, _, _ in
                    self.socketOpen.withLock { $0 = true }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { self.messages.withLock { $0.append(text) } }
                    }
                }
                socketEnded.withLock { $0 = (Date(), frame) }
            }
            tasks.withLock { $0 = [sse, socket] }
        }

        /// Waits until both feeds are open and subscribed.
        func waitOpen() async throws {
            for _ in 0..<250 where sseStatus.withLock({ $0 }) == nil || !socketOpen.withLock({ $0 }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(sseStatus.withLock { $0 } == 200)
            #expect(socketOpen.withLock { $0 })
            // The server subscribes to the feed as its handler starts; give it a moment past the handshake.
            try await Task.sleep(for: .milliseconds(300))
        }

        /// Waits up to `seconds` for `done`.
        func wait(seconds: Double, until done: () -> Bool) async {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline, !done() { try? await Task.sleep(for: .milliseconds(20)) }
        }

        /// Whether both feeds have ended.
        var bothEnded: Bool { sseEnded.withLock { $0 } != nil && socketEnded.withLock { $0 } != nil }

        deinit { tasks.withLock { $0.forEach { $0.cancel() } } }
    }

    private func json(_ text: String) -> JSONValue { (try? JSONParser.parse(text)) ?? .null }

    private func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    /// A server, an admin token, and a producer in tenant `t1` whose predictions the subscribers should see.
    private func start() async throws -> (server: LiveServer, admin: String, producer: String) {
        let server = try await LiveServer(environment: ["XALORRA_BCRYPT_COST": "10"], arguments: ["--rate-limit", "off"])
        let admin = try server.token(["--user", "root", "--role", "admin"])
        let producer = try server.token(["--user", "producer", "--tenant", "t1"])
        return (server, admin, producer)
    }

    /// Creates the account `sam` in tenant `t1` with `role` and returns its access token.
    private func account(_ server: LiveServer, admin: String, role: Role = .user) async throws -> String {
        try await create(server, admin: admin, role: role)
        let login = try await server.request(
            "POST", "/users/login", body: body([("username", "sam"), ("password", "rahasia-sam")]))
        return try #require(json(login.body)["data"]?["access_token"]?.stringValue, "\(login.body)")
    }

    /// Creates the account `sam` in tenant `t1` with `role`.
    private func create(_ server: LiveServer, admin: String, role: Role = .user) async throws {
        let created = try await server.request(
            "POST", "/admin/users", token: admin,
            body: body([
                ("username", "sam"), ("email", "sam@x.io"), ("nama_lengkap", "Sam"), ("password", "rahasia-sam"),
                ("role", .string(role.rawValue)), ("tenant", "t1"),
            ]))
        #expect(created.status == 201, "\(created.body)")
    }

    /// Predicts once on `live` with `token`; the status.
    private func predict(_ server: LiveServer, _ token: String) async throws -> Int {
        try await server.request("POST", "/predict/live", token: token, body: #"{"features":[1]}"#).status
    }

    /// Subscribes with `token`, checks a prediction arrives on both feeds, runs `revoke`, and checks both feeds end
    /// within `within` seconds (the server re-checks every half second; the rest is slack for a loaded machine) of its end (and not before `notBefore`) with `code`: SSE's last event is
    /// `event: error` carrying the envelope, the WebSocket's close frame is 1008 naming the code; nothing predicted
    /// afterwards arrives, and the server logs each cut.
    private func expectCutOff(
        _ server: LiveServer, token: String, producer: String, code: XalorraError.Code, within: Double = 4,
        notBefore: Date? = nil, revoke: () async throws -> Void
    ) async throws {
        let subscriber = Subscriber(server, token: token)
        try await subscriber.waitOpen()
        #expect(try await predict(server, producer) == 200)
        await subscriber.wait(seconds: 5) {
            subscriber.events.withLock { $0.count } >= 1 && subscriber.messages.withLock { $0.count } >= 1
        }
        #expect(subscriber.events.withLock { $0.map(\.type) } == ["message"])
        #expect(subscriber.messages.withLock { $0.count } == 1)

        #expect(!subscriber.bothEnded && subscriber.sseEnded.withLock { $0 } == nil, "a feed ended by itself")
        // Timed from when the change is made (the revoking request answered): creating an account hashes a
        // password, which a loaded machine may take seconds over.
        try await revoke()
        let revoked = Date()
        await subscriber.wait(seconds: within + 3) { subscriber.bothEnded }
        let sseEnded = try #require(subscriber.sseEnded.withLock { $0 }, "the SSE stream is still open")
        let socketEnded = try #require(subscriber.socketEnded.withLock { $0 }, "the WebSocket is still open")
        let sseDelay = sseEnded.timeIntervalSince(revoked)
        let socketDelay = socketEnded.at.timeIntervalSince(revoked)
        #expect(sseDelay < within, "SSE ended \(sseDelay) s later")
        #expect(socketDelay < within, "WebSocket closed \(socketDelay) s later")
        if let notBefore {
            #expect(sseEnded >= notBefore && socketEnded.at >= notBefore, "a feed ended before \(notBefore)")
        }

        let last = try #require(subscriber.events.withLock { $0.last })
        #expect(last.type == "error", "\(last)")
        #expect(json(last.data)["error"]?["code"] == .string(code.name), "\(last.data)")
        #expect(json(last.data)["timestamp"]?.stringValue != nil, "\(last.data)")
        let frame = String(describing: socketEnded.frame)
        #expect(socketEnded.frame?.closeCode == .policyViolation, "\(frame)")
        #expect(socketEnded.frame?.reason?.hasPrefix(code.name + ": ") == true, "\(frame)")

        #expect(try await predict(server, producer) == 200)
        try await Task.sleep(for: .milliseconds(300))
        #expect(subscriber.events.withLock { $0.count } == 2)
        #expect(subscriber.messages.withLock { $0.count } == 1)
        #expect(try await server.log.waitFor("/logs/stream closed: \(code.name)", seconds: 2))
        #expect(try await server.log.waitFor("/ws/predictions closed: \(code.name)", seconds: 2))
    }

    /// Disabling the account ends its live feeds with AUTHENTICATION_FAILED.
    @Test func disabledAccountIsCutOff() async throws {
        let (server, admin, producer) = try await start()
        defer { server.stop() }
        let token = try await account(server, admin: admin)
        try await expectCutOff(server, token: token, producer: producer, code: .authenticationFailed) {
            let answer = try await server.request(
                "PATCH", "/admin/users/sam", token: admin, body: #"{"is_active":false}"#)
            #expect(answer.status == 200, "\(answer.body)")
        }
    }

    /// Deleting the account ends its live feeds with AUTHENTICATION_FAILED.
    @Test func deletedAccountIsCutOff() async throws {
        let (server, admin, producer) = try await start()
        defer { server.stop() }
        let token = try await account(server, admin: admin)
        try await expectCutOff(server, token: token, producer: producer, code: .authenticationFailed) {
            let answer = try await server.request("DELETE", "/admin/users/sam", token: admin)
            #expect(answer.status == 204, "\(answer.body)")
        }
    }

    /// An account deleted and created again under the same name at once is another account: the old one's feeds end.
    @Test func recreatedAccountIsCutOff() async throws {
        let (server, admin, producer) = try await start()
        defer { server.stop() }
        let token = try await account(server, admin: admin)
        try await expectCutOff(server, token: token, producer: producer, code: .authenticationFailed) {
            let deleted = try await server.request("DELETE", "/admin/users/sam", token: admin)
            #expect(deleted.status == 204, "\(deleted.body)")
            try await create(server, admin: admin)
        }
    }

    /// A name without an account (a minted token) loses its feeds when an account takes the name.
    @Test func nameTakenByANewAccountIsCutOff() async throws {
        let (server, admin, producer) = try await start()
        defer { server.stop() }
        let token = try server.token(["--user", "sam", "--tenant", "t1"])
        try await expectCutOff(server, token: token, producer: producer, code: .authenticationFailed) {
            try await create(server, admin: admin)
        }
    }

    /// Moving the account to another tenant ends its feeds of the old tenant.
    @Test func tenantChangeIsCutOff() async throws {
        let (server, admin, producer) = try await start()
        defer { server.stop() }
        let token = try await account(server, admin: admin)
        try await expectCutOff(server, token: token, producer: producer, code: .authenticationFailed) {
            let answer = try await server.request("PATCH", "/admin/users/sam", token: admin, body: #"{"tenant":"t2"}"#)
            #expect(answer.status == 200, "\(answer.body)")
        }
    }

    /// Demoting an admin ends the feeds it opened as an admin (which saw every tenant).
    @Test func demotedAdminIsCutOff() async throws {
        let (server, admin, producer) = try await start()
        defer { server.stop() }
        let token = try await account(server, admin: admin, role: .admin)
        try await expectCutOff(server, token: token, producer: producer, code: .authenticationFailed) {
            let answer = try await server.request("PATCH", "/admin/users/sam", token: admin, body: #"{"role":"user"}"#)
            #expect(answer.status == 200, "\(answer.body)")
        }
    }

    /// A token's expiry ends its feeds at `exp` (not a leeway later), with TOKEN_EXPIRED.
    @Test func expiredTokenIsCutOffAtExpiry() async throws {
        let (server, _, producer) = try await start()
        defer { server.stop() }
        let token = try server.token(["--user", "brief", "--tenant", "t1", "--ttl", "4s"])
        let service = await TokenService(secret: LiveServer.secret, algorithm: .hs256)
        let claims = try await service.verify(token)
        let expiry = Date(timeIntervalSince1970: TimeInterval(try #require(claims.exp)))
        // The feeds stay open until the expiry, then end at once.
        try await expectCutOff(
            server, token: token, producer: producer, code: .tokenExpired, within: expiry.timeIntervalSinceNow + 1.5,
            notBefore: expiry.addingTimeInterval(-0.05)
        ) {}
    }

    /// A feed whose subscriber keeps access stays open and keeps delivering past several re-checks.
    @Test func feedOfAnAccountInGoodStandingStaysOpen() async throws {
        let (server, admin, producer) = try await start()
        defer { server.stop() }
        let token = try await account(server, admin: admin)
        let subscriber = Subscriber(server, token: token)
        try await subscriber.waitOpen()
        // A change that does not touch access (the full name) does not cut the feed.
        let renamed = try await server.request(
            "PATCH", "/admin/users/sam", token: admin, body: #"{"nama_lengkap":"S"}"#)
        #expect(renamed.status == 200, "\(renamed.body)")
        try await Task.sleep(for: .seconds(2.5))
        #expect(try await predict(server, producer) == 200)
        await subscriber.wait(seconds: 5) {
            subscriber.events.withLock { $0.count } >= 1 && subscriber.messages.withLock { $0.count } >= 1
        }
        #expect(!subscriber.bothEnded)
        #expect(subscriber.events.withLock { $0.map(\.type) } == ["message"])
        #expect(subscriber.messages.withLock { $0.count } == 1)
    }
}
