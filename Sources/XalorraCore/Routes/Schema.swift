import XalorraML

/// JSON Schema, as the routes declare their bodies, queries and answers (OpenAPI 3.1 renders them as they are): the
/// shared schemas every route refers to by name, the field rules JSON Schema can say, and the helpers that write them.
public enum Schema {
    /// The shared schemas (`#/components/schemas/<name>`).
    public static let components: [(String, JSONValue)] = [
        ("Error", object([("error", errorObject), ("timestamp", string)], required: ["error", "timestamp"])),
        ("Prediction", object([
            ("model", string), ("input", numbers), ("prediction", number), ("version", string),
            ("contributions", contributions), ("probabilities", probabilities),
        ], required: ["model", "input", "prediction", "version"])),
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
        // `POST /chat/message` with `"stream": true`: a `delta` per piece of the reply, then `done` with the reply's
        // members, or an `error` (the envelope's inner object) when it fails part way (ChatController.send).
        ("ChatEvent", .object([("oneOf", .array([
            object([("delta", string)], required: ["delta"]),
            .object([("allOf", .array([
                object([("done", .object([("const", true)]))], required: ["done"]), ref("ChatReply"),
            ]))]),
            object([("error", errorObject)], required: ["error"]),
        ]))])),
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
        ("OpenAIError", openAIError),
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
            ("importances", object([
                ("gain", .object([("oneOf", .array([
                    .object([("type", "null")]),
                    .object([("type", "object"), ("additionalProperties", number)]),
                ]))])),
                ("splits", .object([("type", "object"), ("additionalProperties", integer)])),
            ], required: ["gain", "splits"])),
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
            ("inputs", array(tensorMetadata)), ("outputs", array(tensorMetadata)),
        ], required: ["name", "versions", "platform", "inputs", "outputs"])),
        ("LogItem", object([
            // A missing value (an empty CSV cell, a batch's null, a binary tensor's NaN) is logged as null, in its place.
            ("id", integer), ("timestamp", string), ("model", string), ("version", string),
            ("input", array(numberOrNull)),
            ("prediction", number), ("user_id", string), ("tenant", string), ("latency_ms", number),
        ], required: ["id", "timestamp", "model", "version", "input", "prediction", "user_id", "tenant", "latency_ms"])),
    ]

    // The field rules, as the bodies publish them: each schema is written by the rule the API checks with
    // (`UserRules`, `ChatRules`, `TokenRequest`, `Hyperparameters.fields`), so the two say the same.
    public static let usernameField = UserRules.usernameRule.schema
    public static let emailField = UserRules.emailRule.schema
    public static let fullNameField = UserRules.fullNameRule.schema
    public static let passwordField = UserRules.passwordRule.schema
    public static let tenantField = UserRules.tenantRule.schema
    /// A required string: not empty, not only whitespace.
    public static let nonEmpty = TextRule.required.schema

    /// The schema of a path parameter of `route`: model names and versions as ``ModelReference`` reads them, any
    /// other parameter a string (an unknown one is a 404, not a refusal). Outside deletions, the examples name the
    /// model that the import and training examples make, so that the documented calls work one after another.
    public static func pathParameter(_ name: String, of route: Route) -> JSONValue {
        let examples = route.method == "DELETE" ? [] : [name == "version" ? #""1""# : #""price""#]
        switch name {
        case "model": return withExamples(ModelReference.schema(versioned: route.endpoint == .predict), examples)
        case "name": return withExamples(ModelReference.nameRule.schema, examples)
        // Deleting takes a number only: `latest` would move under the caller's feet.
        case "version" where route.endpoint == .deleteModelVersion: return ModelReference.versionRule.schema
        case "version": return withExamples(ModelReference.versionSchema, examples)
        default: return string
        }
    }

    /// A time as `?since=`/`?until=` take it (``Timestamp/init(isoOrAgo:now:)``): a duration ago (`15m`, `7d`) or an
    /// ISO time (`2025-07-20`, `2025-07-20T14:21:11.768594Z`, `…+07:00`).
    public static let isoOrAgo: JSONValue = .object([("anyOf", .array([
        .object([("type", "string"), ("pattern", "^[0-9]*[1-9][0-9]*[smhdw]?$")]),
        .object([("type", "string"), ("pattern", .string(isoTimePattern))]),
    ]))])

    private static let isoTimePattern = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
        + "([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?(Z|[+-][01][0-9]:[0-5][0-9])?)?$"

    /// `POST /admin/tokens`: each member optional (the admin's own name and tenant, role `user`, one hour).
    public static let tokenRequest: JSONValue = object([
        ("user", TokenRequest.nameRule.schema), ("role", oneOf(Role.allCases)), ("tenant", TokenRequest.nameRule.schema),
        ("ttl", .object([("anyOf", .array([
            TokenRequest.ttlRule.schema,
            .object([("type", "string"), ("pattern", "^[0-9]*[1-9][0-9]*[smhdw]?$")]),
        ]))])),
    ], required: [])

    /// `POST /predict/{model}` (PredictRequest+JSON.swift): one row in the model's order (`features`, numbers only),
    /// or a batch (`instances`, `null` a missing value) with, optionally, its column names (`columns`), which a
    /// stored model matches to its features by name (extra columns ignored, a missing one a 422 naming it). With
    /// `columns`, every instance has one value per column.
    public static let predictRequest: JSONValue = .object([("oneOf", .array([
        object([
            ("features", .object([("type", "array"), ("items", number), ("minItems", 1)])), ("explain", explainFlag),
        ], required: ["features"]),
        object([
            ("columns", .object([("type", "array"), ("items", string), ("minItems", 1)])),
            ("instances", array(.object([
                ("type", "array"), ("minItems", 1), ("items", .object([("type", .array(["number", "null"]))])),
            ]))),
            ("explain", explainFlag),
        ], required: ["instances"]),
    ]))])

    /// `"explain": true` asks for each row's contributions (ExplainedPrediction).
    static let explainFlag: JSONValue = .object([
        ("type", "boolean"),
        ("description", "Add each row's \"contributions\": every feature's share of the margin (TreeSHAP), and \"bias\""),
    ])

    /// A multi-class model's class probabilities of one row, keyed by class label: `{"0": 0.1, "1": 0.7, "2": 0.2}`.
    static let probabilities: JSONValue = .object([("type", "object"), ("additionalProperties", number)])

    /// One row's explanation: `{"<feature>": x, …, "bias": b}`, summing to the margin; a multi-class model's is keyed
    /// by class label as its probabilities are, `{"<label>": {"<feature>": x, …, "bias": b}, …}`, each class's summing
    /// to that class's margin.
    static let contributions: JSONValue = .object([("oneOf", .array([
        flatContributions,
        .object([
            ("type", "object"), ("additionalProperties", flatContributions),
            ("description", "A multi-class model's: one explanation per class label, summing to that class's margin"),
        ]),
    ]))])

    /// `{"<feature>": x, …, "bias": b}`.
    static let flatContributions: JSONValue = .object([("type", "object"), ("additionalProperties", number)])

    /// One prediction, or a batch's; with `"explain": true`, their `contributions` (a `Prediction`'s own member, so
    /// that generated clients decode a single answer as their `Prediction` model).
    public static let predictResponse: JSONValue = .object([("oneOf", .array([
        ref("Prediction"),
        object([
            ("model", string), ("version", string), ("predictions", numbers), ("contributions", array(contributions)),
            ("probabilities", array(probabilities)),
        ],
               required: ["model", "version", "predictions"]),
    ]))])

    /// `POST /train/{model}` as JSON: the data and the hyperparameters. The example makes a linear model on `a`, `b`,
    /// `c` (the model the path parameters' example names).
    public static let trainingRequest: JSONValue = object([
        ("kind", TrainingRequest.kindRule.schema), ("target", TrainingRequest.targetRule.schema),
        ("columns", .object([
            ("type", "array"), ("items", NameRule.rule.schema), ("minItems", 1), ("maxItems", .int(ModelLimits.maxFeatures)),
        ])),
        ("rows", array(.object([
            ("type", .array(["array", "object"])), ("items", numberOrNull), ("additionalProperties", numberOrNull),
        ]))),
    ] + Hyperparameters.fields.map { ($0.name, $0.rule.schema) }, required: ["target", "rows"], examples: [
        #"{"kind": "linear", "target": "y", "columns": ["a", "b", "c", "y"], "rows": [[0.1, 1, 5, 2.1], "#
            + #"[0.9, 2, 4, 3.9], [0.2, 3, 3, 6.2], [0.8, 4, 2, 8.1], [0.3, 5, 1, 9.8], [0.7, 6, 0, 12.2]]}"#,
    ])

    /// `POST /models/{name}/import`: an XGBoost JSON model (`save_model("m.json")`) or a document from
    /// `GET /models/{name}/versions/{version}/export`; the example is a one-tree gbdt on `a`, `b`, `c`, as the
    /// training example makes.
    public static let modelImport: JSONValue = withExamples(.object([("type", "object")]), [
        #"{"format": "xalorra-model", "kind": "gbdt", "features": ["a", "b", "c"], "model": {"type": "trees", "#
            + #""objective": "regression", "base_margin": 0, "feature_count": 3, "float32": false, "trees": [{"#
            + #""feature": [0, -1, -1], "threshold": [0.5, 0, 0], "left": [1, 0, 0], "right": [2, 0, 0], "#
            + #""default_left": [1, 1, 1], "value": [0, 1, 2]}]}}"#,
    ])

    /// The error envelope's `error`: what went wrong, and for a refused body, which fields and why.
    static let errorObject: JSONValue = object([
        ("code", errorCode), ("message", string), ("retry_after", integer), ("hint", string),
        ("details", array(object([("field", string), ("message", string)], required: ["field", "message"]))),
    ], required: ["code", "message"])

    /// The error envelope's `code`: one of ``XalorraError/Code/all``'s names (the list the README's table follows).
    static let errorCode: JSONValue = {
        var names: [String] = []
        for code in XalorraError.Code.all where !names.contains(code.name) { names.append(code.name) }
        return .object([("type", "string"), ("enum", .array(names.map(JSONValue.string)))])
    }()

    /// A cell of data: a number, or `null` for a missing value.
    static let numberOrNull: JSONValue = .object([("type", .array(["number", "null"]))])

    /// An Open Inference Protocol request: input tensors, row-major, flat or nested (one level: a row's values).
    /// The binary tensor data extension's `parameters` are declared too (`binary_data_size` on an input whose bytes
    /// follow the JSON header; `binary_data_output` or an output's `binary_data` for a binary answer). The example
    /// asks the model the training and import examples make (features `a`, `b`, `c`) for one row.
    public static let inferenceRequest: JSONValue = object([
        ("id", string),
        ("inputs", .object([("type", "array"), ("minItems", 1), ("items", object([
            ("name", string),
            ("shape", .object([
                ("type", "array"), ("items", IntegerRule(0...InferenceRequest.maxValues).schema), ("minItems", 1),
                ("maxItems", 2),
            ])),
            ("datatype", oneOf(InferenceDatatype.allCases)),
            // Every array has `items`: generators drop an operation whose tensor data is an array of anything.
            ("data", array(.object([("anyOf", .array([tensorValue, array(tensorValue)]))]))),
            ("parameters", tensorParameters("binary_data_size", IntegerRule(atLeast: 0).schema)),
        ], required: ["name", "shape", "datatype", "data"]))])),
        ("outputs", array(object([
            ("name", .object([("enum", .array(["predict"]))])),
            ("parameters", tensorParameters("binary_data", boolean)),
        ], required: ["name"]))),
        ("parameters", tensorParameters("binary_data_output", boolean)),
    ], required: ["inputs"], examples: [
        #"{"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP64", "data": [[0.4, 2, 3]]}]}"#,
    ])

    /// An Open Inference Protocol response: one output tensor of predictions.
    public static let inferenceResponse: JSONValue = object([
        ("model_name", string), ("model_version", string), ("id", string),
        ("outputs", array(object([
            ("name", string), ("shape", array(integer)), ("datatype", string), ("data", numbers),
            ("parameters", tensorParameters("binary_data_size", integer)),
        ], required: ["name", "shape", "datatype", "data"]))),
    ], required: ["model_name", "model_version", "outputs"])

    /// One value of a tensor's `data`: a number, or a boolean for `BOOL`.
    static let tensorValue: JSONValue = .object([("type", .array(["number", "boolean"]))])

    /// A tensor's (or a request's) `parameters`: the one this API reads, and any other (the protocol lets a client
    /// send its own).
    static func tensorParameters(_ name: String, _ schema: JSONValue) -> JSONValue {
        object([(name, schema)], required: [])
    }

    /// A tensor's description in model metadata.
    static let tensorMetadata: JSONValue = object(
        [("name", string), ("datatype", string), ("shape", array(integer))], required: ["name", "datatype", "shape"])

    /// An object with `properties`, of which `required` must be present.
    public static func object(_ properties: [(String, JSONValue)], required: [String]) -> JSONValue {
        .object([
            ("type", "object"), ("properties", .object(properties)),
            ("required", .array(required.map { .string($0) })),
        ])
    }

    /// An object with `properties` and `examples` of whole valid values, written as JSON text.
    public static func object(
        _ properties: [(String, JSONValue)], required: [String], examples: [String]
    ) -> JSONValue {
        withExamples(object(properties, required: required), examples)
    }

    /// `schema` with `examples` (JSON text): documentation, and the values schema fuzzers try first.
    public static func withExamples(_ schema: JSONValue, _ examples: [String]) -> JSONValue {
        guard case .object(let members) = schema else { return schema }
        let values = examples.compactMap { try? JSONParser.parse(Array($0.utf8)) }
        return values.isEmpty ? schema : .object(members + [("examples", .array(values))])
    }

    /// `schema` with a `default` (what the server takes when the member or parameter is absent).
    public static func withDefault(_ schema: JSONValue, _ value: JSONValue) -> JSONValue {
        guard case .object(let members) = schema else { return schema }
        return .object(members + [("default", value)])
    }

    /// A reference to a shared schema.
    public static func ref(_ name: String) -> JSONValue { .object([("$ref", .string("#/components/schemas/\(name)"))]) }

    /// An array of `items`.
    public static func array(_ items: JSONValue) -> JSONValue { .object([("type", "array"), ("items", items)]) }

    /// One of the given strings.
    public static func oneOf<T: RawRepresentable>(_ cases: [T]) -> JSONValue where T.RawValue == String {
        .object([("enum", .array(cases.map { .string($0.rawValue) }))])
    }

    /// The Aksara success envelope around `data`.
    public static func envelope(_ data: JSONValue) -> JSONValue {
        object([("data", data), ("message", string), ("timestamp", string)], required: ["data", "message", "timestamp"])
    }

    /// A page of `items`: `{"data": [...], "pagination": {...}, "timestamp"}`.
    public static func page(_ items: JSONValue) -> JSONValue {
        object([("data", array(items)), ("pagination", pagination), ("timestamp", string)],
            required: ["data", "pagination", "timestamp"])
    }

    static let pagination: JSONValue = object([
        ("total", integer), ("limit", integer), ("offset", integer), ("has_next", boolean), ("has_prev", boolean),
    ], required: ["total", "limit", "offset", "has_next", "has_prev"])

    public static let number: JSONValue = .object([("type", "number")])
    public static let string: JSONValue = .object([("type", "string")])
    public static let integer: JSONValue = .object([("type", "integer")])
    public static let boolean: JSONValue = .object([("type", "boolean")])
    public static let numbers: JSONValue = array(number)
    /// Any JSON value.
    public static let any: JSONValue = .object([])
}
