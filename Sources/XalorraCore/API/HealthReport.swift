/// What `GET /health/detailed` and `xalorra health` report, in the Aksara seed's shape.
public struct HealthReport: Sendable {
    /// Whether the store answered.
    public let databaseUp: Bool
    /// The store's round-trip time for `SELECT 1`, in milliseconds.
    public let databaseMilliseconds: Double
    /// Why the store did not answer, for people (`database unreachable at HOST:PORT; …`, never a password or
    /// driver internals); `nil` when it answered.
    public let databaseError: String?
    /// Seconds since the answering process started.
    public let uptimeSeconds: Int64
    /// Host CPU use in percent, if readable.
    public let cpuPercent: Double?
    /// Host memory use in percent, if readable.
    public let memoryPercent: Double?
    /// Use of the disk holding the store in percent, if readable.
    public let diskPercent: Double?
    /// The chat responder's name (`builtin`, `openai`) and status.
    public let aiService: (name: String, health: ResponderHealth)?

    /// Creates a report.
    public init(
        databaseUp: Bool, databaseMilliseconds: Double, databaseError: String? = nil, uptimeSeconds: Int64,
        cpuPercent: Double?, memoryPercent: Double?, diskPercent: Double?,
        aiService: (name: String, health: ResponderHealth)? = nil
    ) {
        self.aiService = aiService
        self.databaseUp = databaseUp
        self.databaseMilliseconds = databaseMilliseconds
        self.databaseError = databaseError
        self.uptimeSeconds = uptimeSeconds
        self.cpuPercent = cpuPercent
        self.memoryPercent = memoryPercent
        self.diskPercent = diskPercent
    }

    /// `42%`, or `unknown` when the value could not be read: the form both the body and the CLI show.
    public static func percentText(_ value: Double?) -> String {
        value.map { "\(Int($0.rounded()))%" } ?? "unknown"
    }

    /// `healthy` when the store answers.
    public var status: String { databaseUp ? "healthy" : "unhealthy" }

    /// `{"status","timestamp","version"}`: the body of `GET /health`; `status` is `unhealthy` (and the answer 503)
    /// while the store is known to be unreachable, which the server knows without asking it.
    public static func liveness(at time: Timestamp = .now(), healthy: Bool = true) -> JSONValue {
        .object([
            ("status", healthy ? "healthy" : "unhealthy"), ("timestamp", .string(time.iso8601Seconds)),
            ("version", .string(XalorraVersion.current)),
        ])
    }
}

extension HealthReport: JSONRepresentable {
    /// The body of `GET /health/detailed`.
    public var json: JSONValue {
        func percent(_ value: Double?) -> JSONValue { .string(Self.percentText(value)) }
        let milliseconds = (databaseMilliseconds * 100).rounded() / 100
        return .object([
            ("status", .string(status)), ("timestamp", .string(Timestamp.now().iso8601Seconds)),
            ("version", .string(XalorraVersion.current)), ("uptime", .int(uptimeSeconds)),
            ("dependencies", .object([
                ("database", .object([
                    ("status", databaseUp ? "connected" : "disconnected"),
                    ("response_time", .string("\(milliseconds)ms")),
                ] + (databaseError.map { [("error", JSONValue.string($0))] } ?? []))),
            ] + (aiService.map { service in
                [("ai_service", JSONValue.object([
                    ("status", service.health.available ? "available" : "unavailable"),
                    ("response_time", .string("\((service.health.milliseconds * 100).rounded() / 100)ms")),
                    ("backend", .string(service.name)),
                ]))]
            } ?? []))),
            ("system", .object([
                ("cpu_usage", percent(cpuPercent)), ("memory_usage", percent(memoryPercent)),
                ("disk_usage", percent(diskPercent)),
            ])),
        ])
    }
}

extension HealthReport: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let database = try json.member("dependencies").member("database")
        let system = try json.member("system")
        func percent(_ key: String) -> Double? {
            guard let text = system[key]?.stringValue, text.hasSuffix("%") else { return nil }
            return Double(text.dropLast())
        }
        func milliseconds(_ value: JSONValue) -> Double {
            (try? value.text("response_time")).flatMap { Double($0.dropLast(2)) } ?? 0
        }
        var ai: (String, ResponderHealth)?
        if let service = json["dependencies"]?["ai_service"] {
            ai = (
                service["backend"]?.stringValue ?? "unknown",
                ResponderHealth(available: service["status"] == "available", milliseconds: milliseconds(service))
            )
        }
        self.init(
            databaseUp: try database.text("status") == "connected", databaseMilliseconds: milliseconds(database),
            databaseError: database["error"]?.stringValue, uptimeSeconds: try json.integer("uptime"), cpuPercent: percent("cpu_usage"),
            memoryPercent: percent("memory_usage"), diskPercent: percent("disk_usage"), aiService: ai)
    }
}
