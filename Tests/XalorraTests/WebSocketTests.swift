import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Synchronization
import Testing
import XalorraCore

/// `GET /ws/predictions` on a live server: the same admission as every route, each committed prediction of the
/// caller's tenant pushed as the JSON of a `GET /logs` item, and a prompt close when the server stops.
@Suite(.serialized)
struct WebSocketTests {
    /// Text messages received by one subscriber, in order.
    final class Inbox: Sendable {
        let messages = Mutex<[String]>([])
        let opened = Mutex(false)

        func wait(seconds: Double, until done: ([String]) -> Bool) async -> [String] {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let now = messages.withLock { $0 }
                if done(now) { return now }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return messages.withLock { $0 }
        }
    }

    /// Subscribes in the background; the task ends when the socket closes (or throws when the upgrade is refused).
    private func subscribe(
        _ server: LiveServer, path: String = "/ws/predictions", token: String?, inbox: Inbox
    ) -> Task<Void, any Error> {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        let url = server.url.replacingOccurrences(of: "http://", with: "ws://") + path
        return Task {
            try await WebSocketClient.connect(
                url: url, configuration: .init(additionalHeaders: headers), logger: Logger(label: "test")
            ) { inbound, _, _ in
                inbox.opened.withLock { $0 = true }
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { inbox.messages.withLock { $0.append(text) } }
                }
            }
        }
    }

    private func waitOpen(_ inbox: Inbox) async throws {
        for _ in 0..<250 where !inbox.opened.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(inbox.opened.withLock { $0 })
        // The server subscribes to the feed as its handler starts; give it a moment past the handshake.
        try await Task.sleep(for: .milliseconds(200))
    }

    @Test func pushesOwnTenantsPredictionsAsLogItems() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let mine = try server.token(["--tenant", "t1"])
        let theirs = try server.token(["--tenant", "t2"])
        let inbox = Inbox()
        let subscriber = subscribe(server, token: mine, inbox: inbox)
        try await waitOpen(inbox)
        _ = try await server.request("POST", "/predict/other", token: theirs, body: #"{"features":[1]}"#)
        _ = try await server.request("POST", "/predict/live", token: mine, body: #"{"features":[4,5]}"#)
        _ = try await server.request("POST", "/predict/live", token: mine, body: #"{"instances":[[1],[2]]}"#)
        let received = await inbox.wait(seconds: 5) { $0.count >= 3 }
        subscriber.cancel()
        #expect(received.count == 3, "\(received)")
        // Exactly what GET /logs lists for the same rows, newest first there.
        let listed = try JSONParser.parse(try await server.request("GET", "/logs", token: mine).body)
        guard case .array(let items)? = listed["data"] else { Issue.record("no data in \(listed)"); return }
        #expect(try received.map { try JSONParser.parse($0) } == items.reversed())
        #expect(!received.contains { $0.contains("\"other\"") || $0.contains("\"t2\"") })
    }

    @Test func tokenInQueryAndModelFilter() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let token = try server.token()
        let inbox = Inbox()
        let subscriber = subscribe(server, path: "/ws/predictions?model=wanted&access_token=\(token)", token: nil, inbox: inbox)
        try await waitOpen(inbox)
        _ = try await server.request("POST", "/predict/unwanted", token: token, body: #"{"features":[1]}"#)
        _ = try await server.request("POST", "/predict/wanted", token: token, body: #"{"features":[2]}"#)
        let received = await inbox.wait(seconds: 5) { !$0.isEmpty }
        try await Task.sleep(for: .milliseconds(200))
        subscriber.cancel()
        #expect(received.count == 1 && received.first?.contains("\"model\":\"wanted\"") == true, "\(received)")
    }

    /// A refused upgrade is answered like any request: the error envelope with its status, and no socket.
    @Test func refusedUpgradesAnswerTheEnvelope() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let user = try server.token(["--tenant", "t1"])
        for (token, path) in [(nil, "/ws/predictions"), ("not-a-jwt", "/ws/predictions"), (user, "/ws/predictions?tenant=t2")] {
            let inbox = Inbox()
            await #expect(throws: (any Error).self) { try await subscribe(server, path: path, token: token, inbox: inbox).value }
            #expect(!inbox.opened.withLock { $0 })
        }
        let cases: [(String?, String, Int, String)] = [
            (nil, "/ws/predictions", 401, "AUTHENTICATION_FAILED"),
            ("not-a-jwt", "/ws/predictions", 401, "AUTHENTICATION_FAILED"),
            (user, "/ws/predictions?tenant=t2", 403, "INSUFFICIENT_PERMISSIONS"),
            (user, "/logs/stream?tenant=t2", 403, "INSUFFICIENT_PERMISSIONS"),
            (user, "/ws/predictions", 400, "VALIDATION_ERROR"),
        ]
        for (token, path, status, code) in cases {
            let answer = try await server.request("GET", path, token: token)
            #expect(answer.status == status, "\(path): \(answer.body)")
            #expect(try JSONParser.parse(answer.body)["error"]?["code"] == .string(code), "\(path): \(answer.body)")
        }
    }

    /// SIGTERM closes open sockets at once; the server exits 0 without waiting for them.
    @Test func shutdownClosesSockets() async throws {
        let server = try await LiveServer()
        let inbox = Inbox()
        let subscriber = subscribe(server, token: try server.token(), inbox: inbox)
        try await waitOpen(inbox)
        let started = Date()
        #expect(server.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 5, "shutdown took \(Date().timeIntervalSince(started)) s")
        _ = try? await subscriber.value
        #expect(server.log.text.contains("GET /ws/predictions 101"))
    }
}
