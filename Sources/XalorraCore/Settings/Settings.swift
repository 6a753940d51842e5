#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The resolved configuration of one process: flag > environment (`XALORRA_*`, seed names) > `.env` > defaults.
///
/// Resolution happens here and nowhere else; nothing that a command does not use (such as the secret) is loaded.
public struct Settings: Sendable {
    /// What a model name with no trained version does.
    public enum UnknownModelPolicy: String, Sendable {
        /// Answer with the built-in baseline (sum of features), as the seed did.
        case baseline
        /// Answer 404.
        case reject
    }

    /// The data directory.
    public var home: String
    /// `SECRET_KEY` when given; otherwise the key comes from `$home/secret.key` (see ``SecretKey``).
    public var secretKey: String?
    /// The pinned token algorithm.
    public var algorithm: TokenAlgorithm
    /// The server to talk to; `nil` means local mode.
    public var url: String?
    /// The store (`XALORRA_DATABASE_URL` / `--database`): SQLite in `home` by default, or PostgreSQL.
    public var database: DatabaseLocation
    /// The bearer token for remote mode, without any `Bearer ` prefix.
    public var token: String?
    /// The acting user in local mode.
    public var user: String
    /// The tenant of local-mode operations and of self-registered users.
    public var defaultTenant: String
    /// Whether predictions are also appended to the seed's text log.
    public var predictionLog: Bool
    /// Whether `serve` writes an access-log line per request to standard error.
    public var accessLog: Bool
    /// See ``UnknownModelPolicy``.
    public var unknownModel: UnknownModelPolicy
    /// Whether tokens without `exp` are accepted.
    public var acceptLegacyTokens: Bool
    /// Whether `serve` enforces rate limits.
    public var rateLimit: Bool
    /// The largest request body `serve` accepts, in bytes.
    public var maxBody: Int
    /// The largest upload (training data, model file) `serve` accepts, in bytes.
    public var maxUpload: Int
    /// How many training jobs a server runs at once.
    public var trainWorkers: Int
    /// The bcrypt work factor for new password hashes.
    public var bcryptCost: Int
    /// Where chat replies come from.
    public var chat: ChatBackend
    /// Browser origins `serve` answers cross-origin requests for (`*`: any); empty sends no CORS headers.
    public var corsOrigins: [String]
    /// How long `serve` keeps a connection that sends nothing between requests.
    public var idleTimeout: TimeSpan
    /// How long `serve` waits for a request head to complete, from the connection's start or the previous response.
    public var headerTimeout: TimeSpan
    /// How many connections `serve` holds open at once; more wait unaccepted.
    public var maxConnections: Int
    /// How many connections `serve` holds open from one client address; more are closed at once.
    public var maxConnectionsPerClient: Int
    /// The slowest a request body may arrive, in bytes per second, once the header timeout has passed.
    public var minBodyRate: Int
    /// Whether anyone may register an account.
    public var registration: Registration
    /// The most rows one prediction call (a request, a batch) may carry.
    public var maxBatchRows: Int
    /// The most trees a model may have.
    public var maxModelTrees: Int
    /// The most tree nodes, all trees together, a model may have.
    public var maxModelNodes: Int
    /// The most training jobs one user may have queued or running.
    public var maxQueuedJobs: Int
    /// Who may read `/metrics`.
    public var metricsAccess: MetricsAccess
    /// Names `/metrics` counts predictions of on their own while the baseline answers for them
    /// (`XALORRA_METRICS_MODELS`); predictions of registered models always are.
    public var metricsModels: Set<String>
    /// Predictions older than this are deleted by `serve` (`XALORRA_LOG_RETENTION`); `nil` keeps everything.
    public var logRetention: TimeSpan? = nil
    /// Audit rows older than this are deleted by `serve` (`XALORRA_AUDIT_RETENTION`); `nil` keeps everything.
    public var auditRetention: TimeSpan? = nil
    /// The text log is rotated once it reaches this many bytes (`XALORRA_LOG_MAX_SIZE`); `nil` never rotates.
    public var logMaxSize: Int? = nil
    /// How many rotated text logs are kept (`XALORRA_LOG_KEEP`).
    public var logKeep: Int = 5
    /// How often `serve` writes a backup into `$home/backups` (`--backup-every`); `nil`: never.
    public var backupEvery: TimeSpan? = nil
    /// How many of those backups are kept (`--backup-keep`).
    public var backupKeep: Int = 7
    /// PostgreSQL: how long a claimed training job is held without a heartbeat (`XALORRA_TRAINING_LEASE`).
    public var trainingLease: TimeSpan = TimeSpan(seconds: 30)

