import XalorraCore
import XalorraML

/// The document's data: component schemas, the field rules JSON Schema can say, and each route's bodies and query
/// parameters, by route key.
extension OpenAPIDocument {
    static let schemas: [(String, JSONValue)] = [
        ("Error", object([
            ("error", object([
                ("code", string), ("message", string), ("retry_after", integer),
                ("details", .object([("type", "array"), ("items", object([("field", string), ("message", string)], required: ["field", "message"]))])),
            ], required: ["code", "message"])),
            ("timestamp", string),
        ], required: ["error", "timestamp"])),
        ("Prediction", object([("model", string), ("input", numbers), ("prediction", number), ("version", string)],
            required: ["model", "input", "prediction", "version"])),
        ("ChatMessage", object([
            ("id", string), ("content", string), ("sender", .object([("enum", .array(["user", "ai"]))])),
            ("timestamp", string),
        ], required: ["id", "content", "sender", "timestamp"])),
        ("Conversation", object([
            ("id", string), ("title", string), ("created_at", string), ("updated_at", string),
            ("message_count", integer),
            ("last_message", .object([("oneOf", .array([
                .object([("type", "null")]),
                object([("content", string), ("sender", string), ("timestamp", string)], required: ["content", "sender", "timestamp"]),
            ]))])),
        ], required: ["id", "title", "created_at", "updated_at", "message_count", "last_message"])),
        ("ChatReply", object([
            ("response", string), ("conversation_id", string), ("message_id", string),
            ("user_message", object([("id", string), ("content", string), ("timestamp", string)], required: ["id", "content", "timestamp"])),
            ("ai_message", object([("id", string), ("content", string), ("timestamp", string)], required: ["id", "content", "timestamp"])),
        ], required: ["response", "conversation_id", "message_id", "user_message", "ai_message"])),
        ("User", object([
            ("id", integer), ("username", string), ("email", string), ("nama_lengkap", string),
            ("role", .object([("enum", .array(["admin", "user"]))])), ("tenant", string),
            ("is_active", .object([("type", "boolean")])), ("created_at", string), ("updated_at", string),
        ], required: ["id", "username", "email", "nama_lengkap", "role", "tenant", "is_active", "created_at", "updated_at"])),
        ("TokenPair", object([
            ("access_token", string), ("refresh_token", string), ("token_type", string), ("expires_in", integer),
        ], required: ["access_token", "refresh_token", "token_type", "expires_in"])),
        ("Login", object([
            ("access_token", string), ("refresh_token", string), ("token_type", string), ("expires_in", integer),
            ("user", ref("User")),
        ], required: ["access_token", "refresh_token", "token_type", "expires_in", "user"])),
        ("InferenceError", object([("error", string)], required: ["error"])),
        ("Metrics", object([
            ("rows", integer), ("rmse", number), ("mae", number), ("r2", number), ("log_loss", number),
            ("accuracy", number), ("auc", number),
        ], required: ["rows"])),
        ("ModelVersion", object([
            ("name", string), ("version", string), ("kind", .object([("enum", .array(ModelKind.allCases.map { .string($0.rawValue) }))])),
            ("tenant", string), ("features", .object([("type", "array"), ("items", string)])), ("feature_count", integer),
            ("trees", integer), ("metrics", .object([("oneOf", .array([.object([("type", "null")]), ref("Metrics")]))])),
            ("hyperparameters", .object([("type", "object")])), ("size_bytes", integer), ("created_at", string),
            ("created_by", string),
        ], required: [
            "name", "version", "kind", "tenant", "features", "feature_count", "trees", "metrics", "hyperparameters",
            "size_bytes", "created_at", "created_by",
        ])),
        ("ModelSummary", object([
            ("name", string), ("tenant", string), ("latest_version", string), ("versions", integer), ("kind", string),
            ("feature_count", integer), ("metrics", .object([("oneOf", .array([.object([("type", "null")]), ref("Metrics")]))])),
            ("updated_at", string),
        ], required: ["name", "tenant", "latest_version", "versions", "kind", "feature_count", "metrics", "updated_at"])),
        ("TrainingJob", object([
            ("id", string), ("model", string), ("tenant", string), ("kind", string), ("target", string), ("rows", integer),
            ("status", .object([("enum", .array(TrainingJob.Status.allCases.map { .string($0.rawValue) }))])),
            ("progress", object([("done", integer), ("total", integer)], required: ["done", "total"])),
            ("validation_loss", .object([("type", .array(["number", "null"]))])),
            ("error", .object([("type", .array(["string", "null"]))])),
            ("version", .object([("type", .array(["string", "null"]))])),
            ("hyperparameters", .object([("type", "object")])), ("created_by", string), ("created_at", string),
            ("started_at", .object([("type", .array(["string", "null"]))])),
            ("finished_at", .object([("type", .array(["string", "null"]))])),
        ], required: [
            "id", "model", "tenant", "kind", "target", "rows", "status", "progress", "validation_loss", "error", "version",
            "hyperparameters", "created_by", "created_at", "started_at", "finished_at",
        ])),
        ("InferenceMetadata", object([
            ("name", string), ("versions", .object([("type", "array"), ("items", string)])), ("platform", string),
            ("inputs", .object([("type", "array")])), ("outputs", .object([("type", "array")])),
        ], required: ["name", "versions", "platform", "inputs", "outputs"])),
        ("LogItem", object([
            ("id", integer), ("timestamp", string), ("model", string), ("version", string), ("input", numbers),
            ("prediction", number), ("user_id", string), ("tenant", string), ("latency_ms", number),
        ], required: ["id", "timestamp", "model", "version", "input", "prediction", "user_id", "tenant", "latency_ms"])),
    ]

