import Foundation
import Testing
import XalorraCore

/// Hostile path parameters, query values, whole bodies and body fields on every route of the table against a live
/// `xalorra serve`: each answers a 4xx in the route's error format, never a 5xx, a crash or a stuck server.
@Suite(.serialized)
struct HostileInputRoutesTests {
    /// Every route that takes a body documents its fields, so the matrix below reaches each of them.
    @Test func everyBodyRouteIsFuzzed() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let document = try await HostileInput.document(server)
        for route in RouteTable.all where ["POST", "PUT", "PATCH"].contains(route.method) {
            #expect(document.bodies[route.key] != nil, "\(route.key) has no request body in /openapi.json")
        }
    }

    /// Hostile path parameters, query values, bodies and fields on every route: a 4xx in the route's error format
    /// (2xx only for well-formed free text), never a 5xx; afterwards the server and its tables are intact.
    @Test func hostileInputMatrix() async throws { try await Self.matrix() }

    /// The same matrix against a server on PostgreSQL, which refuses some text SQLite keeps (a NUL) and compares
    /// numbers in narrower columns: still a 4xx for each, never a 5xx.
    @Test(.enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
    func hostileInputMatrixOnPostgres() async throws { try await TestBackend.run(.postgres) { try await Self.matrix() } }

    private static func matrix() async throws {
        let server = try await LiveServer(
            // The cheapest bcrypt: the registrations that pass validation each hash a password, at the lowest
            // priority, and on a loaded machine the default cost could outlast a case's timeout.
            environment: ["XALORRA_MAX_BODY": "262144", "XALORRA_MAX_UPLOAD": "1048576", "XALORRA_BCRYPT_COST": "10"],
            arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let fixture = try await HostileInput.fixture(server)
        let cases = HostileInput.cases(fixture)
        let started = ContinuousClock.now
        let problems = await HostileInput.run(cases, port: fixture.port)
        #expect(problems.isEmpty, "\(problems.count) of \(cases.count) cases failed:\n\(problems.prefix(40).joined(separator: "\n"))")
        try await HostileInput.expectIntact(server, fixture: fixture)
        print("hostile input matrix: \(cases.count) cases in \(ContinuousClock.now - started)")
    }
}

/// The matrix: every route's parameters, queries, bodies and fields, each with every value of the corpus.
extension HostileInput {
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
        for route in RouteTable.all {
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
}