    /// Whether `POST /users/register` is open to anyone (`XALORRA_REGISTRATION`).
    public enum Registration: String, Sendable, CaseIterable {
        /// Anyone may register; each self-registered account gets a tenant of its own.
        case open
        /// Only admins create accounts (`users add`, `POST /admin/users`).
        case closed
    }

    /// Who may read `GET /metrics` (`XALORRA_METRICS`): an admin token always may.
    public enum MetricsAccess: Sendable, Equatable {
        /// Only with an admin token.
        case admin
        /// Anyone, without a token.
        case open
        /// Requests from these addresses or CIDR blocks (as written: `127.0.0.1`, `10.0.0.0/8`, `::1`), without a
        /// token.
        case addresses([String])
    }

    /// `$home/xalorra.db`, or the file `sqlite:PATH` names.
    public var databasePath: String {
        if case .sqlite(let path?) = database { return path }
        return home + "/xalorra.db"
    }
    /// `$home/logs/predictions.log`.
    public var predictionLogPath: String { home + "/logs/predictions.log" }
    /// `$home/credentials.json`: the tokens `users login` saved.
    public var credentialsPath: String { home + "/credentials.json" }
    /// `$home/secret.key`.
    public var secretKeyPath: String { home + "/secret.key" }
    /// `$home/backups`: where `serve --backup-every` writes.
    public var backupDirectory: String { home + "/backups" }

