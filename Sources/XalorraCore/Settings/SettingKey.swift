/// Every setting the product reads, with its environment name and default: the one table that the resolver,
/// `help`, the README and the man page's ENVIRONMENT section read.
public struct SettingKey: Sendable, Hashable {
    /// The environment variable (and `.env` key).
    public let environment: String
    /// The global flag that overrides it, if any.
    public let flag: String?
    /// The value used when nothing sets it, as text; `nil` when there is none.
    public let defaultValue: String?
    /// One line for the help text.
    public let summary: String
    /// A comma-separated list, whose flag may be repeated.
    public let isList: Bool

    init(environment: String, flag: String?, defaultValue: String?, summary: String, isList: Bool = false) {
        self.environment = environment
        self.flag = flag
        self.defaultValue = defaultValue
        self.summary = summary
        self.isList = isList
    }

    public static let home = SettingKey(
        environment: "XALORRA_HOME", flag: "--home", defaultValue: "~/.xalorra",
        summary: "Data directory: xalorra.db, logs/predictions.log, secret.key, credentials.json")
    public static let secretKey = SettingKey(
        environment: "SECRET_KEY", flag: nil, defaultValue: nil,
        summary: "HMAC secret for tokens; when unset, a random key is generated once into $XALORRA_HOME/secret.key")
    public static let algorithm = SettingKey(
        environment: "JWT_ALGORITHM", flag: nil, defaultValue: "HS256",
        summary: "Token signing algorithm: HS256, HS384 or HS512")
    public static let url = SettingKey(
        environment: "XALORRA_URL", flag: "--url", defaultValue: nil,
        summary: "Base URL of a running `xalorra serve`; commands then act over HTTP")
    public static let database = SettingKey(
        environment: "XALORRA_DATABASE_URL", flag: "--database", defaultValue: nil,
        summary: "The store: postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…] or sqlite:PATH (default: xalorra.db in XALORRA_HOME)")
    public static let token = SettingKey(
        environment: "XALORRA_TOKEN", flag: "--token", defaultValue: nil,
        summary: "Bearer token for remote mode (AUTH_TOKEN is read too, with or without `Bearer `)")
    public static let authToken = SettingKey(
        environment: "AUTH_TOKEN", flag: nil, defaultValue: nil,
        summary: "The Xalorra seed's name for the bearer token")
    public static let user = SettingKey(
        environment: "XALORRA_USER", flag: "--as", defaultValue: nil,
        summary: "Acting user in local mode (default: the OS user)")
    public static let defaultTenant = SettingKey(
        environment: "XALORRA_DEFAULT_TENANT", flag: nil, defaultValue: "default",
        summary: "The operator's tenant: local-mode operations and admins' imports (never a self-registered account's)")
    public static let predictionLog = SettingKey(
        environment: "XALORRA_PREDICTION_LOG", flag: nil, defaultValue: "on",
        summary: "on|off: also append each prediction to $XALORRA_HOME/logs/predictions.log")
    public static let accessLog = SettingKey(
        environment: "XALORRA_ACCESS_LOG", flag: nil, defaultValue: "on",
        summary: "on|off: `serve` logs a line per request to stderr (off when a proxy in front logs them)")
    public static let unknownModel = SettingKey(
        environment: "XALORRA_UNKNOWN_MODEL", flag: nil, defaultValue: "baseline",
        summary: "baseline|reject: what a model name with no trained version does")
    public static let legacyTokens = SettingKey(
        environment: "XALORRA_ACCEPT_LEGACY_TOKENS", flag: nil, defaultValue: "0",
        summary: "1 accepts seed-style tokens without `exp`")

