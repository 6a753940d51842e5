import Logging
import PostgresNIO
import Synchronization
import XalorraCore

/// The store on a PostgreSQL server (`XALORRA_DATABASE_URL=postgres://…`): postgres-nio's `PostgresClient` (its
/// connection pool, behind the fault guard ``PostgresPool``) running from ``open(_:logger:migrate:maximumConnections:connectionWait:trainingLease:)``
/// to ``close()``.
package final class PostgresStore: Store {
    package let database: PostgresDatabase

    package var backend: StoreBackend { .postgres }
    package var location: String { database.location.redacted }

    package var users: any UserRepository { PostgresUserRepository(database: database) }
    package var chats: any ChatRepository { PostgresChatRepository(database: database) }
    package var models: any ModelRepository { PostgresModelRepository(database: database) }
    /// One for the store: it holds the heartbeats of the leases its workers took.
    package let trainingJobs: any TrainingJobRepository
    package var apiKeys: any APIKeyRepository { PostgresAPIKeyRepository(database: database) }
    package var audit: any AuditRepository { PostgresAuditRepository(database: database) }
    package var predictions: any PredictionRepository { PostgresPredictionRepository(database: database) }
    package var profiles: any ProfileRepository { PostgresProfileRepository(database: database) }

    /// One listening connection for the process, started by the first consumer.
    private let listener: PostgresEvents
    package var events: any StoreEvents { listener }
    package var rateLimitCounters: (any RateLimitCounterRepository)? { PostgresRateLimitCounters(database: database) }

    private init(database: PostgresDatabase, trainingLease: Duration) {
        self.database = database
        listener = PostgresEvents(database: database)
        trainingJobs = PostgresTrainingJobRepository(database: database, lease: trainingLease)
    }

    /// Connects (failing with `cannot reach PostgreSQL at host:port: …` when the server cannot be reached), applies
    /// the migrations this build knows unless `migrate` is false, and starts the pool.
    /// - Parameter maximumConnections: the pool's size (a one-shot command needs one or two).
    /// - Parameter connectionWait: the longest a request waits for a connection before it fails with 503
    ///   `SERVICE_UNAVAILABLE` (``PostgresPool``).
    /// - Parameter trainingLease: how long a claimed training job is held without a heartbeat
    ///   (`XALORRA_TRAINING_LEASE`).
    package static func open(
        _ location: PostgresLocation, logger: Logger = PostgresStore.quietLogger, migrate: Bool = true,
        maximumConnections: Int = 20, connectionWait: Duration = .seconds(1), trainingLease: Duration = .seconds(30)
    ) async throws(XalorraError) -> PostgresStore {
        // One connection first: it tells an unreachable server or a refused login at once, with a clear message,
        // where the pool would retry in the background; and it applies the migrations.
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try connectionConfiguration(location), id: 0, logger: logger)
            do {
                if migrate { _ = try await PostgresMigrator.migrate(connection, logger: logger) }
                try? await connection.close()
            } catch {
                try? await connection.close()
                throw error
            }
        } catch {
            throw PostgresDatabase.describe(error, location: location, opening: true)
        }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: clientTLS(location.tls))
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = sessionSettings
        let client = PostgresPool(
            configuration: configuration, location: location, logger: logger, connectionWait: connectionWait)
        return PostgresStore(
            database: PostgresDatabase(client: client, location: location, logger: logger), trainingLease: trainingLease)
    }

    /// The pool's background chatter (connection attempts, retries) stays out of commands' output: failures reach
    /// the caller as errors.
    package static let quietLogger = Logger(label: "xalorra.postgres") { _ in SwiftLogNoOpLogHandler() }

    package func ping() async throws(XalorraError) {
        try await database.execute("SELECT 1")
    }

    package func migrationStatus() async throws(XalorraError) -> MigrationStatus {
        let applied = try await database.withConnection { connection in
            try await PostgresMigrator.applied(connection, logger: self.database.logger)
        }
        return MigrationStatus(applied: applied, known: PostgresSchema.migrations.map(\.name))
    }

    package func migrate() async throws(XalorraError) -> [String] {
        try await database.withConnection { connection in
            try await PostgresMigrator.migrate(connection, logger: self.database.logger)
        }
    }

    package func counts() async throws(XalorraError) -> [(table: String, rows: Int64)] {
        var out: [(table: String, rows: Int64)] = []
        for table in AppDatabase.countedTables {
            let sql =
                table == "predictions"
                ? "SELECT coalesce(sum(row_count), 0)::bigint FROM predictions" : "SELECT count(*) FROM \(table)"
            let rows = try await database.rows(PostgresQuery(unsafeSQL: sql))
            let count = try rows.first.map { row throws(XalorraError) in try decode(row, as: Int64.self) } ?? 0
            out.append((table, count))
        }
        return out
    }

    package func close() async {
        await listener.close()
        await database.client.close()
    }

    /// 503 `SERVICE_UNAVAILABLE` while the database is known to be down (``PostgresPool/outage``), without asking it.
    package var outage: XalorraError? { database.client.outage }

    private func decode<T: PostgresDecodable>(_ row: PostgresRow, as: T.Type) throws(XalorraError) -> T {
        do {
            return try row.decode(T.self)
        } catch {
            throw database.describe(error)
        }
    }

    /// The bounds every connection of this process starts with (review V, F4), so that one stuck transaction (an
    /// instance paused between its INSERT and its COMMIT, an operator's open `psql` session, a long `store copy`)
    /// cannot stop every instance's writes without an answer:
    /// * `lock_timeout` 2 s: a statement waiting for a row lock (the one row of `prediction_ids` every group commit
    ///   takes, a model's version counter) gives up after 2 s: 503 `SERVICE_UNAVAILABLE` (`Retry-After: 1`) instead
    ///   of a request that hangs while its group commit holds everyone else's;
    /// * `statement_timeout` 30 s: no statement runs longer (the longest reads, a prune's delete, are far shorter);
    /// * `idle_in_transaction_session_timeout` 10 s: a session that holds a transaction open without sending
    ///   anything (its process paused or cut off) is ended by the server, releasing its locks, instead of lasting
    ///   until TCP keepalive (about two hours). Nothing here keeps a transaction idle.
    /// Migrations set their own (``PostgresMigrator``).
    /// And `default_transaction_isolation` READ COMMITTED (review V, F9), whatever the database's or the role's
    /// default (a startup parameter wins over `ALTER DATABASE … SET`): the writes are written for it (the counter rows
    /// of `prediction_ids` and `models` are locked and re-read, never retried), and at REPEATABLE READ or
    /// SERIALIZABLE concurrent writers would fail with 40001. Reads that need one snapshot ask for REPEATABLE READ.
    static let sessionSettings: [(String, String)] = [
        ("lock_timeout", "2s"), ("statement_timeout", "30s"), ("idle_in_transaction_session_timeout", "10s"),
        ("default_transaction_isolation", "read committed"),
    ]

    /// The settings of one connection, as the pool's.
    static func connectionConfiguration(_ location: PostgresLocation) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch location.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: tlsConfiguration()))
            }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = sessionSettings
        return configuration
    }

    private static func clientTLS(_ mode: PostgresLocation.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: .disable
        case .prefer: .prefer(tlsConfiguration())
        case .require: .require(tlsConfiguration())
        }
    }

    /// libpq's `prefer` and `require` encrypt without verifying the server's certificate (`verify-full` would).
    private static func tlsConfiguration() -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }
}
