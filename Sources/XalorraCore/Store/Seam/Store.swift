/// Which database a ``Store`` keeps its data in.
package enum StoreBackend: String, Sendable {
    /// The embedded default: one file in `XALORRA_HOME` (``AppDatabase``).
    case sqlite
    /// A PostgreSQL server named by `XALORRA_DATABASE_URL` / `--database` (the XalorraPostgres module).
    case postgres
}

/// The store every command, ``LocalAPI`` and the server go through, whichever database holds it: it hands out one
/// repository per concern, answers the health check, and closes. Nothing outside a store's own module knows which
/// backend it has; what only one backend can do (SQLite's WAL checkpoints) is asked for with `as?`.
package protocol Store: Sendable {
    /// The database behind it.
    var backend: StoreBackend { get }
    /// Where it is, for people: the SQLite file's path, or `postgres://user@host:port/db` (never a password).
    var location: String { get }

    var users: any UserRepository { get }
    var chats: any ChatRepository { get }
    var models: any ModelRepository { get }
    var trainingJobs: any TrainingJobRepository { get }
    var apiKeys: any APIKeyRepository { get }
    var audit: any AuditRepository { get }
    var predictions: any PredictionRepository { get }
    var profiles: any ProfileRepository { get }

    /// The store's change events, for the live feeds and the caches (SQLite polls; PostgreSQL listens).
    var events: any StoreEvents { get }
    /// Rate-limit counters shared by every process on the store, or nil when each process counts its own (SQLite).
    var rateLimitCounters: (any RateLimitCounterRepository)? { get }

    /// One round trip to the database (the health check); fails when it cannot be reached.
    func ping() async throws(XalorraError)

    /// See the extension's default.
    var outage: XalorraError? { get }

    /// The schema's migrations: the names applied, and the names this build knows, oldest first.
    func migrationStatus() async throws(XalorraError) -> MigrationStatus

    /// Applies the migrations not yet applied (each once, even when several processes start together) and returns
    /// the names it applied, oldest first.
    func migrate() async throws(XalorraError) -> [String]

    /// How many rows each table holds, by table name, for `xalorra store info`.
    func counts() async throws(XalorraError) -> [(table: String, rows: Int64)]

    /// Releases the connections (a one-shot command calls it before it exits). Idempotent.
    func close() async
}

extension Store {
    /// 503 `SERVICE_UNAVAILABLE` while the database is known to be unreachable (PostgreSQL down), found without
    /// asking it (`GET /health` answers from it); `nil` otherwise, and always for SQLite.
    package var outage: XalorraError? { nil }
}

/// What ``Store/migrationStatus()`` reports.
package struct MigrationStatus: Sendable, Equatable {
    /// The migrations applied to the database, oldest first.
    package var applied: [String]
    /// The migrations this build knows, oldest first.
    package var known: [String]

    package init(applied: [String], known: [String]) {
        self.applied = applied
        self.known = known
    }

    /// The ones this build knows and the database lacks.
    package var pending: [String] { known.filter { !applied.contains($0) } }
}
