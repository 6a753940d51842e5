import Foundation
import Testing
@testable import XalorraClient
import XalorraCore

/// Hostile input, slow clients and too many connections against a live `xalorra serve`: every case answers a 4xx in
/// the route's error format (or is cut off), never a 5xx, a crash or a stuck server. The cases are generated from the
/// route table and the served OpenAPI document, so a new route, parameter or body field is covered without an edit.
@Suite(.serialized)
struct HostileInputTests {
    // MARK: - The corpus

    /// Text that has broken servers before: SQL injection, path traversal, NUL and control bytes, markup, size.
    static let hostileStrings: [(label: String, value: String)] = [
        ("sql-or", "' OR 1=1 --"),
        ("sql-drop", "\"; DROP TABLE predictions; --"),
        ("traversal", "../"),
        ("traversal-deep", "../../../../etc/passwd"),
        ("traversal-encoded", "..%2F"),
        ("traversal-dots", "%2e%2e/"),
        ("nul", "a\u{0}b"),
        ("control", "\u{1}\u{7F}\u{1B}[31m"),
        ("unicode", "😀\u{202E}ǅ\u{FEFF}"),
        ("markup", "<script>alert(1)</script>"),
        ("format", "%s%n%x%%"),
        ("crlf", "a\r\nX-Injected: 1"),
        ("blank", " \t "),
        ("long", String(repeating: "A", count: 5000)),
    ]

    /// Path segments written literally (not percent-encoded once more): traversal the way attackers send it.
    static let literalSegments = ["..", "../", "..%2F", "%2e%2e", "%2e%2e/", "%2e%2e%2f", "%00", "%FF", "%C0%AF", "%", "%zz"]

    /// JSON values of the wrong type or shape for any field.
    static let wrongTypes = [
        "1", "-1", "0.5", "true", "false", "null", "[]", "{}", #"["a"]"#, #"{"$ne": null}"#,
    ]

    /// Number literals JSON does not have, or that do not fit a double.
    static let invalidLiterals = [
        "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "123456789012345678901234567890e300", "0x10", "01", "+1",
        "1.",
    ]

    /// Raw JSON texts too big or too deep, within `XALORRA_MAX_BODY`.
    static let bigValues: [(label: String, json: [UInt8])] = [
        ("string-100k", Array(("\"" + String(repeating: "A", count: 100_000) + "\"").utf8)),
        ("array-50k", Array(("[" + Array(repeating: "0", count: 50_000).joined(separator: ",") + "]").utf8)),
        ("depth-\(JSONParser.maxDepth + 1)", nested(JSONParser.maxDepth + 1)),
    ]

