import XalorraML

/// Every route of the HTTP API (DESIGN §3), each defined once, with its bodies, query and answer.
public enum RouteTable {
    /// The routes, in the order the README documents them.
    public static let all: [Route] = Endpoint.allCases.map(\.definition)

    /// The routes by operation.
    static let byEndpoint: [Endpoint: Route] = Dictionary(uniqueKeysWithValues: all.map { ($0.endpoint, $0) })

    /// What an infer route's binary body holds.
    static let binaryTensors =
        "The JSON header (Inference-Header-Content-Length bytes), then each input's raw little-endian bytes, in "
        + "input order"

    /// `limit` and `offset`, with `limit` at most `maxLimit` (``Paging`` holds the bounds and the default).
    static func paging(maxLimit: Int, defaultLimit: Int = Paging.defaultLimit) -> [Route.QueryParameter] {
        Paging.parameters(max: maxLimit, defaultLimit: defaultLimit)
    }
}

extension Endpoint {
    // One place for every route's facts; `Schema` holds the shared schemas they name.
    fileprivate var definition: Route {
        typealias S = Schema
        let readiness = S.object([("name", S.string), ("ready", S.boolean)], required: ["name", "ready"])
        let role: JSONValue = .object([("enum", .array(["admin", "user"]))])
        switch self {
        case .root:
            return Route(
                self, "GET", "/", .public, "Service name and version",
                response: .json(S.object([("message", S.string), ("version", S.string)], required: ["message", "version"])))
        case .whoami:
            return Route(
                self, "GET", "/whoami", .user, scope: nil, "The caller's user_id, role and tenant from the token",
                response: .json(S.object(
                    [("user_id", S.string), ("role", S.string), ("tenant", S.string)],
                    required: ["user_id", "role", "tenant"])))
        case .echo:
            return Route(
                self, "POST", "/echo", .user, scope: nil,
                "Answer the JSON body as sent", body: .init(S.any), response: .json(S.any))
        case .predict:
            return Route(
                self, "POST", "/predict/{model}", .user, scope: .predict,
                "Predict with a model; {\"instances\": [[…], …], \"columns\"?: [names]} for a batch",
                body: .init(S.predictRequest), response: .json(S.predictResponse))

        case .register:
            return Route(
                self, "POST", "/users/register", .public, "Create an account", rateLimit: .register,
                body: .init(S.object([
                    ("username", S.usernameField), ("email", S.emailField), ("nama_lengkap", S.fullNameField),
                    ("password", S.passwordField),
                ], required: ["username", "email", "nama_lengkap", "password"])),
                response: .json(S.envelope(S.ref("User")), status: 201))
        case .login:
            return Route(
                self, "POST", "/users/login", .public, "Exchange a username or email and password for tokens",
                rateLimit: .login,
                body: .init(S.object([("username", S.nonEmpty), ("password", S.nonEmpty)], required: ["username", "password"])),
                response: .json(S.envelope(S.ref("Login"))), carriesCredentials: true)
        case .refresh:
            return Route(
                self, "POST", "/users/refresh", .public, "Rotate a refresh token for a new token pair",
                body: .init(S.object([("refresh_token", S.nonEmpty)], required: ["refresh_token"])),
                response: .json(S.envelope(S.ref("TokenPair"))), carriesCredentials: true)
        case .logout:
            return Route(
                self, "POST", "/users/logout", .user, "Revoke a refresh token",
                body: .init(S.object([("refresh_token", S.nonEmpty)], required: ["refresh_token"])), response: .empty)
        case .profile:
            return Route(
                self, "GET", "/users/profile", .user, "The caller's profile", response: .json(S.envelope(S.ref("User"))))
        case .updateProfile:
            return Route(
                self, "PUT", "/users/profile", .user, "Update the caller's email or full name",
                body: .init(S.object([("email", S.emailField), ("nama_lengkap", S.fullNameField)], required: [])),
                response: .json(S.envelope(S.ref("User"))))
        case .changePassword:
            return Route(
                self, "POST", "/users/change-password", .user, "Change the caller's password; revokes refresh tokens",
                body: .init(S.object(
                    [("current_password", S.nonEmpty), ("new_password", S.passwordField)],
                    required: ["current_password", "new_password"])),
                response: .json(S.envelope(.object([("type", "null")]))))

        case .sendMessage:
            return Route(
                self, "POST", "/chat/message", .user, scope: .chat,
                "Send a message into a new or existing conversation (\"stream\": true for SSE)", rateLimit: .chat,
                body: .init(S.object([
                    ("message", ChatRules.messageRule.schema),
                    ("conversation_id", S.string), ("stream", S.boolean),
                ], required: ["message"])),
                response: .jsonOrEvents(S.envelope(S.ref("ChatReply")), events: S.ref("ChatEvent")))
        case .conversations:
            return Route(
                self, "GET", "/chat/histories", .user, scope: .chat, "List the caller's conversations",
                query: [
                    .init("search", ConversationQuery.searchRule.schema),
                    .init("sort", S.oneOf(ConversationQuery.Sort.allCases)),
                    .init("order", S.oneOf(ConversationQuery.Order.allCases)),
                ] + RouteTable.paging(maxLimit: ConversationQuery.maxLimit),
                response: .json(S.page(S.ref("Conversation"))))
        case .conversation:
            return Route(
                self, "GET", "/chat/histories/{conversation_id}", .user, scope: .chat,
                "One conversation with its messages",
                query: RouteTable.paging(
                    maxLimit: ChatRules.maxMessagesPage, defaultLimit: ChatRules.defaultMessagesPage),
                response: .json(S.envelope(S.object([
                    ("id", S.string), ("title", S.string), ("created_at", S.string), ("updated_at", S.string),
                    ("messages", S.array(S.ref("ChatMessage"))), ("message_count", S.integer),
                ], required: ["id", "title", "created_at", "updated_at", "messages", "message_count"]))))
        case .renameConversation:
            return Route(
                self, "PUT", "/chat/histories/{conversation_id}/title", .user, scope: .chat, "Rename a conversation",
                body: .init(S.object(
                    [("title", ChatRules.titleRule.schema)],
                    required: ["title"])),
                response: .json(S.envelope(S.object(
                    [("id", S.string), ("title", S.string), ("updated_at", S.string)], required: ["id", "title", "updated_at"]))))
        case .deleteConversation:
            return Route(
                self, "DELETE", "/chat/histories/{conversation_id}", .user, scope: .chat,
                "Delete a conversation and its messages",
                response: .empty)

        case .logs:
            return Route(
                self, "GET", "/logs", .user, scope: .logsRead,
                "Logged predictions of the caller's tenant (model, since, until, limit, offset)",
                query: [.init("model"), .init("since"), .init("tenant"), .init("until")]
                    + RouteTable.paging(maxLimit: LogQuery.maxLimit),
                response: .json(S.page(S.ref("LogItem"))))
        case .logStream:
            return Route(
                self, "GET", "/logs/stream", .user, scope: .logsRead,
                "Server-Sent Events: each prediction as it is logged (id: its log id; Last-Event-ID or after= resumes)",
                query: [.init("model"), .init("tenant"), .init("after", Paging.offset.schema)],
                response: .events(S.ref("LogItem")))
        case .logSocket:
            return Route(
                self, "GET", "/ws/predictions", .user, scope: .logsRead,
                "WebSocket: each prediction as it is logged (after= resumes after that log id)",
                query: [.init("model"), .init("tenant"), .init("after", Paging.offset.schema)],
                response: .socket(S.ref("LogItem")))
        case .logExport:
            return Route(
                self, "GET", "/logs/export", .user, scope: .logsRead,
                "The whole prediction log of the caller's tenant, streamed as NDJSON or CSV (format, model, since, "
                    + "until, tenant)",
                query: [
                    .init(
                        "format",
                        S.withDefault(S.oneOf(LogExportFormat.allCases), .string(LogExportFormat.standard.rawValue))),
                    .init("model"), .init("since"), .init("tenant"), .init("until"),
                ],
                response: .text(
                    contentType: LogExportFormat.standard.contentType,
                    alternatives: LogExportFormat.allCases.filter { $0 != .standard }.map(\.contentType)))

        case .models:
            return Route(
                self, "GET", "/models", .user, scope: .modelsRead,
                "Models of the caller's tenant with their newest versions (limit, offset, tenant)",
                query: [.init("tenant")] + RouteTable.paging(maxLimit: ModelQuery.maxLimit),
                response: .json(S.page(S.ref("ModelSummary"))))
        case .model:
            return Route(
                self, "GET", "/models/{name}", .user, scope: .modelsRead, "A model and its versions, newest first",
                response: .json(S.envelope(S.object([
                    ("name", S.string), ("tenant", S.string),
                    ("latest_version", .object([("type", .array(["string", "null"]))])),
                    ("versions", S.array(S.ref("ModelVersion"))),
                ], required: ["name", "tenant", "latest_version", "versions"]))))
        case .deleteModel:
            return Route(
                self, "DELETE", "/models/{name}", .user, scope: .train,
                "Delete a model and all its versions", response: .empty)
        case .modelVersion:
            return Route(
                self, "GET", "/models/{name}/versions/{version}", .user, scope: .modelsRead,
                "One model version (a number or `latest`): kind, metrics, features",
                response: .json(S.envelope(S.ref("ModelVersion"))))
        case .exportModelVersion:
            return Route(
                self, "GET", "/models/{name}/versions/{version}/export", .user, scope: .modelsRead,
                "A model version as a portable JSON document",
                response: .json(S.object(
                    [("format", S.string), ("format_version", S.integer), ("model", .object([("type", "object")]))],
                    required: ["format", "format_version", "model"])))
        case .deleteModelVersion:
            return Route(
                self, "DELETE", "/models/{name}/versions/{version}", .user, scope: .train,
                "Delete one model version", response: .empty)
        case .importModel:
            return Route(
                self, "POST", "/models/{name}/import", .user, scope: .train,
                "Import an XGBoost JSON model, a LightGBM text model or an export as a new version (201)",
                body: .init(S.modelImport), response: .json(S.envelope(S.ref("ModelVersion")), status: 201),
                bodyLimit: .upload)

        case .train:
            return Route(
                self, "POST", "/train/{model}", .user, scope: .train,
                "Queue a training job: CSV body with ?target=…, or JSON rows (202 with the job)",
                query: [
                    .init("target", TrainingRequest.targetRule.schema), .init("kind", TrainingRequest.kindRule.schema),
                ] + Hyperparameters.fields.map { Route.QueryParameter($0.name, $0.rule.schema) },
                body: .init(S.trainingRequest, csv: "CSV with a header row; ?target=COLUMN&kind=…"),
                response: .json(S.envelope(S.ref("TrainingJob")), status: 202), bodyLimit: .upload)
        case .trainingJobs:
            return Route(
                self, "GET", "/train/jobs", .user, scope: .train,
                "Training jobs of the caller's tenant, newest first (model, status, limit, offset)",
                query: [.init("tenant"), .init("model"), .init("status", S.oneOf(TrainingJob.Status.allCases))]
                    + RouteTable.paging(maxLimit: TrainingJobQuery.maxLimit),
                response: .json(S.page(S.ref("TrainingJob"))))
        case .trainingJob:
            return Route(
                self, "GET", "/train/jobs/{id}", .user, scope: .train, "One training job with its progress",
                response: .json(S.envelope(S.ref("TrainingJob"))))
        case .cancelTrainingJob:
            return Route(
                self, "DELETE", "/train/jobs/{id}", .user, scope: .train, "Cancel a queued or running training job",
                response: .json(S.envelope(S.ref("TrainingJob"))))

        case .users:
            return Route(
                self, "GET", "/admin/users", .admin, "List users (search, limit, offset)",
                query: [.init("search")] + RouteTable.paging(maxLimit: UserQuery.maxLimit),
                response: .json(S.page(S.ref("User"))))
        case .createUser:
            return Route(
                self, "POST", "/admin/users", .admin, "Create a user with any role and tenant (201)",
                body: .init(S.object([
                    ("username", S.usernameField), ("email", S.emailField), ("nama_lengkap", S.fullNameField),
                    ("password", S.passwordField), ("role", role), ("tenant", S.tenantField),
                ], required: ["username", "email", "nama_lengkap", "password"])),
                response: .json(S.envelope(S.ref("User")), status: 201))
        case .user:
            return Route(
                self, "GET", "/admin/users/{username}", .admin, "One user", response: .json(S.envelope(S.ref("User"))))
        case .updateUser:
            return Route(
                self, "PATCH", "/admin/users/{username}", .admin,
                "Change a user's email, name, role, tenant, active flag or password",
                body: .init(S.object([
                    ("email", S.emailField), ("nama_lengkap", S.fullNameField), ("role", role),
                    ("tenant", S.tenantField), ("is_active", S.boolean), ("password", S.passwordField),
                ], required: [])),
                response: .json(S.envelope(S.ref("User"))))
        case .deleteUser:
            return Route(self, "DELETE", "/admin/users/{username}", .admin, "Delete a user", response: .empty)
        case .mintToken:
            return Route(
                self, "POST", "/admin/tokens", .admin, "Mint a token (the remote form of `xalorra token`)",
                body: .init(S.tokenRequest),
                response: .json(S.object([
                    ("access_token", S.string), ("token_type", S.string), ("expires_in", S.integer),
                    ("claims", .object([("type", "object")])),
                ], required: ["access_token", "token_type", "expires_in", "claims"])),
                carriesCredentials: true)

        case .keys, .createKey, .key, .revokeKey, .adminKeys, .audit:
            return keyAndAuditDefinition
        case .modelDrift:
            return driftDefinition

        case .health:
            return Route(
                self, "GET", "/health", .public, "Liveness: status, time and version",
                response: .json(S.object(
                    [("status", S.string), ("timestamp", S.string), ("version", S.string)],
                    required: ["status", "timestamp", "version"])))
        case .healthDetailed:
            return Route(
                self, "GET", "/health/detailed", .public,
                "Store round trip, uptime, host resources, AI service status", response: .json(S.any))
        case .routes:
            return Route(
                self, "GET", "/routes", .public, "This route table",
                response: .json(S.envelope(S.array(.object([("type", "object")])))))
        case .openAPI:
            return Route(
                self, "GET", "/openapi.json", .public, "OpenAPI 3.1 description of every route",
                response: .json(.object([("type", "object")])))
        case .docs:
            return Route(
                self, "GET", "/docs", .public, "Interactive API documentation",
                response: .text(contentType: "text/html; charset=utf-8"))
        case .metrics:
            return Route(
                self, "GET", "/metrics", .admin,
                "Prometheus metrics (XALORRA_METRICS may open it to anyone or to listed addresses)", rateLimit: .metrics,
                response: .text(contentType: "text/plain; version=0.0.4; charset=utf-8"), accessSetting: .metricsAccess)
        case .dashboard:
            return Route(
                self, "GET", "/ui", .public,
                "The dashboard: live predictions, models, training, chat and administration in a browser",
                rateLimit: .dashboard, response: .text(contentType: "text/html; charset=utf-8"))
        case .dashboardAsset:
            return Route(
                self, "GET", "/ui/{asset}", .public, "One of the dashboard's files (a script or style sheet), with an ETag",
                rateLimit: .dashboard, response: .text(
                    contentType: "text/javascript; charset=utf-8",
                    alternatives: ["text/css; charset=utf-8", "text/html; charset=utf-8"]))

        case .inferenceServer:
            return Route(
                self, "GET", "/v2", .public, "OIP server metadata: name, version, extensions",
                response: .json(S.object(
                    [("name", S.string), ("version", S.string), ("extensions", S.array(S.string))],
                    required: ["name", "version", "extensions"])),
                errorFormat: .inference)
        case .inferenceLive:
            return Route(
                self, "GET", "/v2/health/live", .public, "OIP liveness",
                response: .json(S.object([("live", S.boolean)], required: ["live"])), errorFormat: .inference)
        case .inferenceReady:
            return Route(
                self, "GET", "/v2/health/ready", .public, "OIP readiness: the store answers",
                response: .json(S.object([("ready", S.boolean)], required: ["ready"])), errorFormat: .inference)
        case .inferenceModel:
            return Route(
                self, "GET", "/v2/models/{name}", .user, scope: .predict,
                "OIP model metadata: versions, inputs, outputs",
                response: .json(S.ref("InferenceMetadata")), errorFormat: .inference)
        case .inferenceModelReady:
            return Route(
                self, "GET", "/v2/models/{name}/ready", .user, scope: .predict,
                "OIP model readiness", response: .json(readiness),
                errorFormat: .inference)
        case .inferenceVersion:
            return Route(
                self, "GET", "/v2/models/{name}/versions/{version}", .user, scope: .predict,
                "OIP metadata of one version",
                response: .json(S.ref("InferenceMetadata")), errorFormat: .inference)
        case .inferenceVersionReady:
            return Route(
                self, "GET", "/v2/models/{name}/versions/{version}/ready", .user, scope: .predict,
                "OIP readiness of one version",
                response: .json(readiness), errorFormat: .inference)
        case .infer:
            return Route(
                self, "POST", "/v2/models/{name}/infer", .user, scope: .predict,
                "OIP inference with the newest version",
                body: .init(S.inferenceRequest, binary: RouteTable.binaryTensors),
                response: .jsonOrBinary(S.inferenceResponse), errorFormat: .inference)
        case .inferVersion:
            return Route(
                self, "POST", "/v2/models/{name}/versions/{version}/infer", .user, scope: .predict,
                "OIP inference with one version",
                body: .init(S.inferenceRequest, binary: RouteTable.binaryTensors),
                response: .jsonOrBinary(S.inferenceResponse), errorFormat: .inference)

        case .chatModels:
            return Route(
                self, "GET", "/v1/models", .user, scope: .chat, "OpenAI API: the models a chat completion may name",
                response: .json(S.chatModels), errorFormat: .openAI)
        case .chatModel:
            return Route(
                self, "GET", "/v1/models/{model}", .user, scope: .chat,
                "OpenAI API: one model a chat completion may name (404 model_not_found for any other)",
                response: .json(S.chatModel), errorFormat: .openAI)
        case .chatCompletions:
            return Route(
                self, "POST", "/v1/chat/completions", .user, scope: .chat,
                "OpenAI API: a chat completion by the configured responder, stored as a conversation "
                    + "(\"stream\": true for chat.completion.chunk events)",
                rateLimit: .chat, body: .init(S.chatCompletionRequest),
                response: .jsonOrEvents(S.chatCompletion, events: S.chatCompletionEvent),
                errorFormat: .openAI)
        }
    }
}
