import Foundation
import Testing
import XalorraCore

/// Slow clients and too many connections against a live `xalorra serve`: idle and dribbling connections are cut off
/// on time, streams and steady bodies are not, and past the connection cap new clients wait instead of failing.
@Suite(.serialized)
struct HostileInputConnectionTests {
    /// The new settings parse, and refuse what they cannot use.
    @Test func connectionSettings() throws {
        let defaults = try Settings.resolve(flags: [:], environment: [:], dotEnv: [:])
        #expect(defaults.idleTimeout.seconds == 60 && defaults.headerTimeout.seconds == 10 && defaults.maxConnections == 4096)
        let set = try Settings.resolve(
            flags: [:],
            environment: ["XALORRA_IDLE_TIMEOUT": "2m", "XALORRA_HEADER_TIMEOUT": "5", "XALORRA_MAX_CONNECTIONS": "8"],
            dotEnv: [:])
        #expect(set.idleTimeout.seconds == 120 && set.headerTimeout.seconds == 5 && set.maxConnections == 8)
        for (name, value) in [
            ("XALORRA_IDLE_TIMEOUT", "0s"), ("XALORRA_HEADER_TIMEOUT", "soon"), ("XALORRA_MAX_CONNECTIONS", "0"),
            ("XALORRA_MAX_CONNECTIONS", "many"),
        ] {
            #expect(throws: XalorraError.self, "\(name)=\(value)") {
                try Settings.resolve(flags: [:], environment: [name: value], dotEnv: [:])
            }
        }
    }

    // MARK: - Slow clients and connection limits

    /// A connection that sends nothing is closed after `XALORRA_IDLE_TIMEOUT`, also between keep-alive requests,
    /// and other clients are answered meanwhile.
    @Test func idleConnectionsAreClosed() async throws {
        let server = try await LiveServer(environment: ["XALORRA_IDLE_TIMEOUT": "1s", "XALORRA_HEADER_TIMEOUT": "2s"])
        defer { server.stop() }
        let port = server.port
        let silent = try await RawHTTP.connect(port: port)
        defer { silent.close() }
        let opened = ContinuousClock.now
        try await Self.expectPromptAnswer(port: port)
        #expect(await silent.closedByServer(within: .seconds(5)))
        let silentFor = ContinuousClock.now - opened
        #expect(silentFor >= .milliseconds(800) && silentFor < .milliseconds(3500), "closed after \(silentFor)")

        let keepAlive = try await RawHTTP.connect(port: port)
        defer { keepAlive.close() }
        await keepAlive.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(await keepAlive.response(timeout: .seconds(5))?.status == 200)
        let answered = ContinuousClock.now
        #expect(await keepAlive.closedByServer(within: .seconds(5)))
        let idleFor = ContinuousClock.now - answered
        #expect(idleFor >= .milliseconds(800) && idleFor < .milliseconds(3500), "closed after \(idleFor)")
        // Closing a connection that never sent a request is routine, not an error.
        #expect(!server.log.text.contains(" error "), "\(server.log.text)")
    }

    /// Shutdown does not wait for connections that are not in a request: a silent new one and an idle keep-alive
    /// one are closed at once, and the server exits 0.
    @Test func shutdownClosesWaitingConnections() async throws {
        let server = try await LiveServer()
        let port = server.port
        let silent = try await RawHTTP.connect(port: port)
        defer { silent.close() }
        let keepAlive = try await RawHTTP.connect(port: port)
        defer { keepAlive.close() }
        await keepAlive.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(await keepAlive.response(timeout: .seconds(5))?.status == 200)
        let started = ContinuousClock.now
        #expect(server.stop() == 0)
        #expect(ContinuousClock.now - started < .seconds(3), "shutdown took \(ContinuousClock.now - started)")
        #expect(await silent.closedByServer(within: .seconds(1)))
    }

    /// Slowloris: a head dribbled one byte per 200 ms is cut `XALORRA_HEADER_TIMEOUT` after the connection opened,
    /// while others are answered promptly; a slow head that completes in time is answered.
    @Test func dribbledHeadersAreCutOff() async throws {
        let server = try await LiveServer(environment: ["XALORRA_IDLE_TIMEOUT": "1s", "XALORRA_HEADER_TIMEOUT": "2s"])
        defer { server.stop() }
        let port = server.port
        let endless = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 200)
        let dribble = Task { () async throws -> Duration? in
            let dribbler = try await RawHTTP.connect(port: port)
            defer { dribbler.close() }
            let opened = ContinuousClock.now
            for byte in endless {
                guard await dribbler.send([byte], timeout: .seconds(1)) else { return ContinuousClock.now - opened }
                if await dribbler.closedByServer(within: .milliseconds(200)) { return ContinuousClock.now - opened }
            }
            return nil
        }
        try await Task.sleep(for: .milliseconds(500))
        for _ in 0..<3 {
            try await Self.expectPromptAnswer(port: port)
            try await Task.sleep(for: .milliseconds(300))
        }
        let cut = try await dribble.value
        #expect(cut != nil && cut! >= .milliseconds(1800) && cut! < .milliseconds(4000), "cut after \(String(describing: cut))")
        #expect(try await server.log.waitFor("request head incomplete after 2s", seconds: 2), "\(server.log.text)")

        // A slow but finished head (about 1 s) is served.
        let slow = try await RawHTTP.connect(port: port)
        defer { slow.close() }
        for byte in Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8) {
            await slow.send([byte])
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(await slow.response(timeout: .seconds(5))?.status == 200)
    }

    /// The head timeout never cuts what follows a complete head: an SSE stream and a WebSocket stay open past both
    /// timeouts and deliver, and a body that trickles in above `XALORRA_MIN_BODY_RATE` is read while others are
    /// served (a stalled one is cut after the idle timeout; ConnectionGuardTests cuts one below the rate).
    @Test func streamsAndSlowBodiesAreNotCut() async throws {
        let server = try await LiveServer(
            environment: ["XALORRA_IDLE_TIMEOUT": "1s", "XALORRA_HEADER_TIMEOUT": "2s", "XALORRA_MIN_BODY_RATE": "1"])
        defer { server.stop() }
        let port = server.port
        let token = try server.token(["--user", "slow", "--tenant", "t1"])

        let events = try await RawHTTP.connect(port: port)
        defer { events.close() }
        await events.send(Array("GET /logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n".utf8))
        #expect(await events.response(timeout: .seconds(5), headOnly: true)?.status == 200)
        let socket = try await RawHTTP.connect(port: port)
        defer { socket.close() }
        await socket.send(Array((
            "GET /ws/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        #expect(await socket.response(timeout: .seconds(5), headOnly: true)?.status == 101)

        // A body of 20 bytes, one every 250 ms: 5 s, past both timeouts, never idle for 1 s.
        let trickle = try await RawHTTP.connect(port: port)
        defer { trickle.close() }
        await trickle.send(Array("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: 20\r\n\r\n".utf8))
        let body = Array(#"{"pad": "0123456"}  "#.utf8)
        for (index, byte) in body.enumerated() {
            #expect(await trickle.send([byte]), "the trickling body was cut at byte \(index)")
            if index % 6 == 0 { try await Self.expectPromptAnswer(port: port) }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(await trickle.response(timeout: .seconds(5))?.status == 200)

        // Both streams outlived the timeouts; a prediction now reaches both.
        let predicted = try await RawHTTP.exchange(
            port: port,
            RawHTTP.request("POST", "/predict/slow-model", token: token, headers: [("Content-Type", "application/json")], body: Array(#"{"features": [1, 2]}"#.utf8)))
        #expect(predicted?.status == 200)
        #expect(await Self.received("slow-model", on: events), "the SSE stream was closed")
        #expect(await Self.received("slow-model", on: socket), "the WebSocket was closed")

        // A body that stops is cut after the idle timeout.
        let stalled = try await RawHTTP.connect(port: port)
        defer { stalled.close() }
        await stalled.send(Array("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: 100\r\n\r\n{\"a\"".utf8))
        let stopped = ContinuousClock.now
        #expect(await stalled.closedByServer(within: .seconds(6)))
        #expect(ContinuousClock.now - stopped < .milliseconds(4000))
        try await Self.expectPromptAnswer(port: port)
    }

    /// Past `XALORRA_MAX_CONNECTIONS`, a new connection waits unaccepted while the admitted ones are served, and is
    /// answered as soon as one of them closes.
    @Test func connectionLimitQueuesTheRest() async throws {
        let server = try await LiveServer(environment: ["XALORRA_MAX_CONNECTIONS": "8"])
        defer { server.stop() }
        let port = server.port
        let health = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        var open: [RawHTTP] = []
        defer { open.forEach { $0.close() } }
        for _ in 0..<8 {
            let connection = try await RawHTTP.connect(port: port)
            open.append(connection)
            await connection.send(health)
            #expect(await connection.response(timeout: .seconds(5))?.status == 200)
        }
        let ninth = try await RawHTTP.connect(port: port)
        defer { ninth.close() }
        await ninth.send(RawHTTP.request("GET", "/health"))
        #expect(await ninth.response(timeout: .seconds(1)) == nil, "a 9th connection was served past the limit")
        // The admitted connections are still served.
        await open[0].send(health)
        #expect(await open[0].response(timeout: .seconds(2))?.status == 200)
        open.removeLast().close()
        let freed = ContinuousClock.now
        #expect(await ninth.response(timeout: .seconds(5))?.status == 200)
        #expect(ContinuousClock.now - freed < .seconds(2))
    }

    // MARK: - Helpers

    /// `GET /health` on a new connection answers 200 within a second.
    static func expectPromptAnswer(port: Int) async throws {
        let started = ContinuousClock.now
        let answer = try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/health"), timeout: .seconds(5))
        #expect(answer?.status == 200)
        #expect(ContinuousClock.now - started < .seconds(1), "GET /health took \(ContinuousClock.now - started)")
    }

    /// Whether `text` arrives on `connection` within 5 s.
    static func received(_ text: String, on connection: RawHTTP) async -> Bool {
        await connection.receive(containing: Array(text.utf8), timeout: .seconds(5))
    }
}