    // The field rules of `UserRules`, as far as JSON Schema can say them (the server also trims surrounding space
    // and counts the password's bytes).
    static let usernameField: JSONValue = .object([
        ("type", "string"), ("minLength", 3), ("maxLength", 50), ("pattern", "^[A-Za-z0-9_]+$"),
    ])
    static let emailField: JSONValue = .object([
        ("type", "string"), ("maxLength", 254), ("pattern", "^[^@\\s]+@[^@\\s]+\\.[^@\\s.]+$"),
    ])
    static let fullNameField: JSONValue = .object([
        ("type", "string"), ("minLength", 1), ("maxLength", 100), ("pattern", "\\S"),
    ])
    static let passwordField: JSONValue = .object([("type", "string"), ("minLength", 6), ("maxLength", 72)])
    static let tenantField: JSONValue = .object([
        ("type", "string"), ("minLength", 1), ("maxLength", 100), ("pattern", "^[^\\s]+$"),
    ])
    static let nonEmpty: JSONValue = .object([("type", "string"), ("minLength", 1), ("pattern", "\\S")])

    static let requestBodies: [String: JSONValue] = [
        "POST /predict/{model}": .object([("oneOf", .array([
            object([("features", numbers)], required: ["features"]),
            object([("instances", .object([("type", "array"), ("items", numbers)]))], required: ["instances"]),
        ]))]),
        "POST /echo": .object([]),
        "POST /chat/message": object([
            ("message", .object([("type", "string"), ("minLength", 1), ("maxLength", .int(ChatRules.maxMessage))])),
            ("conversation_id", string), ("stream", .object([("type", "boolean")])),
        ], required: ["message"]),
        "PUT /chat/histories/{conversation_id}/title": object(
            [("title", .object([("type", "string"), ("minLength", 1), ("maxLength", .int(ChatRules.maxTitle))]))],
            required: ["title"]),
        "POST /users/register": object([
            ("username", usernameField), ("email", emailField), ("nama_lengkap", fullNameField),
            ("password", passwordField),
        ], required: ["username", "email", "nama_lengkap", "password"]),
        "POST /users/login": object([("username", nonEmpty), ("password", nonEmpty)], required: ["username", "password"]),
        "POST /users/refresh": object([("refresh_token", string)], required: ["refresh_token"]),
        "POST /users/logout": object([("refresh_token", string)], required: ["refresh_token"]),
        "PUT /users/profile": object([("email", emailField), ("nama_lengkap", fullNameField)], required: []),
        "POST /users/change-password": object(
            [("current_password", nonEmpty), ("new_password", passwordField)], required: ["current_password", "new_password"]),
        "POST /admin/users": object([
            ("username", usernameField), ("email", emailField), ("nama_lengkap", fullNameField),
            ("password", passwordField), ("role", .object([("enum", .array(["admin", "user"]))])), ("tenant", tenantField),
        ], required: ["username", "email", "nama_lengkap", "password"]),
        "PATCH /admin/users/{username}": object([
            ("email", emailField), ("nama_lengkap", fullNameField), ("role", .object([("enum", .array(["admin", "user"]))])),
            ("tenant", tenantField), ("is_active", .object([("type", "boolean")])), ("password", passwordField),
        ], required: []),
        "POST /train/{model}": object([
            ("kind", .object([("enum", .array(ModelKind.trainable.map { .string($0.rawValue) }))])),
            ("target", nonEmpty), ("columns", .object([("type", "array"), ("items", string), ("minItems", 1)])),
            ("rows", .object([("type", "array"), ("items", .object([("type", .array(["array", "object"]))]))])),
            ("trees", .object([("type", "integer"), ("minimum", 1), ("maximum", 10_000)])),
            ("max_depth", .object([("type", "integer"), ("minimum", 1), ("maximum", 16)])),
            ("learning_rate", .object([("type", "number"), ("exclusiveMinimum", 0), ("maximum", 1)])),
            ("min_samples_leaf", .object([("type", "integer"), ("minimum", 1)])),
            ("l2", .object([("type", "number"), ("minimum", 0)])),
            ("bins", .object([("type", "integer"), ("minimum", 2), ("maximum", 65_535)])),
            ("valid_fraction", .object([("type", "number"), ("minimum", 0), ("exclusiveMaximum", 1)])),
            ("early_stopping", .object([("type", .array(["integer", "null"])), ("minimum", 1)])),
            ("seed", .object([("type", "integer"), ("minimum", 0)])),
            ("objective", .object([("enum", .array(Hyperparameters.Objective.allCases.map { .string($0.rawValue) }))])),
            ("threads", .object([("type", "integer"), ("minimum", 1), ("maximum", 256)])),
        ], required: ["target", "rows"]),
        "POST /models/{name}/import": .object([("type", "object")]),
        "POST /v2/models/{name}/infer": inferBody,
        "POST /v2/models/{name}/versions/{version}/infer": inferBody,
        "POST /admin/tokens": object([
            ("user", string), ("role", .object([("enum", .array(["admin", "user"]))])), ("tenant", string),
            ("ttl", .object([("type", .array(["integer", "string"]))])),
        ], required: []),
    ]

