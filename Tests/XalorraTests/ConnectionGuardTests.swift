import Foundation
import Glibc
import Testing
import XalorraCore
@testable import XalorraServer

/// One client must not make the server unreachable: early answers close their connection instead of waiting for a
/// body, slow bodies and excess connections are cut, every request (matched or not) spends the rate limit, and every
/// response carries the headers that keep browsers and caches safe. Against a live `xalorra serve`, on raw sockets.
@Suite(.serialized)
struct ConnectionGuardTests {
    /// A head announcing a 1 MB body, without `Connection: close`, and the first bytes of that body.
    static func bigBodyHead(_ path: String) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"a\":".utf8)
    }

    /// 300 connections that announce a 1 MB body to an unknown path are each answered early (404, then 429 once
    /// the budget is spent) with `Connection: close`, and closed, even while the client keeps them open: with
    /// `XALORRA_MAX_CONNECTIONS` at 64 they would otherwise fill the server and `GET /health` would never be answered.
    @Test func earlyAnswersCloseTheConnection() async throws {
        let server = try await LiveServer(
            environment: ["XALORRA_MAX_CONNECTIONS": "64", "XALORRA_MAX_CONNECTIONS_PER_CLIENT": "10000"])
        defer { server.stop() }
        let port = server.port
        var held: [RawHTTP] = []
        defer { held.forEach { $0.close() } }
        var statuses: [Int: Int] = [:]
        var problems: [String] = []
        for index in 0..<300 where problems.count < 5 {
            let connection = try await RawHTTP.connect(port: port)
            held.append(connection)
            await connection.send(Self.bigBodyHead("/nope\(index)"))
            guard let answer = await connection.response(timeout: .seconds(8)) else {
                problems.append("connection \(index) got no answer: the earlier ones still hold the server")
                break
            }
            statuses[answer.status, default: 0] += 1
            if answer.header("connection") != "close" || answer.header("x-ratelimit-limit") != "100" {
                problems.append("connection \(index): \(answer.status) \(answer.headers)")
            }
            // The server closed its side: the client sees the end of the stream right after the answer.
            if index % 50 == 0, !(await connection.closedByServer(within: .seconds(1))) {
                problems.append("connection \(index) stayed open after its answer")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(statuses[404, default: 0] >= 100 && statuses[429, default: 0] >= 100, "\(statuses)")
        // Every attacker's socket is still open at the client; the server answers another client at once.
        let started = ContinuousClock.now
        let other = try await Self.connect(port: port, from: "127.0.0.2")
        defer { other.close() }
        await other.send(RawHTTP.request("GET", "/health"))
        #expect(await other.response(timeout: .seconds(5))?.status == 200)
        #expect(ContinuousClock.now - started < .seconds(1), "GET /health took \(ContinuousClock.now - started)")
    }

    /// A connection that keeps sending the body after an early answer is closed by the server within the linger
    /// time (2 s), not held for as long as the client trickles; a small body sent in full keeps its connection.
    @Test func trickledBodiesAfterAnAnswerAreCut() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let port = server.port
        let trickler = try await RawHTTP.connect(port: port)
        defer { trickler.close() }
        await trickler.send(Self.bigBodyHead("/nope"))
        let answer = await trickler.response(timeout: .seconds(5))
        #expect(answer?.status == 404 && answer?.header("connection") == "close", "\(String(describing: answer))")
        let answered = ContinuousClock.now
        var cut = false
        while !cut, ContinuousClock.now - answered < .seconds(6) {
            try await Task.sleep(for: .milliseconds(200))
            cut = !(await trickler.send(Array("1,".utf8), timeout: .seconds(1)))
        }
        #expect(cut, "the server still accepted body bytes 6 s after its answer")
        #expect(ContinuousClock.now - answered < .seconds(4), "cut after \(ContinuousClock.now - answered)")

        // A small complete body, even on an unknown path, keeps the connection for the next request.
        let keepAlive = try await RawHTTP.connect(port: port)
        defer { keepAlive.close() }
        await keepAlive.send(Array("POST /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}".utf8))
        let first = await keepAlive.response(timeout: .seconds(5))
        #expect(first?.status == 404 && first?.header("connection") == nil, "\(String(describing: first?.headers))")
        await keepAlive.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(await keepAlive.response(timeout: .seconds(5))?.status == 200)
    }

    /// A body slower than `XALORRA_MIN_BODY_RATE` is answered 408 (envelope, `Connection: close`) once the header
    /// timeout has passed, while a body that keeps the rate is read in full, however long it takes.
    @Test func slowBodiesAreCut() async throws {
        let server = try await LiveServer(
            environment: ["XALORRA_HEADER_TIMEOUT": "1s", "XALORRA_MIN_BODY_RATE": "1000"],
            arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let port = server.port
        let token = try server.token()
        func head(_ length: Int) -> [UInt8] {
            Array("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(length)\r\n\r\n".utf8)
        }

        // 10 bytes every 250 ms: 40 bytes per second.
        let slow = try await RawHTTP.connect(port: port)
        defer { slow.close() }
        await slow.send(head(100_000) + Array("{\"a\":\"".utf8))
        let started = ContinuousClock.now
        let sender = Task {
            while !Task.isCancelled, ContinuousClock.now - started < .seconds(8) {
                guard await slow.send(Array("aaaaaaaaaa".utf8), timeout: .seconds(1)) else { return }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        defer { sender.cancel() }
        let refusal = await slow.response(timeout: .seconds(6))
        #expect(refusal?.status == 408, "\(String(describing: refusal))")
        #expect(refusal?.header("connection") == "close" && refusal?.header("x-content-type-options") == "nosniff")
        #expect(refusal.map { (try? JSONParser.parse($0.body))?["error"]?["code"] } == .string("VALIDATION_ERROR"))
        #expect(ContinuousClock.now - started < .seconds(6), "refused after \(ContinuousClock.now - started)")
        #expect(try await server.log.waitFor("request body slower than 1000 bytes/s", seconds: 2), "\(server.log.text)")

        // 6,000 bytes every 500 ms (12,000 bytes per second) for 3 s: past the header timeout, well above the rate
        // even when a loaded machine stretches the sleeps several times.
        let steady = try await RawHTTP.connect(port: port)
        defer { steady.close() }
        let body = Array(("{\"a\":\"" + String(repeating: "b", count: 35_992) + "\"}").utf8)
        await steady.send(head(body.count))
        for start in stride(from: 0, to: body.count, by: 6000) {
            #expect(await steady.send(Array(body[start..<min(body.count, start + 6000)])), "cut at byte \(start)")
            try await Task.sleep(for: .milliseconds(500))
        }
        let echoed = await steady.response(timeout: .seconds(5))
        #expect(echoed?.status == 200 && echoed?.body.count == body.count, "\(String(describing: echoed))")
    }

    /// Past `XALORRA_MAX_CONNECTIONS_PER_CLIENT`, a new connection from the same address is closed at once while
    /// other addresses are served; closed connections are given back, round after round (nothing leaks).
    @Test func connectionsPerClientAreCapped() async throws {
        let server = try await LiveServer(environment: ["XALORRA_MAX_CONNECTIONS_PER_CLIENT": "5"])
        defer { server.stop() }
        let port = server.port
        for round in 0..<3 {
            var open: [RawHTTP] = []
            for _ in 0..<5 { open.append(try await RawHTTP.connect(port: port)) }
            // The five are served (they count while open, idle or not). Each answers a request first, so all five
            // are counted before the sixth arrives: the event loops register new connections in no fixed order.
            for connection in open {
                await connection.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                #expect(await connection.response(timeout: .seconds(5))?.status == 200, "round \(round)")
            }
            let sixth = try await RawHTTP.connect(port: port)
            #expect(await sixth.closedByServer(within: .seconds(2)), "round \(round): a 6th connection stayed open")
            sixth.close()
            // Another client is not affected.
            let other = try await Self.connect(port: port, from: "127.0.0.2")
            await other.send(RawHTTP.request("GET", "/health"))
            #expect(await other.response(timeout: .seconds(2))?.status == 200, "round \(round)")
            other.close()
            open.forEach { $0.close() }
            // Once they are closed, the client may connect again.
            var answered: RawHTTP.Response?
            for _ in 0..<20 where answered == nil {
                try await Task.sleep(for: .milliseconds(100))
                answered = try await RawHTTP.exchange(port: port, RawHTTP.request("GET", "/health"), timeout: .seconds(1))
            }
            #expect(answered?.status == 200, "round \(round): the closed connections were not given back")
        }
        #expect(server.log.text.contains("connection refused: 5 connections already open"), "\(server.log.text)")
    }

    /// An event stream whose client stops reading holds at most a few MiB for it: past that the server ends the
    /// stream (the chunked response's last chunk arrives) instead of buffering every event without bound.
    @Test func unreadStreamsEndInsteadOfBuffering() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let port = server.port
        let token = try server.token(["--user", "idle-reader"])
        let reader = try await RawHTTP.connect(port: port)
        defer { reader.close() }
        await reader.send(Array("GET /logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n\r\n".utf8))
        #expect(await reader.receive(containing: Array(": stream open".utf8), timeout: .seconds(5)))
        // About 16 MiB of events (each echoes its 20,000 features) while the reader reads nothing: more than the
        // kernel's socket buffers and the server's 4 MiB allowance together.
        let row = "{\"features\":[" + Array(repeating: "1.25", count: 20_000).joined(separator: ",") + "]}"
        for _ in 0..<160 {
            let answer = try await server.request("POST", "/predict/wide", token: token, body: row)
            #expect(answer.status == 200)
        }
        // Reading now, the stream must come to its end (the terminating chunk) rather than go on forever.
        #expect(await reader.receive(containing: Array("\r\n0\r\n\r\n".utf8), timeout: .seconds(30)), "the stream never ended")
    }

    /// One user holds at most `XALORRA_MAX_CONNECTIONS_PER_CLIENT` live streams (SSE and WebSocket together), from
    /// any number of addresses: the next one is refused (429 for SSE, a refused upgrade for a WebSocket) until one
    /// closes; another user is not affected.
    @Test func streamsPerUserAreCapped() async throws {
        let server = try await LiveServer(environment: ["XALORRA_MAX_CONNECTIONS_PER_CLIENT": "2"])
        defer { server.stop() }
        let port = server.port
        let token = try server.token(["--user", "watcher"])
        func open(from source: String, user: String = token) async throws -> (RawHTTP, RawHTTP.Response?) {
            let connection = try await Self.connect(port: port, from: source)
            await connection.send(Array("GET /logs/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(user)\r\n\r\n".utf8))
            return (connection, await connection.response(timeout: .seconds(5), headOnly: true))
        }
        let (first, firstAnswer) = try await open(from: "127.0.0.2")
        let (second, secondAnswer) = try await open(from: "127.0.0.3")
        defer { second.close() }
        #expect(firstAnswer?.status == 200 && secondAnswer?.status == 200)
        let (third, refused) = try await open(from: "127.0.0.4")
        defer { third.close() }
        #expect(refused?.status == 429, "\(String(describing: refused))")
        let socket = try await Self.connect(port: port, from: "127.0.0.5")
        defer { socket.close() }
        await socket.send(Array((
            "GET /ws/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        let upgrade = await socket.response(timeout: .seconds(5), headOnly: true)
        #expect(upgrade != nil && upgrade?.status != 101, "\(String(describing: upgrade))")
        let (other, otherAnswer) = try await open(from: "127.0.0.6", user: try server.token(["--user", "someone-else"]))
        defer { other.close() }
        #expect(otherAnswer?.status == 200)

        // Closing one gives its place back.
        first.close()
        var reopened: Int?
        for _ in 0..<20 where reopened != 200 {
            try await Task.sleep(for: .milliseconds(100))
            let (again, answer) = try await open(from: "127.0.0.7")
            again.close()
            reopened = answer?.status
        }
        #expect(reopened == 200)
    }

    /// Unmatched paths spend the client's default budget: 105 requests to unknown paths give 100 × 404, then 429,
    /// each with the rate-limit headers; a 405 carries them too, and a valid token's unknown paths count by its user.
    @Test func unmatchedPathsSpendTheRateLimit() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        var statuses: [Int] = []
        var remaining: [String] = []
        // A fixed window may roll over during the run: allow a second window's worth before the first 429.
        while statuses.filter({ $0 == 429 }).count < 5, statuses.count < 210 {
            let answer = try await server.request("GET", "/nope\(statuses.count)")
            statuses.append(answer.status)
            remaining.append(answer.headers.first(name: "X-RateLimit-Remaining") ?? "missing")
            if answer.headers.first(name: "X-RateLimit-Limit") != "100" { remaining.append("no limit") }
        }
        #expect(statuses.filter { $0 == 429 }.count == 5, "\(statuses)")
        #expect(Set(statuses) == [404, 429], "\(statuses)")
        #expect(!remaining.contains("missing") && !remaining.contains("no limit"), "\(remaining)")
        let refused = try await server.request("DELETE", "/health")
        #expect(refused.status == 429 && refused.headers.first(name: "Retry-After") != nil)
        // The address's budget is spent; a valid token's requests count by its user instead.
        let token = try server.token(["--user", "prober"])
        let byUser = try await server.request("GET", "/nope", token: token)
        #expect(byUser.status == 404 && byUser.headers.first(name: "X-RateLimit-Remaining") == "99", "\(byUser)")
        let wrongMethod = try await server.request("DELETE", "/health", token: token)
        #expect(wrongMethod.status == 405 && wrongMethod.headers.first(name: "X-RateLimit-Remaining") == "98")
    }

    /// `X-Content-Type-Options: nosniff` on every response: plain, error, unknown path, streamed, the raw 400 for a
    /// malformed request and a refused WebSocket upgrade; `Cache-Control: no-store` on every response that carries
    /// a token (login, refresh, /admin/tokens).
    @Test func securityHeadersOnEveryResponse() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let port = server.port
        let user = try server.token(["--user", "sniffer"])
        let admin = try server.token(["--role", "admin"])
        for (method, path, token, body) in [
            ("GET", "/health", nil, nil), ("GET", "/nope", nil, nil), ("GET", "/whoami", nil, nil),
            ("POST", "/echo", user, "{"), ("DELETE", "/health", nil, nil), ("GET", "/docs", nil, nil),
        ] as [(String, String, String?, String?)] {
            let answer = try await server.request(method, path, token: token, body: body)
            #expect(answer.headers.first(name: "X-Content-Type-Options") == "nosniff", "\(method) \(path)")
        }
        let stream = try await RawHTTP.connect(port: port)
        defer { stream.close() }
        await stream.send(RawHTTP.request("GET", "/logs/stream", token: user))
        let events = await stream.response(timeout: .seconds(5), headOnly: true)
        #expect(events?.status == 200 && events?.header("x-content-type-options") == "nosniff")
        let malformed = try await RawHTTP.exchange(port: port, Array("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(malformed?.status == 400 && malformed?.header("x-content-type-options") == "nosniff")
        let upgrade = try await RawHTTP.exchange(port: port, Array((
            "GET /ws/predictions HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        #expect(upgrade != nil && upgrade?.status != 101 && upgrade?.header("x-content-type-options") == "nosniff")

        let registered = try await server.request(
            "POST", "/users/register",
            body: #"{"username":"cachey","email":"cachey@example.com","password":"Secret123!","nama_lengkap":"C"}"#)
        #expect(registered.status == 201, "\(registered.body)")
        let login = try await server.request("POST", "/users/login", body: #"{"username":"cachey","password":"Secret123!"}"#)
        #expect(login.status == 200 && login.headers.first(name: "Cache-Control") == "no-store", "\(login)")
        let refreshToken = try #require(try JSONParser.parse(login.body)["data"]?["refresh_token"]?.stringValue)
        let refreshed = try await server.request("POST", "/users/refresh", body: #"{"refresh_token":"\#(refreshToken)"}"#)
        #expect(refreshed.status == 200 && refreshed.headers.first(name: "Cache-Control") == "no-store", "\(refreshed)")
        let minted = try await server.request("POST", "/admin/tokens", token: admin, body: #"{"user":"x"}"#)
        #expect(minted.status == 200 && minted.headers.first(name: "Cache-Control") == "no-store", "\(minted)")
        // Responses without a token stay cacheable as before.
        #expect(try await server.request("GET", "/health").headers.first(name: "Cache-Control") == nil)
    }

    /// With specific CORS origins, every response varies on `Origin`: an allowed one, another one, or none, so a
    /// shared cache never gives one origin's answer to another.
    @Test func corsResponsesVaryOnOrigin() async throws {
        let server = try await LiveServer(arguments: ["--cors-origin", "https://app.example"])
        defer { server.stop() }
        for origin in ["https://app.example", "https://evil.example", nil] {
            let answer = try await server.request("GET", "/health", headers: origin.map { [("Origin", $0)] } ?? [])
            #expect(answer.headers.first(name: "Vary") == "Origin", "\(origin ?? "no origin")")
        }
        let unknown = try await server.request("GET", "/nope", headers: [("Origin", "https://evil.example")])
        #expect(unknown.status == 404 && unknown.headers.first(name: "Vary") == "Origin")
        let any = try await LiveServer(arguments: ["--cors-origin", "*"])
        defer { any.stop() }
        #expect(try await any.request("GET", "/health", headers: [("Origin", "https://x.example")]).headers["Vary"].isEmpty)
    }

    /// `/metrics` names every tenant's models: an admin token by default (401 without a token, 403 for a user),
    /// `XALORRA_METRICS=open` for anyone, or a list of addresses and CIDR blocks (IPv4 and IPv6) without a token.
    @Test func metricsAccessFollowsTheSetting() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let anonymous = try await server.request("GET", "/metrics")
        #expect(anonymous.status == 401 && anonymous.body.contains("AUTHENTICATION_FAILED"), "\(anonymous)")
        #expect(!anonymous.body.contains("xalorra_http_requests_total"))
        let user = try await server.request("GET", "/metrics", token: try server.token())
        #expect(user.status == 403 && user.body.contains("INSUFFICIENT_PERMISSIONS"), "\(user)")
        let admin = try await server.request("GET", "/metrics", token: try server.token(["--role", "admin"]))
        #expect(admin.status == 200 && admin.body.contains("xalorra_http_requests_total"))

        for (setting, status) in [
            ("open", 200), ("127.0.0.0/8", 200), ("10.0.0.0/8, ::1", 401), ("::ffff:127.0.0.1", 200),
            ("127.0.0.2,fd00::/8", 401), ("127.0.0.1/32", 200),
        ] {
            let configured = try await LiveServer(environment: ["XALORRA_METRICS": setting])
            let answer = try await configured.request("GET", "/metrics")
            #expect(answer.status == status, "XALORRA_METRICS=\(setting): \(answer.status)")
            if status == 401 {
                let admin = try await configured.request("GET", "/metrics", token: try configured.token(["--role", "admin"]))
                #expect(admin.status == 200, "XALORRA_METRICS=\(setting): an admin is refused")
            }
            configured.stop()
        }
    }

    /// Address blocks as `XALORRA_METRICS` lists them match IPv4 and IPv6 peers by prefix (an IPv4-mapped IPv6 peer
    /// as its IPv4 address), never across families; per-client limits count an IPv6 client by its /64.
    @Test func addressBlocksAndLimitKeys() throws {
        func inside(_ block: String, _ address: String) throws -> Bool {
            try #require(ClientAddress.Block(block)).contains(try #require(ClientAddress(address)))
        }
        #expect(try inside("10.0.0.0/8", "10.255.1.2") && !(try inside("10.0.0.0/8", "11.0.0.1")))
        #expect(try inside("192.168.1.128/25", "192.168.1.200") && !(try inside("192.168.1.128/25", "192.168.1.127")))
        #expect(try inside("127.0.0.1", "127.0.0.1") && !(try inside("127.0.0.1", "127.0.0.2")))
        #expect(try inside("0.0.0.0/0", "8.8.8.8") && !(try inside("0.0.0.0/0", "::1")))
        #expect(try inside("::1", "::1") && !(try inside("::1", "::2")))
        #expect(try inside("fd00::/8", "fdab::1") && !(try inside("fd00::/8", "fe80::1")))
        #expect(try inside("2001:db8::/32", "2001:db8:ffff::1") && !(try inside("2001:db8::/33", "2001:db8:8000::1")))
        #expect(try inside("127.0.0.0/8", "::ffff:127.0.0.9") && (try inside("::ffff:10.0.0.0/104", "10.1.2.3")))
        for invalid in ["10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/", "host.example", "10.0.0.0/8/8", ""] {
            #expect(ClientAddress.Block(invalid) == nil, "\(invalid)")
        }
        #expect(ClientAddress.limitKey("203.0.113.7") == "203.0.113.7")
        #expect(ClientAddress.limitKey("::ffff:203.0.113.7") == "203.0.113.7")
        #expect(ClientAddress.limitKey("2001:db8:1:2:aaaa::1") == ClientAddress.limitKey("2001:db8:1:2:bbbb::9"))
        #expect(ClientAddress.limitKey("2001:db8:1:2::1") == "2001:db8:1:2::/64")
        #expect(ClientAddress.limitKey("2001:db8:1:2::1") != ClientAddress.limitKey("2001:db8:1:3::1"))
    }

    // MARK: - Helpers

    /// A connection to `127.0.0.1:port` from the loopback address `source` (any 127.x.y.z is this host): another
    /// client, as the server sees it.
    static func connect(port: Int, from source: String) async throws -> RawHTTP {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { () throws -> RawHTTP in
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                    guard fd >= 0 else { throw POSIXError(.EMFILE) }
                    func address(_ text: String, port: Int) -> sockaddr_in {
                        var address = sockaddr_in()
                        address.sin_family = sa_family_t(AF_INET)
                        address.sin_port = in_port_t(UInt16(port).bigEndian)
                        address.sin_addr.s_addr = inet_addr(text)
                        return address
                    }
                    func call(_ address: sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
                        withUnsafePointer(to: address) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                        }
                    }
                    guard call(address(source, port: 0), { Glibc.bind(fd, $0, $1) }) == 0,
                        call(address("127.0.0.1", port: port), { Glibc.connect(fd, $0, $1) }) == 0
                    else {
                        let code = errno
                        Glibc.close(fd)
                        throw POSIXError(POSIXErrorCode(rawValue: code) ?? .ECONNREFUSED)
                    }
                    return RawHTTP(fd: fd)
                })
            }
        }
    }
}
