import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization

/// One subscriber of a live prediction feed of a `LiveServer`: `GET /logs/stream` (Server-Sent Events) or
/// `GET /ws/predictions` (WebSocket), collecting each event's JSON text until `stop()`.
final class FeedFollower: Sendable {
    /// The feeds a follower can open.
    enum Feed: Sendable {
        case serverSentEvents
        case webSocket
    }

    /// What the background task writes and the test reads.
    private final class State: Sendable {
        /// The `data:` payloads (SSE) or text messages (WebSocket), in order.
        let received = Mutex<[String]>([])
        /// The response status once the stream is open (101 for a WebSocket).
        let status = Mutex<Int?>(nil)
    }

    private let state = State()
    private let task = Mutex<Task<Void, any Error>?>(nil)

    /// Opens `feed` on `server` with `token` (as `Authorization: Bearer`, or `?access_token=` when `tokenInQuery`)
    /// and starts collecting.
    init(_ server: LiveServer, _ feed: Feed, token: String, query: String = "", tokenInQuery: Bool = false) {
        let query = tokenInQuery ? query + (query.isEmpty ? "?" : "&") + "access_token=" + token : query
        let task: Task<Void, any Error>
        switch feed {
        case .serverSentEvents:
            let url = server.url + "/logs/stream" + query
            task = Task { [state] in
                var request = HTTPClientRequest(url: url)
                if !tokenInQuery { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
                state.status.withLock { $0 = Int(response.status.code) }
                var pending = ""
                for try await chunk in response.body {
                    pending += String(buffer: chunk)
                    while let end = pending.range(of: "\n\n") {
                        let event = pending[..<end.lowerBound]
                        for line in event.split(separator: "\n") where line.hasPrefix("data: ") {
                            state.received.withLock { $0.append(String(line.dropFirst(6))) }
                        }
                        pending = String(pending[end.upperBound...])
                    }
                }
            }
        case .webSocket:
            var headers = HTTPFields()
            if !tokenInQuery { headers[.authorization] = "Bearer \(token)" }
            let url = server.url.replacingOccurrences(of: "http://", with: "ws://") + "/ws/predictions" + query
            task = Task { [state, headers] in
                try await WebSocketClient.connect(
                    url: url, configuration: .init(additionalHeaders: headers), logger: Logger(label: "follower")
                ) { inbound, _, _ in
                    state.status.withLock { $0 = 101 }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { state.received.withLock { $0.append(text) } }
                    }
                }
            }
        }
        self.task.withLock { $0 = task }
    }

    /// Waits until the stream is open (true) or refused (false), then a moment more for the server to subscribe.
    func waitOpen(seconds: Double = 5) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while state.status.withLock({ $0 }) == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(200))
        return [200, 101].contains(state.status.withLock { $0 })
    }

    /// What arrived so far, waiting up to `seconds` for `done` to hold.
    func events(within seconds: Double, until done: ([String]) -> Bool = { _ in false }) async -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let now = state.received.withLock { $0 }
            if done(now) { return now }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return state.received.withLock { $0 }
    }

    /// Closes the stream.
    func stop() { task.withLock { $0?.cancel() } }

    deinit { task.withLock { $0?.cancel() } }
}
