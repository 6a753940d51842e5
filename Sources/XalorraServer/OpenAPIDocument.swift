import XalorraCore
import XalorraML

/// `GET /openapi.json`: OpenAPI 3.1 for every route of the table, written from each ``Route``'s own bodies, query
/// and answer (the shared schemas are ``Schema/components``).
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
                    ("bearer", .object([
                        ("type", "http"), ("scheme", "bearer"), ("bearerFormat", "JWT or xal_ API key"),
                    ])),
                    ("apiKey", .object([("type", "apiKey"), ("in", "header"), ("name", "X-API-Key")])),
                ])),
                ("schemas", .object(Schema.components)),
            ])),
        ])
    }

    static func operation(_ route: Route) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("summary", .string(route.summary)),
            ("operationId", .string(operationID(route))),
            ("tags", .array([.string(tag(route))])),
        ]
        if route.access != .public {
            // Either a token or an API key; a key must hold the route's scope (OpenAPI 3.1 lets any scheme list the
            // roles it needs), repeated as `x-scope` for readers that ignore security requirements.
            let scope: JSONValue = route.scope.map { .array([.string($0.rawValue)]) } ?? .array([])
            members.append(("security", .array([.object([("bearer", .array([]))]), .object([("apiKey", scope)])])))
            if let scope = route.scope { members.append(("x-scope", .string(scope.rawValue))) }
        }
        let parameters = route.parameterNames.map { name in
            JSONValue.object([
                ("name", .string(name)), ("in", "path"), ("required", true), ("schema", Schema.pathParameter(name, of: route)),
            ])
        } + route.query.map { parameter in
            JSONValue.object([
                ("name", .string(parameter.name)), ("in", "query"), ("required", false), ("schema", parameter.schema),
            ])
        } + (route.transport.acceptsQueryToken ? [accessTokenParameter] : [])
            + (route.body?.binary != nil ? [inferenceHeaderParameter] : [])
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body = route.body {
            var content: [(String, JSONValue)] = [("application/json", .object([("schema", body.json)]))]
            if let csv = body.csv {
                // The file's bytes (`format: binary`): generators then send it as it is, not as a JSON string.
                content.append(("text/csv", .object([("schema", .object([
                    ("type", "string"), ("format", "binary"), ("contentMediaType", "text/csv"), ("description", .string(csv)),
                ]))])))
            }
            if let binary = body.binary {
                content.append(("application/octet-stream", .object([("schema", .object([
                    ("type", "string"), ("format", "binary"), ("description", .string(binary)),
                ]))])))
            }
            members.append(("requestBody", .object([("required", true), ("content", .object(content))])))
        }
        let status = String(route.response.status)
        let success: JSONValue
        switch route.response {
        case .json(let schema, _):
            success = .object([
                ("description", "Success"), ("content", .object([("application/json", .object([("schema", schema)]))])),
            ])
        case .jsonOrEvents(let schema, let events):
            success = jsonOrEventsResponse(schema, events: events, route: route)
        case .jsonOrBinary(let schema):
            success = jsonOrBinaryResponse(schema)
        case .empty:
            success = .object([("description", "Done; no body")])
        case .events(let schema):
            success = .object([
                ("description", .string("Server-Sent Events; each event's data is JSON of this schema")),
                ("content", .object([eventStream(schema, errorEvent: true)])),
            ])
        case .socket(let schema):
            success = .object([
                ("description", .string(
                    "Switching Protocols: then one text message per event, each JSON of "
                        + (schema["$ref"]?.stringValue ?? "the schema"))),
            ])
        case .text(let contentType, let alternatives):
            success = .object([
                ("description", "Success"),
                ("content", .object(([contentType] + alternatives).map { ($0, .object([("schema", Schema.string)])) })),
            ])
        }
        let failure: JSONValue
        switch route.errorFormat {
        case .inference:
            failure = .object([
                ("description", "The Open Inference Protocol's error"),
                ("content", .object([("application/json", .object([("schema", ref("InferenceError"))]))])),
            ])
        case .openAI:
            failure = .object([
                ("description", "The OpenAI API's error object"),
                ("content", .object([("application/json", .object([("schema", ref("OpenAIError"))]))])),
            ])
        case .envelope:
            failure = errorResponse("The error envelope, for every failure")
        }
        members.append(("responses", .object([(status, success), ("default", failure)])))
        return .object(members)
    }

    /// A 200 that is JSON of `schema`, or Server-Sent Events of `events` when the body asks `"stream": true`
    /// (`POST /chat/message`). JSON comes first: generators that read one media type per answer read that one.
    /// OpenAI's streams (the `/v1` routes) end with the literal `data: [DONE]`, which is not JSON.
    static func jsonOrEventsResponse(_ schema: JSONValue, events: JSONValue, route: Route) -> JSONValue {
        let terminator = route.errorFormat == .openAI ? "[DONE]" : nil
        return .object([
            ("description", .string("JSON; with \"stream\": true, Server-Sent Events whose data is JSON of the event schema")),
            ("content", .object([
                ("application/json", .object([("schema", schema)])), eventStream(events, terminator: terminator),
            ])),
        ])
    }

    /// A 200 that is JSON of `schema`, or, when the request asks for a binary output (the inference protocol's
    /// binary tensor extension), `application/octet-stream`: a JSON header of `schema` whose outputs carry
    /// `parameters.binary_data_size` instead of `data` (its length in `Inference-Header-Content-Length`), then the
    /// outputs' raw little-endian bytes.
    static func jsonOrBinaryResponse(_ schema: JSONValue) -> JSONValue {
        .object([
            ("description", .string(
                "JSON; with binary_data_output or an output's binary_data, the JSON header (its length in "
                    + "Inference-Header-Content-Length) then the outputs' raw little-endian bytes")),
            ("headers", .object([("Inference-Header-Content-Length", inferenceHeaderLength)])),
            ("content", .object([
                ("application/json", .object([("schema", schema)])),
                ("application/octet-stream", .object([("schema", .object([("type", "string"), ("format", "binary")]))])),
            ])),
        ])
    }

    /// `Inference-Header-Content-Length`: how many bytes of a binary tensor body are its JSON header.
    static let inferenceHeaderLength: JSONValue = .object([
        ("description", "The length of the JSON header before the raw tensor bytes (binary tensor data only)"),
        ("schema", .object([("type", "integer"), ("minimum", 0)])),
    ])

    /// The request header that says a body is binary tensor data: where its JSON header ends.
    static let inferenceHeaderParameter: JSONValue = .object([
        ("name", "Inference-Header-Content-Length"), ("in", "header"), ("required", false),
        ("schema", .object([("type", "integer"), ("minimum", 0)])),
        ("description", "With an application/octet-stream body: the length of its JSON header, before the raw tensor bytes"),
    ])

    /// `text/event-stream` whose events' data is JSON of `schema`. Before OpenAPI 3.2's `itemSchema`, the `schema`
    /// of an event stream describes one event as the registry's SSE convention reads it, `{data, event, id, retry}`
    /// (schemathesis validates each event so); `terminator` is a last event's literal data, and `errorEvent` adds
    /// the live feeds' `event: error` whose data is the error envelope (a subscriber losing access).
    static func eventStream(
        _ schema: JSONValue, terminator: String? = nil, errorEvent: Bool = false
    ) -> (String, JSONValue) {
        var data: JSONValue = .object([
            ("type", "string"), ("contentMediaType", "application/json"), ("contentSchema", schema),
        ])
        if let terminator { data = .object([("anyOf", .array([.object([("const", .string(terminator))]), data]))]) }
        var events = [event(data: data)]
        if errorEvent {
            events.append(event(
                data: .object([("type", "string"), ("contentMediaType", "application/json"), ("contentSchema", ref("Error"))]),
                name: "error"))
        }
        let schema = events.count == 1 ? events[0] : .object([("anyOf", .array(events))])
        return ("text/event-stream", .object([("schema", schema)]))
    }

    /// One Server-Sent Event with `data` (and `event` named `name` when given; otherwise any type but `error`).
    static func event(data: JSONValue, name: String? = nil) -> JSONValue {
        let type: JSONValue =
            name.map { .object([("const", .string($0))]) } ?? .object([("type", "string"), ("not", .object([("const", "error")]))])
        return Schema.object(
            [("data", data), ("event", type), ("id", Schema.string), ("retry", Schema.integer)],
            required: name == nil ? ["data"] : ["data", "event"])
    }

    /// Streaming routes take the token as a query parameter too (browsers' `EventSource`/`WebSocket` send no headers).
    static let accessTokenParameter: JSONValue = .object([
        ("name", "access_token"), ("in", "query"), ("required", false), ("schema", Schema.string),
        ("description", "The access token, when an Authorization header cannot be sent"),
    ])

    static func errorResponse(_ description: String) -> JSONValue {
        .object([
            ("description", .string(description)),
            ("content", .object([("application/json", .object([("schema", ref("Error"))]))])),
        ])
    }

    static func ref(_ name: String) -> JSONValue { Schema.ref(name) }

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
}