    /// Resolves every setting.
    /// - Parameters:
    ///   - flags: values given as global flags, keyed by ``SettingKey/flag``.
    ///   - environment: the process environment.
    ///   - dotEnv: the assignments of `.env` in the working directory.
    public static func resolve(
        flags: [String: String], environment: [String: String], dotEnv: [String: String]
    ) throws(XalorraError) -> Settings {
        func value(_ key: SettingKey) -> String? {
            if let flag = key.flag, let given = flags[flag] { return given }
            if let set = environment[key.environment], !set.isEmpty { return set }
            if let set = dotEnv[key.environment], !set.isEmpty { return set }
            return key.defaultValue
        }
        func flag(_ key: SettingKey) throws(XalorraError) -> Bool {
            switch value(key)?.lowercased() {
            case "1", "on", "true", "yes": return true
            case "0", "off", "false", "no", nil: return false
            case let other?:
                throw XalorraError(.validation, "\(key.environment)=\(other) is not one of on/off/1/0/true/false")
            }
        }
        let algorithmName = value(.algorithm) ?? "HS256"
        guard let algorithm = TokenAlgorithm(rawValue: algorithmName.uppercased()) else {
            throw XalorraError(
                .validation, "JWT_ALGORITHM=\(algorithmName) is not supported",
                hint: "use one of \(TokenAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let policyName = value(.unknownModel) ?? "baseline"
        guard let policy = UnknownModelPolicy(rawValue: policyName.lowercased()) else {
            throw XalorraError(.validation, "XALORRA_UNKNOWN_MODEL=\(policyName) is not one of baseline, reject")
        }
        let token = value(.token) ?? value(.authToken)
        let maxBodyText = value(.maxBody) ?? "1048576"
        guard let maxBody = Int(maxBodyText), maxBody > 0 else {
            throw XalorraError(.validation, "XALORRA_MAX_BODY=\(maxBodyText) is not a positive number of bytes")
        }
        let maxUploadText = value(.maxUpload) ?? "67108864"
        guard let maxUpload = Int(maxUploadText), maxUpload > 0 else {
            throw XalorraError(.validation, "XALORRA_MAX_UPLOAD=\(maxUploadText) is not a positive number of bytes")
        }
        let workersText = value(.trainWorkers) ?? "1"
        guard let trainWorkers = Int(workersText), (1...64).contains(trainWorkers) else {
            throw XalorraError(.validation, "XALORRA_TRAIN_WORKERS=\(workersText) is not a whole number from 1 to 64")
        }
        let costText = value(.bcryptCost) ?? "\(PasswordHasher.defaultCost)"
        guard let cost = Int(costText), (PasswordHasher.minimumCost...PasswordHasher.maximumCost).contains(cost) else {
            throw XalorraError(
                .validation,
                "XALORRA_BCRYPT_COST=\(costText) is not a whole number from \(PasswordHasher.minimumCost) to \(PasswordHasher.maximumCost)")
        }
        let timeoutText = value(.chatTimeout) ?? "60s"
        guard let timeout = TimeSpan(timeoutText), timeout.seconds > 0 else {
            throw XalorraError(.validation, "XALORRA_CHAT_TIMEOUT=\(timeoutText) is not a duration such as 60s or 2m")
        }
        if let url = value(.chatURL), !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
            throw XalorraError(.validation, "XALORRA_CHAT_URL=\(url) must start with http:// or https://")
        }
        let chat = ChatBackend(
            url: value(.chatURL), model: value(.chatModel) ?? "llama3.2", apiKey: value(.chatAPIKey),
            systemPrompt: value(.chatSystemPrompt) ?? "", timeout: timeout)
        let origins = (value(.corsOrigins) ?? "").split(separator: ",").map { String($0.trimmingWhitespace()) }
            .filter { !$0.isEmpty }
        for origin in origins where origin != "*" {
            guard origin.hasPrefix("http://") || origin.hasPrefix("https://"), !origin.hasSuffix("/") else {
                throw XalorraError(
                    .validation, "CORS origin '\(origin)' must be `*` or scheme://host[:port], e.g. https://app.example.com")
            }
        }
        func span(_ key: SettingKey) throws(XalorraError) -> TimeSpan {
            let text = value(key) ?? key.defaultValue ?? ""
            guard let span = TimeSpan(text) else {
                throw XalorraError(.validation, "\(key.environment)=\(text) is not a duration such as 30s or 2m")
            }
            return span
        }
        let connectionsText = value(.maxConnections) ?? "4096"
        guard let maxConnections = Int(connectionsText), maxConnections > 0 else {
            throw XalorraError(
                .validation, "XALORRA_MAX_CONNECTIONS=\(connectionsText) is not a positive number of connections")
        }
        func number(_ key: SettingKey, in range: ClosedRange<Int>, unit: String) throws(XalorraError) -> Int {
            let text = value(key) ?? key.defaultValue ?? ""
            guard let number = Int(text), range.contains(number) else {
                throw XalorraError(
                    .validation,
                    "\(key.environment)=\(text) is not a whole number of \(unit) from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        let registrationText = value(.registration) ?? "open"
        guard let registration = Registration(rawValue: registrationText.lowercased()) else {
            throw XalorraError(.validation, "XALORRA_REGISTRATION=\(registrationText) is not one of open, closed")
        }
        let metricsText = String(Substring(value(.metricsAccess) ?? "admin").trimmingWhitespace())
        let metricsAccess: MetricsAccess
        switch metricsText.lowercased() {
        case "admin": metricsAccess = .admin
        case "open": metricsAccess = .open
        default:
            let addresses = metricsText.split(separator: ",").map { String($0.trimmingWhitespace()) }.filter { !$0.isEmpty }
            guard !addresses.isEmpty, addresses.allSatisfy(Self.isAddressOrBlock) else {
                throw XalorraError(
                    .validation,
                    "XALORRA_METRICS=\(metricsText) is not admin, open, or a list of addresses/CIDRs (127.0.0.1,10.0.0.0/8)")
            }
            metricsAccess = .addresses(addresses)
        }
        return Settings(
            home: expandHome(value(.home) ?? "~/.xalorra", environment: environment),
            secretKey: value(.secretKey),
            algorithm: algorithm,
            url: value(.url),
            database: try DatabaseLocation.parse(value(.database)),
            token: token.map(stripBearer),
            user: value(.user) ?? environment["USER"] ?? environment["LOGNAME"] ?? currentUserName() ?? "local",
            defaultTenant: value(.defaultTenant) ?? "default",
            predictionLog: try flag(.predictionLog),
            accessLog: try flag(.accessLog),
            unknownModel: policy,
            acceptLegacyTokens: try flag(.legacyTokens),
            rateLimit: try flag(.rateLimit),
            maxBody: maxBody,
            maxUpload: maxUpload,
            trainWorkers: trainWorkers,
            bcryptCost: cost,
            chat: chat,
            corsOrigins: origins,
            idleTimeout: try span(.idleTimeout),
            headerTimeout: try span(.headerTimeout),
            maxConnections: maxConnections,
            maxConnectionsPerClient: try number(.maxConnectionsPerClient, in: 1...1_000_000, unit: "connections"),
            minBodyRate: try number(.minBodyRate, in: 1...1_073_741_824, unit: "bytes per second"),
            registration: registration,
            maxBatchRows: try number(.maxBatchRows, in: 1...100_000_000, unit: "rows"),
            maxModelTrees: try number(.maxModelTrees, in: 1...100_000_000, unit: "trees"),
            maxModelNodes: try number(.maxModelNodes, in: 1...1_000_000_000, unit: "nodes"),
            maxQueuedJobs: try number(.maxQueuedJobs, in: 1...10_000, unit: "jobs"),
            metricsAccess: metricsAccess,
            metricsModels: Set(
                (value(.metricsModels) ?? "").split(separator: ",").map { String($0.trimmingWhitespace()) }
                    .filter { !$0.isEmpty }),
            logRetention: try Self.optionalSpan(.logRetention, value(.logRetention)),
            auditRetention: try Self.optionalSpan(.auditRetention, value(.auditRetention)),
            logMaxSize: try Self.byteSize(.logMaxSize, value(.logMaxSize)),
            logKeep: try number(.logKeep, in: 1...1000, unit: "files"),
            backupEvery: try Self.optionalSpan(.backupEvery, value(.backupEvery)),
            backupKeep: try number(.backupKeep, in: 1...10_000, unit: "backups"),
            trainingLease: try Self.parseTrainingLease(value(.trainingLease))
        )
    }

    /// `XALORRA_TRAINING_LEASE`: a duration from 3 s (the heartbeat beats every third of it) to a day.
    static func parseTrainingLease(_ text: String?) throws(XalorraError) -> TimeSpan {
        let text = text ?? SettingKey.trainingLease.defaultValue ?? "30s"
        guard let span = TimeSpan(text), (3...86_400).contains(span.seconds) else {
            throw XalorraError(
                .validation, "XALORRA_TRAINING_LEASE=\(text) is not a duration from 3s to 1d such as 30s or 2m")
        }
        return span
    }

    /// `Bearer abc` and `abc` both give `abc`.
    public static func stripBearer(_ token: String) -> String {
        let trimmed = Substring(token).trimmingWhitespace()
        // The scheme is compared byte by byte, case-insensitively: the token itself is not lowercased to find it.
        let scheme = trimmed.utf8.prefix(7)
        let bearer = scheme.count == 7 && zip(scheme, "bearer ".utf8).allSatisfy { byte, expected in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 == expected : byte == expected
        }
        // Seven bytes, not seven Characters: a combining mark after the space belongs to the token.
        return String(bearer ? Substring(trimmed.utf8.dropFirst(7)).trimmingWhitespace() : trimmed)
    }

    /// Whether `text` is an IPv4 or IPv6 address, optionally with a `/prefix` (CIDR), as `XALORRA_METRICS` lists.
    static func isAddressOrBlock(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = parts.first else { return false }
        var bytes = [UInt8](repeating: 0, count: 16)
        let isV4 = String(address).withCString { inet_pton(AF_INET, $0, &bytes) } == 1
        let isV6 = !isV4 && String(address).withCString { inet_pton(AF_INET6, $0, &bytes) } == 1
        guard isV4 || isV6 else { return false }
        guard parts.count == 2 else { return true }
        guard let prefix = Int(parts[1]) else { return false }
        return (0...(isV4 ? 32 : 128)).contains(prefix)
    }

    private static func expandHome(_ path: String, environment: [String: String]) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"] ?? "/tmp"
        return home + path.dropFirst()
    }

    private static func currentUserName() -> String? {
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }
}

/// The chat backend settings: an OpenAI-compatible server, or none (the built-in responder).
public struct ChatBackend: Sendable, Equatable {
    /// Base URL of the server; `nil` for the built-in responder.
    public var url: String?
    public var model: String
    public var apiKey: String?
    public var systemPrompt: String
    /// Longest a reply may take.
    public var timeout: TimeSpan
}