    /// An Open Inference Protocol request: input tensors, row-major, flat or nested.
    static let inferBody: JSONValue = object([
        ("id", string),
        ("inputs", .object([("type", "array"), ("minItems", 1), ("items", object([
            ("name", string), ("shape", .object([("type", "array"), ("items", .object([("type", "integer"), ("minimum", 0)])), ("minItems", 1), ("maxItems", 2)])),
            ("datatype", .object([("enum", .array(["FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"]))])),
            ("data", .object([("type", "array")])),
        ], required: ["name", "shape", "datatype", "data"]))])),
    ], required: ["inputs"])

    /// Routes that also take a CSV body (the training data itself, with the settings in the query).
    static let csvBodies: [String: JSONValue] = [
        "POST /train/{model}": .object([("type", "string"), ("description", "CSV with a header row; ?target=COLUMN&kind=…")]),
    ]

    /// What each message of a WebSocket route carries.
    static let socketMessages: [String: String] = [
        "GET /ws/predictions": "LogItem (#/components/schemas/LogItem) as JSON",
    ]

    /// Routes whose success is not 200.
    static let successStatus: [String: String] = [
        "POST /users/register": "201", "POST /admin/users": "201", "POST /users/logout": "204",
        "DELETE /admin/users/{username}": "204", "DELETE /chat/histories/{conversation_id}": "204",
        "DELETE /models/{name}": "204", "DELETE /models/{name}/versions/{version}": "204",
        "POST /models/{name}/import": "201", "POST /train/{model}": "202",
    ]

    /// The Aksara success envelope around `data`.
    static func envelope(_ data: JSONValue) -> JSONValue {
        object([("data", data), ("message", string), ("timestamp", string)], required: ["data", "message", "timestamp"])
    }

    static let pagination: JSONValue = object([
        ("total", integer), ("limit", integer), ("offset", integer), ("has_next", .object([("type", "boolean")])),
        ("has_prev", .object([("type", "boolean")])),
    ], required: ["total", "limit", "offset", "has_next", "has_prev"])

