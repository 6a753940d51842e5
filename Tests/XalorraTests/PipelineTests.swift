import Foundation
import Testing
import XalorraCore

/// The responder's pipeline against a live `xalorra serve`, where the other suites do not look: answers written
/// before a request reaches the responder carry the rate-limit fields like every other response, and a refused
/// WebSocket upgrade is answered, logged and counted like any refused request.
@Suite(.serialized)
struct PipelineTests {
    /// A WebSocket upgrade of `path` (RFC 6455 §4.1).
    private static func upgrade(_ path: String, token: String? = nil) -> [UInt8] {
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        head += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        return Array((head + "\r\n").utf8)
    }

    /// `X-RateLimit-Remaining` of `response`, nil when absent.
    private static func remaining(_ response: RawHTTP.Response?) -> Int? {
        response?.header("x-ratelimit-remaining").flatMap { Int($0) }
    }

    /// Whether `response` has every rate-limit field, the seed's and the IETF ones.
    private static func hasRateLimitFields(_ response: RawHTTP.Response?) -> Bool {
        guard let response else { return false }
        return ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "ratelimit-policy", "ratelimit"]
            .allSatisfy { response.header($0) != nil }
    }

    /// A malformed request head, answered below the HTTP parser, carries the rate-limit fields and counts against
    /// the client's budget; so does Hummingbird's own redirect of an upgrade on a connection already in use.
    @Test func earlyAnswersCarryTheRateLimitFields() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let root = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        let before = try await RawHTTP.exchange(port: server.port, root)
        let malformed = try await RawHTTP.exchange(
            port: server.port, Array("GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        let after = try await RawHTTP.exchange(port: server.port, root)
        #expect(malformed?.status == 400, "\(String(describing: malformed))")
        #expect(malformed.map { (try? JSONParser.parse($0.body))?["error"]?["code"] } == .string("VALIDATION_ERROR"))
        #expect(Self.hasRateLimitFields(malformed), "\(String(describing: malformed?.headers))")
        #expect(malformed?.header("x-ratelimit-limit") == before?.header("x-ratelimit-limit"))
        // The same budget, by address: the malformed request was counted between the two.
        let counted = Self.remaining(before).map { $0 - 1 }
        #expect(Self.remaining(malformed) == counted, "\(String(describing: before?.headers))")
        #expect(Self.remaining(after) == counted.map { $0 - 1 })

        // An upgrade as the second request of a connection: Hummingbird redirects it to a new connection itself.
        let connection = try await RawHTTP.connect(port: server.port)
        defer { connection.close() }
        await connection.send(Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        #expect(await connection.response(timeout: .seconds(5))?.status == 200)
        await connection.send(Self.upgrade("/ws/predictions"))
        let redirect = await connection.response(timeout: .seconds(5))
        #expect(redirect?.status == 307, "\(String(describing: redirect))")
        #expect(Self.hasRateLimitFields(redirect), "\(String(describing: redirect?.headers))")
    }

    /// A body that stops arriving is answered 408 below the responder, with the rate-limit fields.
    @Test func slowBodyAnswerCarriesTheRateLimitFields() async throws {
        let server = try await LiveServer(
            environment: ["XALORRA_HEADER_TIMEOUT": "1s", "XALORRA_MIN_BODY_RATE": "1000"])
        defer { server.stop() }
        let token = try server.token()
        let slow = try await RawHTTP.connect(port: server.port)
        defer { slow.close() }
        let head =
            "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: 1000\r\n\r\n"
        await slow.send(Array((head + "{\"a\":\"").utf8))
        let refusal = await slow.response(timeout: .seconds(8))
        #expect(refusal?.status == 408, "\(String(describing: refusal))")
        #expect(Self.hasRateLimitFields(refusal), "\(String(describing: refusal?.headers))")
        // On a route of the OpenAI API the refusal is OpenAI's error object, as the route's own refusals are.
        let openAI = try await RawHTTP.connect(port: server.port)
        defer { openAI.close() }
        let chatHead =
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Length: 1000\r\n\r\n"
        await openAI.send(Array((chatHead + "{\"model\":\"").utf8))
        let chatRefusal = await openAI.response(timeout: .seconds(8))
        #expect(chatRefusal?.status == 408, "\(String(describing: chatRefusal))")
        let error = try chatRefusal.map { try JSONParser.parse($0.body) }
        #expect(error?["error"]?["message"]?.stringValue?.contains("slower than") == true, "\(String(describing: chatRefusal))")
        #expect(error?["timestamp"] == nil && error?["error"]?["type"] != nil, "\(String(describing: chatRefusal))")
    }

    /// A refused upgrade answers 401 (no token, a bad one), 403 (another tenant's feed), 429 (past the streams a user
    /// may hold) or 400 (a route that is no WebSocket) with the error envelope, the rate-limit fields and `nosniff`,
    /// has its access log line and is counted in the metrics; no socket opens.
    @Test func refusedUpgradesAnswerLikeAnyRequest() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let user = try server.token(["--tenant", "t1"])
        let admin = try server.token(["--user", "root", "--role", "admin"])
        let cases: [(String, String?, Int, String)] = [
            ("/ws/predictions", nil, 401, "AUTHENTICATION_FAILED"),
            ("/ws/predictions", "not-a-jwt", 401, "AUTHENTICATION_FAILED"),
            ("/ws/predictions?access_token=not-a-jwt", nil, 401, "AUTHENTICATION_FAILED"),
            ("/ws/predictions?tenant=t2", user, 403, "INSUFFICIENT_PERMISSIONS"),
            ("/ws/predictions?limit=x", user, 422, "VALIDATION_ERROR"),
            ("/health", user, 400, "VALIDATION_ERROR"),
            ("/nowhere", user, 404, "RESOURCE_NOT_FOUND"),
        ]
        for (path, token, status, code) in cases {
            let answer = try await RawHTTP.exchange(port: server.port, Self.upgrade(path, token: token))
            #expect(answer?.status == status, "\(path): \(String(describing: answer))")
            #expect(answer.map { (try? JSONParser.parse($0.body))?["error"]?["code"] } == .string(code), "\(path)")
            #expect(Self.hasRateLimitFields(answer), "\(path): \(String(describing: answer?.headers))")
            #expect(answer?.header("x-content-type-options") == "nosniff" && answer?.header("connection") == "close")
        }

        // Past the streams one user may hold (32): the event streams and the socket share the count.
        var streams: [RawHTTP] = []
        defer { for stream in streams { stream.close() } }
        for _ in 0..<32 {
            let stream = try await RawHTTP.connect(port: server.port)
            streams.append(stream)
            await stream.send(RawHTTP.request("GET", "/logs/stream", token: user))
            #expect(await stream.response(timeout: .seconds(5), headOnly: true)?.status == 200)
        }
        let over = try await RawHTTP.exchange(port: server.port, Self.upgrade("/ws/predictions", token: user))
        #expect(over?.status == 429, "\(String(describing: over))")
        #expect(over.map { (try? JSONParser.parse($0.body))?["error"]?["code"] } == .string("RATE_LIMIT_EXCEEDED"))
        #expect(Self.hasRateLimitFields(over))

        #expect(try await server.log.waitFor("GET /ws/predictions 401", seconds: 2), "\(server.log.text)")
        #expect(server.log.text.contains("GET /ws/predictions 403"))
        #expect(server.log.text.contains("GET /ws/predictions 429"))
        let metrics = try await server.request("GET", "/metrics", token: admin).body
        for status in [401, 403, 429] {
            #expect(metrics.contains("xalorra_http_requests_total{route=\"GET /ws/predictions\",status=\"\(status)\"}"))
        }
        #expect(metrics.contains("xalorra_http_requests_total{route=\"GET /health\",status=\"400\"} 1"), "\(metrics)")
    }

    /// An upgrade the pipeline admits still opens its socket: 101 with the rate-limit fields.
    @Test func admittedUpgradeCarriesTheRateLimitFields() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let connection = try await RawHTTP.connect(port: server.port)
        defer { connection.close() }
        await connection.send(Self.upgrade("/ws/predictions", token: try server.token()))
        let switched = await connection.response(timeout: .seconds(5), headOnly: true)
        #expect(switched?.status == 101, "\(String(describing: switched))")
        #expect(Self.hasRateLimitFields(switched), "\(String(describing: switched?.headers))")
    }

    /// `HEAD` answers a `GET` route with its status and fields, `Content-Length` included, and no body (DESIGN §3);
    /// a streaming route, whose answer has no end, answers 405.
    @Test func headAnswersGetRoutesWithoutTheBody() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let token = try server.token()
        for path in ["/", "/whoami", "/models", "/openapi.json"] {
            let get = try await RawHTTP.exchange(port: server.port, RawHTTP.request("GET", path, token: token))
            // The server closes after it (`Connection: close`): a body would be read up to there.
            let head = try await RawHTTP.exchange(port: server.port, RawHTTP.request("HEAD", path, token: token))
            #expect(head?.status == 200 && get?.status == 200, "\(path): \(String(describing: head))")
            #expect(head?.header("content-type") == get?.header("content-type"), "\(path)")
            #expect(head?.header("content-length") == get.map { "\($0.body.count)" }, "\(path)")
            #expect(head?.body.isEmpty == true, "\(path): \(String(describing: head))")
        }
        // A streamed answer: its fields, no body, and the connection free at once.
        let export = try await RawHTTP.exchange(
            port: server.port, RawHTTP.request("HEAD", "/logs/export?format=csv", token: token), timeout: .seconds(5))
        #expect(export?.status == 200 && export?.body.isEmpty == true, "\(String(describing: export))")
        #expect(export?.header("content-type")?.hasPrefix("text/csv") == true, "\(String(describing: export?.headers))")
        let unknown = try await RawHTTP.exchange(port: server.port, RawHTTP.request("HEAD", "/nowhere", token: token))
        #expect(unknown?.status == 404 && unknown?.body.isEmpty == true, "\(String(describing: unknown))")
        let stream = try await RawHTTP.exchange(port: server.port, RawHTTP.request("HEAD", "/logs/stream", token: token))
        #expect(stream?.status == 405 && stream?.header("allow") == "GET", "\(String(describing: stream))")
    }
}
