import Foundation
import Testing
import XalorraCore

/// Input that one store keeps and another refuses answers the same on both: a NUL (U+0000), which PostgreSQL
/// refuses in any text and SQLite's C interfaces end text at, is a 422 in a body or a query and names nothing in a
/// path, on either store, and never reaches a query as a 500.
@Suite(.serialized)
struct StoreParityTests: LiveServerSuite {
    /// A NUL in a query filter, a search or a field is a 422, in a login name the 401 of any unknown name, and in a
    /// path parameter a 404, on SQLite and on
    /// PostgreSQL alike (PostgreSQL used to answer 500: `invalid byte sequence for encoding "UTF8": 0x00`).
    @Test(arguments: TestBackend.available)
    func aNULIsRefusedTheSameOnEveryStore(_ backend: TestBackend) async throws {
        try await TestBackend.run(backend) {
            let server = try await LiveServer(arguments: ["--rate-limit", "off"])
            defer { server.stop() }
            let admin = try server.token(["--role", "admin"])
            let login = try await server.request(
                "POST", "/users/login", body: #"{"username":"bob\u0000x","password":"secret-pw"}"#)
            // As any unknown name: the same 401, after the same work.
            #expect(login.status == 401, "\(backend) login: \(login.status) \(login.body)")
            for path in [
                "/logs?model=a%00b", "/train/jobs?model=a%00b", "/chat/histories?search=a%00b",
                "/logs/export?model=a%00b", "/admin/users?search=a%00b", "/admin/audit?user=a%00b",
            ] {
                let answer = try await server.request("GET", path, token: admin)
                #expect(answer.status == 422, "\(backend) \(path): \(answer.status) \(answer.body)")
                #expect(json(answer.body)["error"]?["code"] == "VALIDATION_ERROR", "\(backend) \(path): \(answer.body)")
            }
            for path in ["/keys/a%00b", "/admin/users/a%00b", "/models/a%00b"] {
                let answer = try await server.request("GET", path, token: admin)
                #expect(answer.status == 404, "\(backend) \(path): \(answer.status) \(answer.body)")
            }
            let register = try await register(server, "nul_user", password: "pass\u{0}word")
            #expect(register.status == 422, "\(backend) register: \(register.status) \(register.body)")
            #expect(try await server.request("GET", "/health").status == 200)
        }
    }

    /// Names compare without the case of ASCII letters only, as SQLite's NOCASE, even in a database whose locale folds
    /// every script: `\u{212A}ate` (KELVIN SIGN) is not kate, and `\u{212A}ate@x.io` is a new address. On PostgreSQL
    /// under C.UTF-8, `lower()` made the one log in against kate's account and refused the other as taken.
    @Test(arguments: TestBackend.available)
    func namesFoldOnlyASCIILetters(_ backend: TestBackend) async throws {
        let environment =
            backend == .postgres ? ["XALORRA_DATABASE_URL": try await PostgresCluster.shared.freshUTF8Database()] : [:]
        let server = try await LiveServer(environment: environment, arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        #expect(try await register(server, "kate", password: "kate-secret-1").status == 201)
        let kelvin = try await server.request(
            "POST", "/users/register",
            body: body([
                ("username", "kelvin"), ("email", .string("\u{212A}ate@x.io")), ("nama_lengkap", "Kelvin"),
                ("password", "kelvin-secret-1"),
            ]))
        #expect(kelvin.status == 201, "\(backend): \(kelvin.status) \(kelvin.body)")
        let login = try await server.request(
            "POST", "/users/login", body: body([("username", .string("\u{212A}ate")), ("password", "kate-secret-1")]))
        #expect(login.status == 401, "\(backend): \(login.status) \(login.body)")
        let admin = try server.token(["--role", "admin"])
        let found = try await server.request("GET", "/admin/users/%E2%84%AAATE", token: admin)
        #expect(found.status == 404, "\(backend): \(found.status) \(found.body)")
        // ASCII case still folds.
        let upper = try await server.request(
            "POST", "/users/login", body: body([("username", "KATE"), ("password", "kate-secret-1")]))
        #expect(upper.status == 200, "\(backend): \(upper.status) \(upper.body)")
    }
}