    static let successBodies: [String: JSONValue] = [
        "POST /chat/message": envelope(ref("ChatReply")),
        "GET /chat/histories": object([
            ("data", .object([("type", "array"), ("items", ref("Conversation"))])), ("pagination", pagination),
            ("timestamp", string),
        ], required: ["data", "pagination", "timestamp"]),
        "GET /chat/histories/{conversation_id}": envelope(object([
            ("id", string), ("title", string), ("created_at", string), ("updated_at", string),
            ("messages", .object([("type", "array"), ("items", ref("ChatMessage"))])), ("message_count", integer),
        ], required: ["id", "title", "created_at", "updated_at", "messages", "message_count"])),
        "PUT /chat/histories/{conversation_id}/title": envelope(object(
            [("id", string), ("title", string), ("updated_at", string)], required: ["id", "title", "updated_at"])),
        "POST /users/register": envelope(ref("User")),
        "POST /users/login": envelope(ref("Login")),
        "POST /users/refresh": envelope(ref("TokenPair")),
        "GET /users/profile": envelope(ref("User")),
        "PUT /users/profile": envelope(ref("User")),
        "POST /users/change-password": envelope(.object([("type", "null")])),
        "GET /admin/users": object([
            ("data", .object([("type", "array"), ("items", ref("User"))])), ("pagination", pagination), ("timestamp", string),
        ], required: ["data", "pagination", "timestamp"]),
        "POST /admin/users": envelope(ref("User")),
        "GET /admin/users/{username}": envelope(ref("User")),
        "PATCH /admin/users/{username}": envelope(ref("User")),
        "GET /": object([("message", string), ("version", string)], required: ["message", "version"]),
        "GET /whoami": object([("user_id", string), ("role", string), ("tenant", string)], required: ["user_id", "role", "tenant"]),
        "POST /predict/{model}": .object([("oneOf", .array([
            ref("Prediction"),
            object([("model", string), ("version", string), ("predictions", numbers)], required: ["model", "version", "predictions"]),
        ]))]),
        "GET /logs": object([
            ("data", .object([("type", "array"), ("items", ref("LogItem"))])), ("pagination", pagination),
            ("timestamp", string),
        ], required: ["data", "pagination", "timestamp"]),
        "GET /logs/stream": string,
        "GET /models": object([
            ("data", .object([("type", "array"), ("items", ref("ModelSummary"))])), ("pagination", pagination),
            ("timestamp", string),
        ], required: ["data", "pagination", "timestamp"]),
        "GET /models/{name}": envelope(object([
            ("name", string), ("tenant", string), ("latest_version", .object([("type", .array(["string", "null"]))])),
            ("versions", .object([("type", "array"), ("items", ref("ModelVersion"))])),
        ], required: ["name", "tenant", "latest_version", "versions"])),
        "GET /models/{name}/versions/{version}": envelope(ref("ModelVersion")),
        "GET /models/{name}/versions/{version}/export": object([
            ("format", string), ("format_version", integer), ("model", .object([("type", "object")])),
        ], required: ["format", "format_version", "model"]),
        "POST /models/{name}/import": envelope(ref("ModelVersion")),
        "POST /train/{model}": envelope(ref("TrainingJob")),
        "GET /train/jobs": object([
            ("data", .object([("type", "array"), ("items", ref("TrainingJob"))])), ("pagination", pagination),
            ("timestamp", string),
        ], required: ["data", "pagination", "timestamp"]),
        "GET /train/jobs/{id}": envelope(ref("TrainingJob")),
        "DELETE /train/jobs/{id}": envelope(ref("TrainingJob")),
        "GET /v2": object([("name", string), ("version", string), ("extensions", .object([("type", "array")]))], required: ["name", "version", "extensions"]),
        "GET /v2/health/live": object([("live", .object([("type", "boolean")]))], required: ["live"]),
        "GET /v2/health/ready": object([("ready", .object([("type", "boolean")]))], required: ["ready"]),
        "GET /v2/models/{name}": ref("InferenceMetadata"),
        "GET /v2/models/{name}/versions/{version}": ref("InferenceMetadata"),
        "GET /v2/models/{name}/ready": object([("name", string), ("ready", .object([("type", "boolean")]))], required: ["name", "ready"]),
        "GET /v2/models/{name}/versions/{version}/ready": object([("name", string), ("ready", .object([("type", "boolean")]))], required: ["name", "ready"]),
        "POST /v2/models/{name}/infer": inferResponse,
        "POST /v2/models/{name}/versions/{version}/infer": inferResponse,
        "GET /health": object([("status", string), ("timestamp", string), ("version", string)], required: ["status", "timestamp", "version"]),
        "POST /admin/tokens": object([
            ("access_token", string), ("token_type", string), ("expires_in", integer), ("claims", .object([("type", "object")])),
        ], required: ["access_token", "token_type", "expires_in", "claims"]),
    ]

