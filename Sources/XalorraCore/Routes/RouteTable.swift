/// Every route of the HTTP API (DESIGN §3), defined once.
public enum RouteTable {
    /// The routes, grouped as the README documents them.
    public static let all: [Route] = xalorra + users + chat + predictionLog + models + training + admin
        + service + inference

    /// The Xalorra internal API v0.3 (the seed's four endpoints).
    static let xalorra: [Route] = [
        Route("GET", "/", .public, "Service name and version"),
        Route("GET", "/whoami", .user, "The caller's user_id, role and tenant from the token"),
        Route("POST", "/echo", .user, "Answer the JSON body as sent"),
        Route("POST", "/predict/{model}", .user, "Predict with a model; {\"instances\": [[…], …]} for a batch"),
    ]

    /// The Aksara AI API's users.
    static let users: [Route] = [
        Route("POST", "/users/register", .public, .register, "Create an account"),
        Route(
            "POST", "/users/login", .public, .login, "Exchange a username or email and password for tokens",
            carriesCredentials: true),
        Route("POST", "/users/refresh", .public, "Rotate a refresh token for a new token pair", carriesCredentials: true),
        Route("POST", "/users/logout", .user, "Revoke a refresh token"),
        Route("GET", "/users/profile", .user, "The caller's profile"),
        Route("PUT", "/users/profile", .user, "Update the caller's email or full name"),
        Route("POST", "/users/change-password", .user, "Change the caller's password; revokes refresh tokens"),
    ]

    /// The Aksara AI API's chat.
    static let chat: [Route] = [
        Route("POST", "/chat/message", .user, .chat, "Send a message into a new or existing conversation (\"stream\": true for SSE)"),
        Route("GET", "/chat/histories", .user, "List the caller's conversations"),
        Route("GET", "/chat/histories/{conversation_id}", .user, "One conversation with its messages"),
        Route("PUT", "/chat/histories/{conversation_id}/title", .user, "Rename a conversation"),
        Route("DELETE", "/chat/histories/{conversation_id}", .user, "Delete a conversation and its messages"),
    ]

    /// The prediction log and its realtime feeds.
    static let predictionLog: [Route] = [
        Route("GET", "/logs", .user, "Logged predictions of the caller's tenant (model, since, until, limit, offset)"),
        Route("GET", "/logs/stream", .user, "Server-Sent Events: each prediction as it is logged", transport: .eventStream),
        Route("GET", "/ws/predictions", .user, "WebSocket: each prediction as it is logged", transport: .webSocket),
    ]

    /// The model registry.
    static let models: [Route] = [
        Route("GET", "/models", .user, "Models of the caller's tenant with their newest versions (limit, offset, tenant)"),
        Route("GET", "/models/{name}", .user, "A model and its versions, newest first"),
        Route("DELETE", "/models/{name}", .user, "Delete a model and all its versions"),
        Route("GET", "/models/{name}/versions/{version}", .user, "One model version (a number or `latest`): kind, metrics, features"),
        Route("GET", "/models/{name}/versions/{version}/export", .user, "A model version as a portable JSON document"),
        Route("DELETE", "/models/{name}/versions/{version}", .user, "Delete one model version"),
        Route("POST", "/models/{name}/import", .user, "Import an XGBoost JSON model (or an export) as a new version (201)", bodyLimit: .upload),
    ]

    /// Training jobs.
    static let training: [Route] = [
        Route("POST", "/train/{model}", .user, "Queue a training job: CSV body with ?target=…, or JSON rows (202 with the job)", bodyLimit: .upload),
        Route("GET", "/train/jobs", .user, "Training jobs of the caller's tenant, newest first (model, status, limit, offset)"),
        Route("GET", "/train/jobs/{id}", .user, "One training job with its progress"),
        Route("DELETE", "/train/jobs/{id}", .user, "Cancel a queued or running training job"),
    ]

    /// Administration.
    static let admin: [Route] = [
        Route("GET", "/admin/users", .admin, "List users (search, limit, offset)"),
        Route("POST", "/admin/users", .admin, "Create a user with any role and tenant (201)"),
        Route("GET", "/admin/users/{username}", .admin, "One user"),
        Route("PATCH", "/admin/users/{username}", .admin, "Change a user's email, name, role, tenant, active flag or password"),
        Route("DELETE", "/admin/users/{username}", .admin, "Delete a user"),
        Route(
            "POST", "/admin/tokens", .admin, "Mint a token (the remote form of `xalorra token`)", carriesCredentials: true),
    ]

    /// Health, documentation and metrics.
    static let service: [Route] = [
        Route("GET", "/health", .public, "Liveness: status, time and version"),
        Route("GET", "/health/detailed", .public, "Store round trip, uptime, host resources, AI service status"),
        Route("GET", "/routes", .public, "This route table"),
        Route("GET", "/openapi.json", .public, "OpenAPI 3.1 description of every route"),
        Route("GET", "/docs", .public, "Interactive API documentation"),
        Route(
            "GET", "/metrics", .admin, "Prometheus metrics (XALORRA_METRICS may open it to anyone or to listed addresses)",
            accessSetting: .metricsAccess),
    ]

    /// The Open Inference Protocol (KServe v2); errors are the protocol's `{"error": "…"}`.
    static let inference: [Route] = [
        Route("GET", "/v2", .public, "OIP server metadata: name, version, extensions", errorFormat: .inference),
        Route("GET", "/v2/health/live", .public, "OIP liveness", errorFormat: .inference),
        Route("GET", "/v2/health/ready", .public, "OIP readiness: the store answers", errorFormat: .inference),
        Route("GET", "/v2/models/{name}", .user, "OIP model metadata: versions, inputs, outputs", errorFormat: .inference),
        Route("GET", "/v2/models/{name}/ready", .user, "OIP model readiness", errorFormat: .inference),
        Route("GET", "/v2/models/{name}/versions/{version}", .user, "OIP metadata of one version", errorFormat: .inference),
        Route("GET", "/v2/models/{name}/versions/{version}/ready", .user, "OIP readiness of one version", errorFormat: .inference),
        Route("POST", "/v2/models/{name}/infer", .user, "OIP inference with the newest version", errorFormat: .inference),
        Route("POST", "/v2/models/{name}/versions/{version}/infer", .user, "OIP inference with one version", errorFormat: .inference),
    ]
}
