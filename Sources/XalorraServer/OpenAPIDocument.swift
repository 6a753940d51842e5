import XalorraCore
import XalorraML

/// `GET /openapi.json`: OpenAPI 3.1 for every route of the table, with the schemas of the bodies this version
/// serves (their data is in `OpenAPIDocument+Bodies.swift`). Routes that are not available yet are listed with
/// their 501 answer.
enum OpenAPIDocument {
    /// The document as JSON.
    static func render(routes: [Route]) -> JSONValue {
        var paths: [(String, [(String, JSONValue)])] = []
        for route in routes {
            let operation = self.operation(route)
            if let index = paths.firstIndex(where: { $0.0 == route.path }) {
                paths[index].1.append((route.method.lowercased(), operation))
            } else {
                paths.append((route.path, [(route.method.lowercased(), operation)]))
            }
        }
        return .object([
            ("openapi", "3.1.0"),
            ("info", .object([
                ("title", "xalorra"), ("version", .string(XalorraVersion.current)),
                ("description", "ML predictions and an AI chat behind JWT auth. Generated from the route table."),
            ])),
            ("paths", .object(paths.map { ($0.0, .object($0.1)) })),
            ("components", .object([
                ("securitySchemes", .object([
                    ("bearer", .object([("type", "http"), ("scheme", "bearer"), ("bearerFormat", "JWT")])),
                ])),
                ("schemas", .object(schemas)),
            ])),
        ])
    }

    static func operation(_ route: Route) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("summary", .string(route.summary)),
            ("operationId", .string(operationID(route))),
            ("tags", .array([.string(tag(route))])),
        ]
        if route.access != .public { members.append(("security", .array([.object([("bearer", .array([]))])]))) }
        let parameters = route.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment in
            JSONValue.object([
                ("name", .string(String(segment.dropFirst().dropLast()))), ("in", "path"), ("required", true),
                ("schema", .object([("type", "string")])),
            ])
        } + (queryParameters[route.key] ?? []) + (route.transport.acceptsQueryToken ? [accessTokenParameter] : [])
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body = requestBodies[route.key] {
            var content: [(String, JSONValue)] = [("application/json", .object([("schema", body)]))]
            if let csv = csvBodies[route.key] { content.append(("text/csv", .object([("schema", csv)]))) }
            members.append(("requestBody", .object([("required", true), ("content", .object(content))])))
        }
        var responses: [(String, JSONValue)] = []
        if route.pendingIssue != nil {
            responses.append(("501", errorResponse("Not available yet in this version")))
        } else if route.transport == .webSocket {
            responses.append(("101", .object([
                ("description", .string("Switching Protocols: then one text message per event, each a " + (socketMessages[route.key] ?? "JSON value"))),
            ])))
        } else if let status = successStatus[route.key], status == "204" {
            responses.append(("204", .object([("description", "Done; no body")])))
        } else {
            let success = successBodies[route.key] ?? .object([])
            let contentType = route.transport == .eventStream ? "text/event-stream" : "application/json"
            responses.append((successStatus[route.key] ?? "200", .object([
                ("description", "Success"),
                ("content", .object([(contentType, .object([("schema", success)]))])),
            ])))
        }
        responses.append(route.errorFormat == .inference
            ? ("default", .object([
                ("description", "The Open Inference Protocol's error"),
                ("content", .object([("application/json", .object([("schema", ref("InferenceError"))]))])),
            ]))
            : ("default", errorResponse("The error envelope, for every failure")))
        members.append(("responses", .object(responses)))
        return .object(members)
    }

    static func errorResponse(_ description: String) -> JSONValue {
        .object([
            ("description", .string(description)),
            ("content", .object([("application/json", .object([("schema", ref("Error"))]))])),
        ])
    }

    static func ref(_ name: String) -> JSONValue { .object([("$ref", .string("#/components/schemas/\(name)"))]) }

    static func operationID(_ route: Route) -> String {
        let words = route.path.split(separator: "/").map { segment -> String in
            let word = segment.hasPrefix("{") ? "by-" + segment.dropFirst().dropLast() : String(segment)
            return String(word.map { $0 == "." ? "-" : $0 })
        }
        return ([route.method.lowercased()] + words).joined(separator: "-")
    }

    static func tag(_ route: Route) -> String {
        String(route.path.split(separator: "/").first ?? "service")
    }

    static func object(_ properties: [(String, JSONValue)], required: [String]) -> JSONValue {
        .object([
            ("type", "object"), ("properties", .object(properties)),
            ("required", .array(required.map { .string($0) })),
        ])
    }

    static let number: JSONValue = .object([("type", "number")])
    static let string: JSONValue = .object([("type", "string")])
    static let integer: JSONValue = .object([("type", "integer")])
    static let numbers: JSONValue = .object([("type", "array"), ("items", number)])
}
