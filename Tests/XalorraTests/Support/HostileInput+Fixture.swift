import Testing
import XalorraCore

extension HostileInput {
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

    /// The routes' request bodies and query parameters from the served `/openapi.json`.
    static func document(_ server: LiveServer) async throws -> (bodies: [String: [String]], queries: [String: [String]]) {
        let answer = try #require(try await RawHTTP.exchange(port: server.port, RawHTTP.request("GET", "/openapi.json")))
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
        let port = server.port
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