    public static let rateLimit = SettingKey(
        environment: "XALORRA_RATE_LIMIT", flag: "--rate-limit", defaultValue: "on",
        summary: "on|off: per-endpoint rate limits in `serve` (off sends no rate-limit headers)")
    public static let maxBody = SettingKey(
        environment: "XALORRA_MAX_BODY", flag: nil, defaultValue: "1048576",
        summary: "Largest request body `serve` accepts, in bytes (413 above it)")
    public static let maxUpload = SettingKey(
        environment: "XALORRA_MAX_UPLOAD", flag: nil, defaultValue: "67108864",
        summary: "Largest training-data or model upload `serve` accepts (POST /train, /models/…/import), in bytes")
    public static let trainWorkers = SettingKey(
        environment: "XALORRA_TRAIN_WORKERS", flag: nil, defaultValue: "1",
        summary: "Training jobs `serve` runs at once (1-64), on lowest-priority threads")

    public static let bcryptCost = SettingKey(
        environment: "XALORRA_BCRYPT_COST", flag: nil, defaultValue: "\(PasswordHasher.defaultCost)",
        summary: "bcrypt work factor for new password hashes, \(PasswordHasher.minimumCost)-\(PasswordHasher.maximumCost) (each step doubles login time)")
    public static let chatURL = SettingKey(
        environment: "XALORRA_CHAT_URL", flag: nil, defaultValue: nil,
        summary: "OpenAI-compatible server for chat replies (Ollama, llama.cpp, vLLM); unset: the built-in responder")
    public static let chatModel = SettingKey(
        environment: "XALORRA_CHAT_MODEL", flag: nil, defaultValue: "llama3.2",
        summary: "Model name sent to XALORRA_CHAT_URL")
    public static let chatAPIKey = SettingKey(
        environment: "XALORRA_CHAT_API_KEY", flag: nil, defaultValue: nil,
        summary: "Bearer key for XALORRA_CHAT_URL, if it needs one")
    public static let chatSystemPrompt = SettingKey(
        environment: "XALORRA_CHAT_SYSTEM_PROMPT", flag: nil,
        defaultValue: "You are the assistant of xalorra, a toolkit that serves ML predictions. Answer briefly.",
        summary: "System prompt sent before the conversation")
    public static let chatTimeout = SettingKey(
        environment: "XALORRA_CHAT_TIMEOUT", flag: nil, defaultValue: "60s",
        summary: "Longest a chat reply may take before 503 AI_SERVICE_UNAVAILABLE (90s, 2m)")
    public static let corsOrigins = SettingKey(
        environment: "XALORRA_CORS_ORIGINS", flag: "--cors-origin", defaultValue: nil,
        summary: "Comma-separated browser origins `serve` allows cross-origin (`*` for any); none by default",
        isList: true)
    public static let idleTimeout = SettingKey(
        environment: "XALORRA_IDLE_TIMEOUT", flag: nil, defaultValue: "60s",
        summary: "`serve` closes a connection that sends nothing for this long (30s, 2m)")
    public static let headerTimeout = SettingKey(
        environment: "XALORRA_HEADER_TIMEOUT", flag: nil, defaultValue: "10s",
        summary: "`serve` closes a connection whose request head is incomplete this long after it opened or the last response")
    public static let maxConnections = SettingKey(
        environment: "XALORRA_MAX_CONNECTIONS", flag: nil, defaultValue: "4096",
        summary: "Connections `serve` holds open at once; further ones wait in the listen queue until one closes")

