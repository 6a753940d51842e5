import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import XalorraCore
@testable import XalorraServer

/// `xalorra serve`'s application on a fresh temporary store, driven through HummingbirdTesting's router test: each
/// request goes straight to the responder (no socket, no port, no process), so a controller's routes take
/// milliseconds. Tokens are the server's own (``LocalAPI/mintToken(_:)`` with its secret); expectations are read
/// from each ``Endpoint``'s route, so the tests follow the one definition of every route.
struct RouterHarness: Sendable {
    /// One answer: status, headers and body.
    struct Answer: Sendable, CustomStringConvertible {
        let status: Int
        let headers: HTTPFields
        let text: String
        /// The body parsed as JSON; `nil` when it is not JSON.
        let json: JSONValue?

        init(_ response: TestResponse) {
            status = Int(response.status.code)
            headers = response.headers
            text = String(buffer: response.body)
            json = try? JSONParser.parse(text)
        }

        /// A header's value by name.
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }

        /// The envelope's `error.details[].field`s.
        var fields: [String] {
            guard case .array(let details)? = json?["error"]?["details"] else { return [] }
            return details.compactMap { $0["field"]?.stringValue }
        }

        var description: String { "\(status) \(text.prefix(600))" }
    }

    /// The `SECRET_KEY` the application runs with.
    static let secret = "router-test-secret-router-test-secret!"

    let client: any TestClientProtocol
    /// The store's API acting as the operator (`root`, admin, the default tenant): mints tokens with the server's
    /// secret and sets data up without going through the routes under test.
    let operatorAPI: LocalAPI
    /// The application's settings.
    let settings: Settings

    /// Runs `body` against a new application on an empty store in a temporary `XALORRA_HOME` (removed afterwards).
    /// - Parameter environment: settings beyond the defaults (rate limiting is off unless this turns it on).
    static func run(
        environment: [String: String] = [:], _ body: @Sendable (RouterHarness) async throws -> Void
    ) async throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("xalorra-router-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        let base = [
            "SECRET_KEY": secret, "XALORRA_RATE_LIMIT": "off", "XALORRA_PREDICTION_LOG": "off",
            // The cheapest accepted bcrypt: the debug build's is unoptimised C.
            "XALORRA_BCRYPT_COST": "\(PasswordHasher.minimumCost)", "XALORRA_USER": "root",
        ]
        let settings = try Settings.resolve(
            flags: ["--home": home.path], environment: base.merging(environment) { $1 }, dotEnv: [:])
        let database = try AppDatabase.open(path: settings.databasePath, pooled: true)
        let server = try await XalorraServer(
            settings: settings, host: "127.0.0.1", port: 0, database: database,
            logger: Logger(label: "router-tests") { _ in SwiftLogNoOpLogHandler() })
        let operatorAPI = LocalAPI(
            settings: settings, caller: Caller(user: "root", role: .admin, tenant: settings.defaultTenant),
            database: database)
        try await server.application.test(.router) { client in
            try await body(RouterHarness(client: client, operatorAPI: operatorAPI, settings: settings))
        }
    }

    // MARK: Requests

    /// Sends `method uri` (path and query, as written), with `Authorization: Bearer <token>` when given.
    func request(
        _ method: String, _ uri: String, token: String? = nil, body: String? = nil, headers: [(String, String)] = []
    ) async throws -> Answer {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        for (name, value) in headers { fields.append(HTTPField(name: try #require(HTTPField.Name(name)), value: value)) }
        let response = try await client.executeRequest(
            uri: uri, method: HTTPRequest.Method(method) ?? .get, headers: fields,
            body: body.map { ByteBuffer(string: $0) })
        return Answer(response)
    }

    /// Sends `endpoint`'s method to its path with `parameters` filled (percent-encoded), then `query` (`?a=1&b=2`).
    func send(
        _ endpoint: Endpoint, _ parameters: String..., query: String = "", token: String? = nil, body: String? = nil
    ) async throws -> Answer {
        let route = endpoint.route
        return try await request(route.method, route.path(parameters) + query, token: token, body: body)
    }

    // MARK: Tokens and data

    /// An access token the server itself minted: for a name without an account unless one was created for it.
    func token(
        _ user: String = "ana", role: Role = .user, tenant: String = "default", ttl: TimeSpan = TimeSpan(seconds: 3600)
    ) async throws -> String {
        try await operatorAPI.mintToken(TokenRequest(user: user, role: role, tenant: tenant, ttl: ttl)).token
    }

    /// An admin's token (`root`, the default tenant).
    func adminToken() async throws -> String { try await token("root", role: .admin) }

    /// Creates an account (one bcrypt hash) and returns a token for it, which the server takes as that account's.
    @discardableResult
    func account(_ username: String, role: Role = .user, tenant: String = "default") async throws -> String {
        _ = try await operatorAPI.createUser(NewUser(
            username: username, email: "\(username)@example.com", fullName: "User \(username)",
            password: RouterHarness.password, role: role, tenant: tenant))
        return try await token(username, role: role, tenant: tenant)
    }

    /// The password of every ``account(_:role:tenant:)``.
    static let password = "correct horse"

    // MARK: Expectations from the route table

    /// Expects `answer` to be `endpoint`'s success: the route's declared status and media type, and a body of its
    /// declared schema (every required member present, each of its type, at any depth); returns the body's JSON.
    @discardableResult
    func expectSuccess(
        _ answer: Answer, of endpoint: Endpoint, sourceLocation: SourceLocation = #_sourceLocation
    ) -> JSONValue {
        let response = endpoint.route.response
        #expect(answer.status == response.status, "\(endpoint): \(answer)", sourceLocation: sourceLocation)
        #expect(
            answer.header("Content-Type") == response.contentType, "\(endpoint): content type",
            sourceLocation: sourceLocation)
        switch response {
        case .json(let schema, _), .jsonOrEvents(let schema, _), .jsonOrBinary(let schema):
            guard let json = answer.json else {
                Issue.record("\(endpoint): the body is not JSON: \(answer)", sourceLocation: sourceLocation)
                return .null
            }
            let problems = SchemaCheck.problems(json, schema)
            #expect(problems.isEmpty, "\(endpoint): \(problems) in \(answer)", sourceLocation: sourceLocation)
            return json
        case .empty:
            #expect(answer.text.isEmpty, "\(endpoint): 204 with a body: \(answer)", sourceLocation: sourceLocation)
            return .null
        case .events, .socket, .text:
            return .null
        }
    }

    /// Expects `answer` to be `code`'s error in `endpoint`'s error format (the envelope, or the Open Inference
    /// Protocol's `{"error"}`); with `field`, the envelope's details must name it.
    func expectFailure(
        _ answer: Answer, of endpoint: Endpoint, _ code: XalorraError.Code, field: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        expectFailure(answer, format: endpoint.route.errorFormat, code, field: field, sourceLocation: sourceLocation)
    }

    /// ``expectFailure(_:of:_:field:sourceLocation:)`` for an answer that matched no route (`format` given).
    func expectFailure(
        _ answer: Answer, format: Route.ErrorFormat, _ code: XalorraError.Code, field: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(answer.status == code.httpStatus, "\(answer)", sourceLocation: sourceLocation)
        #expect(answer.header("Content-Type") == "application/json", sourceLocation: sourceLocation)
        guard let json = answer.json else {
            Issue.record("the error is not JSON: \(answer)", sourceLocation: sourceLocation)
            return
        }
        switch format {
        case .envelope:
            let problems = SchemaCheck.problems(json, Schema.ref("Error"))
            #expect(problems.isEmpty, "not the error envelope: \(problems) in \(answer)", sourceLocation: sourceLocation)
            #expect(json["error"]?["code"]?.stringValue == code.name, "\(answer)", sourceLocation: sourceLocation)
            if let field {
                #expect(
                    answer.fields.contains(field), "no detail names \(field): \(answer)", sourceLocation: sourceLocation)
            }
        case .openAI:
            let problems = SchemaCheck.problems(json, Schema.openAIError)
            #expect(problems.isEmpty, "not the OpenAI error: \(problems) in \(answer)", sourceLocation: sourceLocation)
            if let field {
                #expect(
                    json["error"]?["param"]?.stringValue == field, "the param is not \(field): \(answer)",
                    sourceLocation: sourceLocation)
            }
        case .inference:
            let problems = SchemaCheck.problems(json, Schema.ref("InferenceError"))
            #expect(problems.isEmpty, "not the OIP error: \(problems) in \(answer)", sourceLocation: sourceLocation)
            if let field {
                #expect(
                    json["error"]?.stringValue?.contains(field) == true, "the message does not name \(field): \(answer)",
                    sourceLocation: sourceLocation)
            }
        }
    }
}