    static let inferResponse: JSONValue = object([
        ("model_name", string), ("model_version", string), ("id", string),
        ("outputs", .object([("type", "array"), ("items", object([
            ("name", string), ("shape", .object([("type", "array"), ("items", integer)])), ("datatype", string),
            ("data", numbers),
        ], required: ["name", "shape", "datatype", "data"]))])),
    ], required: ["model_name", "model_version", "outputs"])

    /// Streaming routes take the token as a query parameter too (browsers' `EventSource`/`WebSocket` send no headers).
    static let accessTokenParameter: JSONValue = .object([
        ("name", "access_token"), ("in", "query"), ("required", false), ("schema", string),
        ("description", "The access token, when an Authorization header cannot be sent"),
    ])

    static let queryParameters: [String: [JSONValue]] = {
        func parameter(_ name: String, _ schema: JSONValue) -> JSONValue {
            .object([("name", .string(name)), ("in", "query"), ("required", false), ("schema", schema)])
        }
        let filters = [
            parameter("model", string), parameter("since", string), parameter("tenant", string),
        ]
        let live = [parameter("model", string), parameter("tenant", string)]
        return [
            "GET /logs": filters + [
                parameter("until", string),
                parameter("limit", .object([("type", "integer"), ("minimum", 1), ("maximum", .int(LogQuery.maxLimit))])),
                parameter("offset", .object([("type", "integer"), ("minimum", 0)])),
            ],
            "GET /logs/stream": live,
            "GET /chat/histories": [
                parameter("search", string),
                parameter("sort", .object([("enum", .array(ConversationQuery.Sort.allCases.map { .string($0.rawValue) }))])),
                parameter("order", .object([("enum", .array(ConversationQuery.Order.allCases.map { .string($0.rawValue) }))])),
                parameter("limit", .object([("type", "integer"), ("minimum", 1), ("maximum", .int(ConversationQuery.maxLimit))])),
                parameter("offset", .object([("type", "integer"), ("minimum", 0)])),
            ],
            "GET /chat/histories/{conversation_id}": [
                parameter("limit", .object([("type", "integer"), ("minimum", 1), ("maximum", .int(ChatRules.maxMessagesPage))])),
                parameter("offset", .object([("type", "integer"), ("minimum", 0)])),
            ],
            "GET /admin/users": [
                parameter("search", string),
                parameter("limit", .object([("type", "integer"), ("minimum", 1), ("maximum", .int(UserQuery.maxLimit))])),
                parameter("offset", .object([("type", "integer"), ("minimum", 0)])),
            ],
            "GET /ws/predictions": live,
            "GET /models": [
                parameter("tenant", string),
                parameter("limit", .object([("type", "integer"), ("minimum", 1), ("maximum", .int(ModelQuery.maxLimit))])),
                parameter("offset", .object([("type", "integer"), ("minimum", 0)])),
            ],
            "GET /train/jobs": [
                parameter("tenant", string), parameter("model", string),
                parameter("status", .object([("enum", .array(TrainingJob.Status.allCases.map { .string($0.rawValue) }))])),
                parameter("limit", .object([("type", "integer"), ("minimum", 1), ("maximum", .int(TrainingJobQuery.maxLimit))])),
                parameter("offset", .object([("type", "integer"), ("minimum", 0)])),
            ],
            "POST /train/{model}": [
                parameter("target", string),
                parameter("kind", .object([("enum", .array(ModelKind.trainable.map { .string($0.rawValue) }))])),
            ] + Hyperparameters.fieldNames.map { parameter($0, string) },
        ]
    }()
}