    public static let registration = SettingKey(
        environment: "XALORRA_REGISTRATION", flag: nil, defaultValue: "open",
        summary: "open|closed: whether anyone may POST /users/register (each self-registered account gets a tenant of its own)")
    public static let maxBatchRows = SettingKey(
        environment: "XALORRA_MAX_BATCH_ROWS", flag: nil, defaultValue: "100000",
        summary: "Most rows one HTTP prediction call may carry (413 above it); the CLI sends larger files in parts, offline batches are not limited")
    public static let maxModelTrees = SettingKey(
        environment: "XALORRA_MAX_MODEL_TREES", flag: nil, defaultValue: "50000",
        summary: "Most trees an imported or trained model may have")
    public static let maxModelNodes = SettingKey(
        environment: "XALORRA_MAX_MODEL_NODES", flag: nil, defaultValue: "5000000",
        summary: "Most tree nodes, all trees together, an imported or trained model may have")
    public static let maxQueuedJobs = SettingKey(
        environment: "XALORRA_MAX_QUEUED_JOBS", flag: nil, defaultValue: "8",
        summary: "Training jobs one user may have queued or running at once (409 above it)")
    public static let metricsAccess = SettingKey(
        environment: "XALORRA_METRICS", flag: nil, defaultValue: "admin",
        summary: "Who may read GET /metrics: admin (an admin token), open (anyone), or comma-separated addresses/CIDRs (and admins)")
    public static let metricsModels = SettingKey(
        environment: "XALORRA_METRICS_MODELS", flag: nil, defaultValue: "xgb-v2",
        summary: "Comma-separated model names /metrics counts on their own even while the baseline answers for them (registered models always are; every other name is counted as model=\"_other\")")
    public static let maxConnectionsPerClient = SettingKey(
        environment: "XALORRA_MAX_CONNECTIONS_PER_CLIENT", flag: nil, defaultValue: "256",
        summary: "Connections `serve` holds open from one client address; more are closed at once (raise it behind a proxy)")
    public static let minBodyRate = SettingKey(
        environment: "XALORRA_MIN_BODY_RATE", flag: nil, defaultValue: "1024",
        summary: "Slowest a request body may arrive, in bytes per second averaged once the header timeout has passed; slower gets 408 and is closed")

    public static let logRetention = SettingKey(
        environment: "XALORRA_LOG_RETENTION", flag: nil, defaultValue: nil,
        summary: "`serve` deletes predictions older than this (90d, 12w), in small batches, every 10 minutes; unset keeps everything")
    public static let auditRetention = SettingKey(
        environment: "XALORRA_AUDIT_RETENTION", flag: nil, defaultValue: nil,
        summary: "`serve` deletes audit rows older than this (365d), with the log retention; unset keeps everything")
    public static let logMaxSize = SettingKey(
        environment: "XALORRA_LOG_MAX_SIZE", flag: nil, defaultValue: nil,
        summary: "Rotate logs/predictions.log once it reaches this size (100MB, 1GB; K/M/G are powers of 1024); unset never rotates")
    public static let logKeep = SettingKey(
        environment: "XALORRA_LOG_KEEP", flag: nil, defaultValue: "5",
        summary: "Rotated text logs kept (predictions.log.1 newest … .N oldest), 1-1000")
    public static let backupEvery = SettingKey(
        environment: "XALORRA_BACKUP_EVERY", flag: "--backup-every", defaultValue: nil,
        summary: "`serve` writes a backup of the store into $XALORRA_HOME/backups this often (6h, 1d); unset: none")
    public static let backupKeep = SettingKey(
        environment: "XALORRA_BACKUP_KEEP", flag: "--backup-keep", defaultValue: "7",
        summary: "Backups `serve` keeps in $XALORRA_HOME/backups, the oldest removed first, 1-10000")

    public static let trainingLease = SettingKey(
        environment: "XALORRA_TRAINING_LEASE", flag: nil, defaultValue: "30s",
        summary: "PostgreSQL: how long a claimed training job is held without a heartbeat (every third of it) before another instance may take it over (10s, 2m; at least 3s)")

    /// All settings, in the order help lists them.
    public static let all: [SettingKey] = [
        .home, .secretKey, .algorithm, .url, .database, .token, .authToken, .user, .defaultTenant, .predictionLog, .accessLog,
        .unknownModel, .legacyTokens, .rateLimit, .maxBody, .maxUpload, .trainWorkers, .bcryptCost, .chatURL, .chatModel, .chatAPIKey, .chatSystemPrompt, .chatTimeout,
        .corsOrigins, .idleTimeout, .headerTimeout, .maxConnections, .maxConnectionsPerClient, .minBodyRate,
        .registration, .maxBatchRows, .maxModelTrees, .maxModelNodes, .maxQueuedJobs, .metricsAccess, .metricsModels,
        .logRetention, .auditRetention, .logMaxSize, .logKeep, .backupEvery, .backupKeep,
        .trainingLease,
    ]
}