/// Checks a JSON value against the JSON Schema the routes declare (`type`, `properties`, `required`, `items`,
/// `enum`, `oneOf`, `allOf`, `$ref` to ``Schema/components``): what the answers promise, member by member.
enum SchemaCheck {
    /// Every way `value` departs from `schema`, each with its JSON path; empty when it conforms.
    static func problems(_ value: JSONValue, _ schema: JSONValue, at path: String = "$") -> [String] {
        if case .string(let reference)? = schema["$ref"] {
            let name = String(reference.split(separator: "/").last ?? "")
            guard let target = Schema.components.first(where: { $0.0 == name })?.1 else {
                return ["\(path): unknown schema \(reference)"]
            }
            return problems(value, target, at: path)
        }
        if case .array(let parts)? = schema["allOf"] {
            return parts.flatMap { problems(value, $0, at: path) }
        }
        if case .array(let choices)? = schema["oneOf"] {
            let failing = choices.map { problems(value, $0, at: path) }
            return failing.contains(where: \.isEmpty) ? [] : ["\(path): matches none of oneOf: \(failing.flatMap { $0 })"]
        }
        if case .array(let allowed)? = schema["enum"], !allowed.contains(value) {
            return ["\(path): \(JSONWriter.compact(value)) is not one of \(JSONWriter.compact(.array(allowed)))"]
        }
        if let type = schema["type"] {
            let types: [String] =
                switch type {
                case .string(let one): [one]
                case .array(let many): many.compactMap(\.stringValue)
                default: []
                }
            guard types.contains(where: { matches(value, $0) }) else {
                return ["\(path): expected \(types.joined(separator: " or ")), got \(value.typeName)"]
            }
        }
        var found: [String] = []
        if case .object(let members) = value {
            if let extra = schema["additionalProperties"], extra != .bool(true) {
                for (name, member) in members where schema["properties"]?[name] == nil {
                    found += problems(member, extra, at: "\(path).\(name)")
                }
            }
            if case .array(let required)? = schema["required"] {
                for name in required.compactMap(\.stringValue) where value[name] == nil {
                    found.append("\(path): missing \(name)")
                }
            }
            if case .object(let properties)? = schema["properties"] {
                for (name, memberSchema) in properties {
                    if let member = members.first(where: { $0.0 == name })?.1 {
                        found += problems(member, memberSchema, at: "\(path).\(name)")
                    }
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() { found += problems(item, itemSchema, at: "\(path)[\(index)]") }
        }
        return found
    }

    /// Whether `value` is of the JSON Schema type `type` (an integer is a number without a fraction).
    private static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array),
            ("object", .object):
            return true
        case ("integer", .number(let number)):
            if case .double(let double) = number { return double.rounded() == double }
            return true
        default:
            return false
        }
    }
}
