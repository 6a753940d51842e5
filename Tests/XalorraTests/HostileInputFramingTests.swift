import Foundation
import Testing
import XalorraCore

/// Bodies over the size limits, framing that lies and malformed request lines against a live `xalorra serve`: a 413
/// or 400 in the error envelope (or a closed connection), never a 5xx, and the server stays intact.
@Suite(.serialized)
struct HostileInputFramingTests {
    typealias Case = HostileInput.Case

    /// Bodies over the limits answer 413 `PAYLOAD_TOO_LARGE` (by `Content-Length`, or chunked with none), the upload
    /// routes take more up to `XALORRA_MAX_UPLOAD`, and framing that lies is refused or cut off.
    @Test func oversizeAndLyingBodies() async throws {
        let server = try await LiveServer(
            environment: ["XALORRA_MAX_BODY": "65536", "XALORRA_MAX_UPLOAD": "262144"], arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let fixture = try await HostileInput.fixture(server)
        let json = [("Content-Type", "application/json")]
        let over = Array(("{\"features\": [" + Array(repeating: "1", count: 40_000).joined(separator: ",") + "]}").utf8)
        let overUpload = [UInt8](repeating: UInt8(ascii: " "), count: 300_000) + Array("{}".utf8)
        func chunked(_ bytes: [UInt8], size: Int = 8192) -> [UInt8] {
            var out: [UInt8] = []
            var index = 0
            while index < bytes.count {
                let end = min(bytes.count, index + size)
                out += Array((String(end - index, radix: 16) + "\r\n").utf8) + bytes[index..<end] + Array("\r\n".utf8)
                index = end
            }
            return out + Array("0\r\n\r\n".utf8)
        }
        var cases: [Case] = []
        for route in RouteTable.all where ["POST", "PUT", "PATCH"].contains(route.method) {
            let path = HostileInput.basePath(route, fixture: fixture)
            let token = route.access == .public ? nil : fixture.admin
            let upload = route.bodyLimit == .upload
            let big = upload ? overUpload : over
            cases.append(Case(
                label: "\(route.key) Content-Length over the limit", method: route.method, path: path,
                bytes: RawHTTP.request(route.method, path, token: token, headers: json, body: big), expected: 413))
            cases.append(Case(
                label: "\(route.key) chunked over the limit", method: route.method, path: path,
                bytes: RawHTTP.request(
                    route.method, path, token: token, headers: json + [("Transfer-Encoding", "chunked")],
                    body: chunked(big)),
                expected: 413))
            if upload {
                // Above XALORRA_MAX_BODY but within XALORRA_MAX_UPLOAD: read, then refused for what it is.
                var request = Case(
                    label: "\(route.key) within the upload limit", method: route.method, path: path,
                    bytes: RawHTTP.request(route.method, path, token: token, headers: json, body: over))
                request.mayAccept = true
                cases.append(request)
            }
        }
        // Framing that lies and request lines no client library sends: the parser refuses them, and the connection
        // gets a 400 envelope and is closed at once. Before, a malformed first request left the connection open
        // and silent (Hummingbird has no handler for parser errors before the first head).
        let lies: [(String, [(String, String)], [UInt8])] = [
            ("two Content-Lengths", [("Content-Length", "2"), ("Content-Length", "200")], Array("{}".utf8)),
            ("negative Content-Length", [("Content-Length", "-1")], Array("{}".utf8)),
            ("Content-Length not a number", [("Content-Length", "abc")], Array("{}".utf8)),
            ("header of 100 KiB", [("X-Big", String(repeating: "a", count: 100_000))], Array("{}".utf8)),
            // A parse error inside the body: the body's reader answers it.
            ("chunk size not hex", [("Transfer-Encoding", "chunked")], Array("zz\r\n{}\r\n0\r\n\r\n".utf8)),
            ("chunk size overflow", [("Transfer-Encoding", "chunked")], Array("ffffffffffffffffff\r\n{}\r\n0\r\n\r\n".utf8)),
        ]
        func raw(_ head: String, _ headers: [(String, String)] = [], _ body: [UInt8] = []) -> [UInt8] {
            var text = head + "\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer \(fixture.admin)\r\n"
            for (name, value) in headers { text += "\(name): \(value)\r\n" }
            return Array((text + "\r\n").utf8) + body
        }
        for (label, headers, body) in lies {
            cases.append(Case(label: label, method: "POST", path: "/echo", bytes: raw("POST /echo HTTP/1.1", headers, body), expected: 400))
        }
        // The server answers 400 before the big body is read; closing on unread input resets the connection, which
        // may discard the answer at the client.
        cases.append(Case(
            label: "small Content-Length with a big chunked body", method: "POST", path: "/echo",
            bytes: raw("POST /echo HTTP/1.1", [("Content-Length", "10"), ("Transfer-Encoding", "chunked")], chunked(over)),
            mayDrop: true, expected: 400))
        for (label, line, status) in [
            ("NUL in the path", "GET /models/a\u{0}b HTTP/1.1", 400), ("space in the path", "GET /models/a b HTTP/1.1", 400),
            ("no version", "GET /health", 400), ("unknown method", "BREW /health HTTP/1.1", 400),
            ("bad version", "GET /health HTTP/9.9", 400), ("tab in the path", "GET /models/a\tb HTTP/1.1", 400),
            ("raw traversal", "GET /../../etc/passwd HTTP/1.1", 404),
            ("absolute form", "GET http://evil.example/health HTTP/1.1", 200),
        ] {
            cases.append(Case(label: label, method: "GET", path: "/", bytes: raw(line), mayAccept: status == 200, expected: status))
        }
        let problems = await HostileInput.run(cases, port: fixture.port)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        try await HostileInput.expectIntact(server, fixture: fixture)
    }
}