    /// Field values that are not valid JSON text at the byte level.
    static let invalidBytes: [(label: String, json: [UInt8])] = [
        ("invalid-utf8", [0x22, 0xFF, 0xFE, 0x22]),
        ("overlong-utf8", [0x22, 0xC0, 0xAF, 0x22]),
        ("surrogate-utf8", [0x22, 0xED, 0xA0, 0x80, 0x22]),
        ("raw-nul", [0x22, 0x61, 0x00, 0x62, 0x22]),
        ("lone-surrogate-escape", Array(#""\ud800""#.utf8)),
    ]

    /// Whole bodies for every route that takes one; `valid` ones are well-formed JSON.
    static let wholeBodies: [(label: String, body: [UInt8], valid: Bool)] = [
        ("empty", [], false),
        ("truncated", Array(#"{"features": [1, 2"#.utf8), false),
        ("unclosed-string", Array(#"{"a": "b"#.utf8), false),
        ("trailing-comma", Array(#"{"a": 1,}"#.utf8), false),
        ("single-quotes", Array("{'a': 1}".utf8), false),
        ("comment", Array(#"{"a": 1 /* x */}"#.utf8), false),
        ("not-json", Array("hello".utf8), false),
        ("nan", Array(#"{"a": NaN}"#.utf8), false),
        ("bom", [0xEF, 0xBB, 0xBF] + Array("{}".utf8), false),
        ("nul", [0x00], false),
        ("invalid-utf8", [0xFF, 0xFE, 0xFD], false),
        ("depth-100k", Array(repeating: UInt8(ascii: "["), count: 100_000), false),
        ("depth-\(JSONParser.maxDepth + 1)", nested(JSONParser.maxDepth + 1), true),
        ("array", Array("[1,2,3]".utf8), true),
        ("string", Array(#""x""#.utf8), true),
        ("number", Array("42".utf8), true),
        ("null", Array("null".utf8), true),
        ("duplicate-keys", Array(#"{"a": 1, "a": 2}"#.utf8), true),
        ("array-50k", Array(("[" + Array(repeating: "0", count: 50_000).joined(separator: ",") + "]").utf8), true),
    ]

    static func nested(_ depth: Int) -> [UInt8] {
        Array(repeating: UInt8(ascii: "["), count: depth) + [UInt8(ascii: "1")]
            + Array(repeating: UInt8(ascii: "]"), count: depth)
    }

    static func jsonString(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        JSONWriter.write(.string(text), into: &bytes)
        return bytes
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters, as the remote client does.
    static func encoded(_ text: String) -> String { RemoteAPI.escape(text) }

    // MARK: - Cases

    /// One request and what it may answer.
    struct Case: Sendable, CustomStringConvertible {
        let label: String
        let method: String
        let path: String
        let bytes: [UInt8]
        /// Well-formed input that a route may accept (free text, a filter): then any status below 500 will do.
        var mayAccept = false
        /// Malformed at the HTTP level: the server may close the connection without an answer.
        var mayDrop = false
        /// A Server-Sent Events route: only the head is read.
        var stream = false
        /// The only acceptable status, if one is.
        var expected: Int?

        var description: String { "\(label): \(method) \(path.prefix(120))" }
        var isInference: Bool { path == "/v2" || path.hasPrefix("/v2/") || path.hasPrefix("/v2?") }
    }

    /// The live fixtures a case is built against.
    struct Fixture: Sendable {
        let port: Int
        let admin: String
        let user: String
        let conversation: String
        /// A username that exists (PATCH and GET `/admin/users/{username}`).
        let target: String
        /// Request bodies by route key, from `GET /openapi.json`: the properties each takes.
        let bodyFields: [String: [String]]
        /// Query parameters by route key, from the same document.
        let queryParameters: [String: [String]]
    }

    /// Valid values for path parameters, so that only the hostile part is wrong.
    static func basePath(_ route: Route, fixture: Fixture, replacing name: String? = nil, with value: String? = nil)
        -> String
    {
        route.path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.hasPrefix("{") else { return String(segment) }
            let parameter = String(segment.dropFirst().dropLast())
            if parameter == name, let value { return value }
            switch parameter {
            case "model", "name": return "m"
            case "version": return "1"
            case "username": return fixture.target
            case "conversation_id": return fixture.conversation
            case "id": return "job_1"
            default: return "x"
            }
        }.joined(separator: "/")
    }

    /// Valid bodies, field by field (raw JSON), so that one hostile field is the only problem. `{n}` is made unique.
    static let baseBodies: [String: [(String, String)]] = [
        "POST /predict/{model}": [("features", "[1, 2, 3]")],
        "POST /chat/message": [("message", #""hello""#)],
        "PUT /chat/histories/{conversation_id}/title": [("title", #""a title""#)],
        "POST /users/register": [
            ("username", #""reg{n}""#), ("email", #""reg{n}@example.com""#), ("nama_lengkap", #""Reg User""#),
            ("password", #""secret-pass""#),
        ],
        "POST /users/login": [("username", #""hostile_user""#), ("password", #""wrong-pass""#)],
        "POST /users/refresh": [("refresh_token", #""not-a-token""#)],
        "POST /users/logout": [("refresh_token", #""not-a-token""#)],
        "PUT /users/profile": [("nama_lengkap", #""Hostile User""#)],
        "POST /users/change-password": [("current_password", #""wrong-pass""#), ("new_password", #""new-secret""#)],
        "POST /admin/users": [
            ("username", #""adm{n}""#), ("email", #""adm{n}@example.com""#), ("nama_lengkap", #""Adm User""#),
            ("password", #""secret-pass""#), ("role", #""user""#), ("tenant", #""t1""#),
        ],
        "PATCH /admin/users/{username}": [("nama_lengkap", #""Target User""#)],
        "POST /train/{model}": [
            ("target", #""y""#), ("kind", #""linear""#), ("columns", #"["x", "y"]"#),
            ("rows", "[" + (1...40).map { "[\($0), \($0 * 2)]" }.joined(separator: ", ") + "]"),
        ],
        "POST /v2/models/{name}/infer": [
            ("inputs", #"[{"name": "features", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]"#),
        ],
        "POST /v2/models/{name}/versions/{version}/infer": [
            ("inputs", #"[{"name": "features", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]"#),
        ],
        "POST /admin/tokens": [("user", #""someone""#)],
    ]

    /// Every case of the matrix.
    static func cases(_ fixture: Fixture) -> [Case] {
        var cases: [Case] = []
        var counter = 0
        func unique(_ text: String) -> String {
            counter += 1
            return text.replacingOccurrences(of: "{n}", with: "\(counter)")
        }
        // A plain GET to the WebSocket route is an ordinary request too (400 without `Upgrade`).
        let routes = RouteTable.all.filter { $0.pendingIssue == nil }
        for route in routes {
            let token = route.access == .public ? nil : fixture.admin
            let hasBody = ["POST", "PUT", "PATCH"].contains(route.method)
            let baseBody: [UInt8]? = hasBody ? body(route, fixture: fixture, unique: unique) : nil
            let headers = hasBody ? [("Content-Type", "application/json")] : []
            // Path parameters: every hostile string, percent-encoded, and literal traversal segments.
            for segment in route.path.split(separator: "/") where segment.hasPrefix("{") {
                let name = String(segment.dropFirst().dropLast())
                let values = hostileStrings.map { ($0.label, encoded($0.value)) } + literalSegments.map { ("literal \($0)", $0) }
                for (label, value) in values {
                    let path = basePath(route, fixture: fixture, replacing: name, with: value)
                    cases.append(Case(
                        label: "\(route.key) {\(name)} \(label)", method: route.method, path: path,
                        bytes: RawHTTP.request(route.method, path, token: token, headers: headers, body: baseBody),
                        stream: route.transport == .eventStream))
                }
            }
            // Query values: every hostile string in every parameter the document lists.
            for parameter in fixture.queryParameters[route.key] ?? [] {
                for (label, value) in hostileStrings {
                    var path = basePath(route, fixture: fixture) + "?\(parameter)=\(encoded(value))"
                    var request = RawHTTP.request(route.method, path, token: token, headers: headers, body: baseBody)
                    if route.key == "POST /train/{model}" {
                        // The query settings go with a CSV body.
                        if parameter != "target" { path += "&target=y" }
                        request = RawHTTP.request(
                            route.method, path, token: token, headers: [("Content-Type", "text/csv")],
                            body: Array("x,y\n1,2\n2,4\n3,6\n4,8\n5,10\n".utf8))
                    }
                    cases.append(Case(
                        label: "\(route.key) ?\(parameter) \(label)", method: route.method, path: path, bytes: request,
                        mayAccept: true, stream: route.transport == .eventStream))
                }
            }
            guard hasBody else { continue }
            let path = basePath(route, fixture: fixture)
            // Whole bodies.
            for (label, bytes, valid) in wholeBodies {
                cases.append(Case(
                    label: "\(route.key) body \(label)", method: route.method, path: path,
                    bytes: RawHTTP.request(route.method, path, token: token, headers: headers, body: bytes),
                    // Well-formed objects may be taken by routes whose fields are all optional; other JSON only by /echo.
                    mayAccept: valid && (route.key == "POST /echo" || bytes.first == UInt8(ascii: "{"))))
            }
            // Each field: hostile strings, wrong types, big values (accepted or refused), invalid JSON (refused).
            for field in fixture.bodyFields[route.key] ?? [] {
                var values: [(String, [UInt8], Bool)] = hostileStrings.map { ($0.label, jsonString($0.value), true) }
                values += wrongTypes.map { ("type \($0)", Array($0.utf8), true) }
                values += bigValues.map { ($0.label, $0.json, true) }
                values += invalidLiterals.map { ("literal \($0)", Array($0.utf8), false) }
                values += invalidBytes.map { ($0.label, $0.json, false) }
                for (label, value, wellFormed) in values {
                    let bytes = body(route, fixture: fixture, unique: unique, replacing: field, with: value)
                    cases.append(Case(
                        label: "\(route.key) .\(field) \(label)", method: route.method, path: path,
                        bytes: RawHTTP.request(route.method, path, token: token, headers: headers, body: bytes),
                        mayAccept: wellFormed))
                }
            }
        }
        return cases
    }

    /// The route's base body with `field` set to the raw JSON `value`.
    static func body(
        _ route: Route, fixture: Fixture, unique: (String) -> String, replacing field: String? = nil,
        with value: [UInt8]? = nil
    ) -> [UInt8] {
        var members = (baseBodies[route.key] ?? []).map { ($0.0, Array(unique($0.1).utf8)) }
        if let field, let value {
            if let index = members.firstIndex(where: { $0.0 == field }) {
                members[index].1 = value
            } else {
                members.append((field, value))
            }
        }
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        for (index, (name, raw)) in members.enumerated() {
            if index > 0 { bytes += Array(", ".utf8) }
            bytes += jsonString(name) + Array(": ".utf8) + raw
        }
        return bytes + [UInt8(ascii: "}")]
    }

    /// What is wrong with the answer to `request`, if anything.
    static func problem(_ request: Case, _ response: RawHTTP.Response?) -> String? {
        guard let response else {
            return request.mayDrop ? nil : "\(request): no answer"
        }
        if let expected = request.expected, response.status != expected {
            return "\(request): \(response.status), expected \(expected): \(response.text.prefix(200))"
        }
        guard response.status < 500 else { return "\(request): \(response)" }
        guard response.status >= 400 else {
            return request.mayAccept ? nil : "\(request): accepted with \(response.status): \(response.text.prefix(200))"
        }
        if request.mayDrop, response.body.isEmpty { return nil }
        guard let json = try? JSONParser.parse(response.body) else {
            return "\(request): \(response.status) without a JSON error body: \(response.text.prefix(200))"
        }
        if request.isInference {
            guard case .string? = json["error"] else { return "\(request): not {\"error\": …}: \(response)" }
        } else {
            guard case .string? = json["error"]?["code"], case .string? = json["error"]?["message"],
                case .string? = json["timestamp"]
            else { return "\(request): not the error envelope: \(response)" }
        }
        return nil
    }

    /// Runs `cases` four at a time; the problems found.
    static func run(_ cases: [Case], port: Int) async -> [String] {
        await withTaskGroup(of: String?.self) { group in
            var problems: [String] = []
            var pending = cases.makeIterator()
            func probe(_ request: Case) -> @Sendable () async -> String? {
                {
                    do {
                        let response = try await RawHTTP.exchange(port: port, request.bytes, headOnly: request.stream)
                        return problem(request, response)
                    } catch {
                        return "\(request): \(error)"
                    }
                }
            }
            for _ in 0..<4 {
                if let next = pending.next() { group.addTask(operation: probe(next)) }
            }
            while let result = await group.next() {
                if let result { problems.append(result) }
                if let next = pending.next() { group.addTask(operation: probe(next)) }
            }
            return problems
        }
    }

    // MARK: - Tests

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

    /// Every route that takes a body documents its fields, so the matrix below reaches each of them.
    @Test func everyBodyRouteIsFuzzed() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let document = try await Self.document(server)
        for route in RouteTable.all where ["POST", "PUT", "PATCH"].contains(route.method) && route.pendingIssue == nil {
            #expect(document.bodies[route.key] != nil, "\(route.key) has no request body in /openapi.json")
        }
    }

    /// Hostile path parameters, query values, bodies and fields on every route: a 4xx in the route's error format
    /// (2xx only for well-formed free text), never a 5xx; afterwards the server and its tables are intact.
    @Test func hostileInputMatrix() async throws {
        let server = try await LiveServer(
            // The cheapest bcrypt: the registrations that pass validation each hash a password, at the lowest
            // priority, and on a loaded machine the default cost could outlast a case's timeout.
            environment: ["XALORRA_MAX_BODY": "262144", "XALORRA_MAX_UPLOAD": "1048576", "XALORRA_BCRYPT_COST": "10"],
            arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let fixture = try await Self.fixture(server)
        let cases = Self.cases(fixture)
        let started = ContinuousClock.now
        let problems = await Self.run(cases, port: fixture.port)
        #expect(problems.isEmpty, "\(problems.count) of \(cases.count) cases failed:\n\(problems.prefix(40).joined(separator: "\n"))")
        try await Self.expectIntact(server, fixture: fixture)
        print("hostile input matrix: \(cases.count) cases in \(ContinuousClock.now - started)")
    }

    /// Injection strings are stored and returned as the text they are: a chat message, its title and a user's name
    /// round-trip byte for byte. Text with NUL is refused with 422: the store's text columns end at NUL, and before
    /// this was checked a message `a\0b` was stored and answered as `a`.
    @Test func injectionIsData() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let fixture = try await Self.fixture(server)
        func send(_ method: String, _ path: String, _ body: JSONValue) async throws -> (RawHTTP.Response, JSONValue?) {
            var bytes: [UInt8] = []
            JSONWriter.write(body, into: &bytes)
            let answer = try #require(try await RawHTTP.exchange(
                port: fixture.port,
                RawHTTP.request(method, path, token: fixture.user, headers: [("Content-Type", "application/json")], body: bytes)))
            return (answer, try? JSONParser.parse(answer.body))
        }
        let (first, firstJSON) = try await send("POST", "/chat/message", .object([("message", "hi")]))
        let conversation = try #require(firstJSON?["data"]?["conversation_id"]?.stringValue, "\(first)")
        for (label, text) in Self.hostileStrings where !text.allSatisfy(\.isWhitespace) {
            let hasNUL = text.utf8.contains(0)
            let (reply, json) = try await send("POST", "/chat/message", .object([("message", .string(String(text.prefix(ChatRules.maxMessage))))]))
            let title = String(text.prefix(ChatRules.maxTitle))
            let (renamed, _) = try await send("PUT", "/chat/histories/\(conversation)/title", .object([("title", .string(title))]))
            let (profile, _) = try await send("PUT", "/users/profile", .object([("nama_lengkap", .string(String(text.prefix(100))))]))
            if hasNUL {
                for answer in [reply, renamed, profile] {
                    #expect(answer.status == 422 && answer.text.contains("must not contain NUL"), "\(label): \(answer)")
                }
                continue
            }
            // A full name has no use for control characters (they could forge lines in an admin's terminal): refused,
            // while messages and titles keep what users send.
            let nameHasControl = String(text.prefix(100)).unicodeScalars.contains { TerminalText.isUnsafe($0) && !(0x202A...0x2069).contains($0.value) }
            #expect(reply.status == 200 && renamed.status == 200, "\(label): \(reply) \(renamed)")
            #expect(profile.status == (nameHasControl ? 422 : 200), "\(label): \(profile)")
            let id = try #require(json?["data"]?["conversation_id"]?.stringValue, "\(label): \(reply)")
            let history = try JSONParser.parse(try #require(try await RawHTTP.exchange(
                port: fixture.port, RawHTTP.request("GET", "/chat/histories/\(id)", token: fixture.user))).body)
            guard case .array(let messages)? = history["data"]?["messages"] else {
                Issue.record("\(label): \(history)")
                continue
            }
            #expect(messages.first?["content"]?.stringValue == String(text.prefix(ChatRules.maxMessage)), "\(label)")
            let renamedOne = try JSONParser.parse(try #require(try await RawHTTP.exchange(
                port: fixture.port, RawHTTP.request("GET", "/chat/histories/\(conversation)", token: fixture.user))).body)
            #expect(renamedOne["data"]?["title"]?.stringValue == title.trimmingCharacters(in: .whitespacesAndNewlines), "\(label)")
            let me = try JSONParser.parse(try #require(try await RawHTTP.exchange(
                port: fixture.port, RawHTTP.request("GET", "/users/profile", token: fixture.user))).body)
            if !nameHasControl {
                #expect(me["data"]?["nama_lengkap"]?.stringValue == String(text.prefix(100)), "\(label)")
            }
        }
        try await Self.expectIntact(server, fixture: fixture)
    }

    /// Bodies over the limits answer 413 `PAYLOAD_TOO_LARGE` (by `Content-Length`, or chunked with none), the upload
    /// routes take more up to `XALORRA_MAX_UPLOAD`, and framing that lies is refused or cut off.
    @Test func oversizeAndLyingBodies() async throws {
        let server = try await LiveServer(
            environment: ["XALORRA_MAX_BODY": "65536", "XALORRA_MAX_UPLOAD": "262144"], arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let fixture = try await Self.fixture(server)
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
        for route in RouteTable.all where ["POST", "PUT", "PATCH"].contains(route.method) && route.pendingIssue == nil {
            let path = Self.basePath(route, fixture: fixture)
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
        let problems = await Self.run(cases, port: fixture.port)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        try await Self.expectIntact(server, fixture: fixture)
    }

    // MARK: - Slow clients and connection limits

    /// A connection that sends nothing is closed after `XALORRA_IDLE_TIMEOUT`, also between keep-alive requests,
    /// and other clients are answered meanwhile.
    @Test func idleConnectionsAreClosed() async throws {
        let server = try await LiveServer(environment: ["XALORRA_IDLE_TIMEOUT": "1s", "XALORRA_HEADER_TIMEOUT": "2s"])
        defer { server.stop() }
        let port = try Self.port(server)
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
        let port = try Self.port(server)
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
        let port = try Self.port(server)
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
        let port = try Self.port(server)
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
        let port = try Self.port(server)
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

    static func port(_ server: LiveServer) throws -> Int {
        try #require(server.url.split(separator: ":").last.flatMap { Int($0) })
    }

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

    /// The routes' request bodies and query parameters from the served `/openapi.json`.
    static func document(_ server: LiveServer) async throws -> (bodies: [String: [String]], queries: [String: [String]]) {
        let answer = try #require(try await RawHTTP.exchange(port: Self.port(server), RawHTTP.request("GET", "/openapi.json")))
        let document = try JSONParser.parse(answer.body)
        guard case .object(let paths)? = document["paths"] else { throw XalorraError(.internal, "no paths") }
        var bodies: [String: [String]] = [:]
        var queries: [String: [String]] = [:]
        for (path, item) in paths {
            guard case .object(let operations) = item else { continue }
            for (method, operation) in operations {
                let key = "\(method.uppercased()) \(path)"
                if let schema = operation["requestBody"]?["content"]?["application/json"]?["schema"] {
                    var fields: [String] = []
                    var schemas = [schema]
                    if case .array(let alternatives)? = schema["oneOf"] { schemas += alternatives }
                    for schema in schemas {
                        if case .object(let properties)? = schema["properties"] {
                            fields += properties.map(\.0).filter { !fields.contains($0) }
                        }
                    }
                    bodies[key] = fields
                }
                if case .array(let parameters)? = operation["parameters"] {
                    queries[key] = parameters.compactMap { parameter in
                        parameter["in"] == "query" ? parameter["name"]?.stringValue : nil
                    }
                }
            }
        }
        return (bodies, queries)
    }

    /// Tokens, a user, a conversation and the OpenAPI-derived tables for the cases.
    static func fixture(_ server: LiveServer) async throws -> Fixture {
        let port = try Self.port(server)
        let admin = try server.token(["--user", "root", "--role", "admin"])
        for name in ["hostile_user", "hostile_target"] {
            var body: [UInt8] = []
            JSONWriter.write(.object([
                ("username", .string(name)), ("email", .string("\(name)@example.com")), ("nama_lengkap", "Hostile"),
                ("password", "correct-horse"),
            ]), into: &body)
            let created = try await RawHTTP.exchange(
                port: port, RawHTTP.request("POST", "/admin/users", token: admin, headers: [("Content-Type", "application/json")], body: body))
            #expect(created?.status == 201, "\(String(describing: created))")
        }
        let user = try server.token(["--user", "hostile_user"])
        let message = try await RawHTTP.exchange(
            port: port,
            RawHTTP.request("POST", "/chat/message", token: admin, headers: [("Content-Type", "application/json")], body: Array(#"{"message": "hi"}"#.utf8)))
        let conversation = try #require(
            message.flatMap { try? JSONParser.parse($0.body) }?["data"]?["conversation_id"]?.stringValue,
            "\(String(describing: message))")
        let (bodies, queries) = try await document(server)
        return Fixture(
            port: port, admin: admin, user: user, conversation: conversation, target: "hostile_target",
            bodyFields: bodies, queryParameters: queries)
    }

    /// The server still runs, answers, reads every table, and logged no failure.
    static func expectIntact(_ server: LiveServer, fixture: Fixture) async throws {
        #expect(server.process.isRunning, "the server died: \(server.log.text.suffix(2000))")
        for path in ["/health", "/health/detailed", "/logs", "/admin/users", "/chat/histories", "/models", "/train/jobs"] {
            let answer = try await RawHTTP.exchange(port: fixture.port, RawHTTP.request("GET", path, token: fixture.admin))
            #expect(answer?.status == 200, "\(path): \(String(describing: answer))")
        }
        let log = server.log.text
        let failures = log.split(separator: "\n").filter { $0.contains("request failed") || $0.contains(" 500 ") }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
