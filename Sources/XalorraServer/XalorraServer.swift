import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import XalorraCore

/// `xalorra serve`: the HTTP API over ``LocalAPI``, answering every route of ``RouteTable``.
public struct XalorraServer: Sendable {
    /// Every operation's handler (see ``Endpoint/handler(metrics:)``).
    static func handlers(metrics: ServerMetrics) -> [Endpoint: RouteHandler] {
        Dictionary(uniqueKeysWithValues: Endpoint.allCases.map { ($0, $0.handler(metrics: metrics)) })
    }

    /// The Hummingbird application (internal: router-level tests drive it with `test(.router)`, without a socket).
    let application: Application<XalorraResponder>
    private let feed: PredictionFeed
    /// SQLite only: the WAL checkpoints off the writer's path.
    private let checkpointer: WALCheckpointer?
    private let training: TrainingWorkers
    private let api: LocalAPI
    private let logger: Logger
    private let foreign: ForeignPredictions
    private let store: any Store
    /// Retention (either store) and rotating backups (SQLite only).
    private let maintenance: Maintenance

    /// Builds the server.
    /// - Parameters:
    ///   - responder: writes the AI's chat replies.
    ///   - onRunning: called with the bound port once the server listens (port 0 picks a free one).
    package init(
        settings: Settings, host: String, port: Int, database: any Store, logger: Logger,
        responder: any ChatResponder = BuiltinResponder(), onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws(XalorraError) {
        let feed = PredictionFeed(logger: logger, countedModels: settings.metricsModels)
        self.feed = feed
        self.store = database
        let api = LocalAPI(
            settings: settings, caller: Caller(user: "anonymous", role: .user, tenant: settings.defaultTenant),
            database: database, feed: feed, responder: responder, warn: { logger.warning("\($0)") })
        foreign = ForeignPredictions(
            feed: feed, repository: database.predictions, events: database.events,
            invalidate: { [api] change in api.invalidateCaches(change) }, logger: logger)
        // SQLite only: WAL checkpoints and rotating backups work on the SQLite file.
        let sqlite = database as? AppDatabase
        let metrics = ServerMetrics(feed: feed, drift: DriftGauges(store: database))
        let rateLimit = RateLimiting(on: settings.rateLimit, shared: database.rateLimitCounters, logger: logger)
        let responder = XalorraResponder(
            api: api, tokens: try await api.tokenService(), handlers: Self.handlers(metrics: metrics),
            metrics: metrics, rateLimit: rateLimit, settings: settings, logger: logger)
        self.logger = logger
        self.api = api
        training = TrainingWorkers(count: settings.trainWorkers)
        checkpointer = try sqlite?.checkpointer()
        maintenance = Maintenance(settings: settings, store: database, logger: logger)
        if sqlite == nil, settings.backupEvery != nil {
            logger.warning("--backup-every backs up a SQLite store: on PostgreSQL use pg_dump or pg_basebackup; ignored")
        }
        application = Application(
            responder: responder,
            server: .guardedHTTP1WebSocketUpgrade(
                webSocket: .init(maxFrameSize: 1 << 16, autoPing: .enabled(timePeriod: .seconds(30))),
                limits: ConnectionLimits(
                    headerTimeout: Self.amount(settings.headerTimeout), idleTimeout: Self.amount(settings.idleTimeout),
                    minBodyRate: settings.minBodyRate, connectionsPerClient: settings.maxConnectionsPerClient),
                rateLimit: rateLimit, logger: logger
            ) { head, channel, _ in
                await responder.upgrade(head, channel: channel)
            },
            // Past `maxConnections`, new connections wait in the listen queue (not accepted, not refused) until one
            // of the open ones closes.
            configuration: .init(
                address: .hostname(host, port: port), serverName: "xalorra",
                availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections, logger: logger)),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }

    /// A setting's duration as NIO's, at most 68 years (NIO counts nanoseconds in 64 bits and traps beyond).
    private static func amount(_ span: TimeSpan) -> TimeAmount { .seconds(min(max(span.seconds, 0), 1 << 31)) }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight requests and returns. Open event streams end at
    /// once, so they do not hold the shutdown up.
    public func run() async throws {
        // The store's service comes first, so the group stops it last: its connections outlive every request.
        var services: [any Service] = [
            StoreLifetime(store: store), application, FeedCloser(feed: feed), foreign, Training(workers: training, api: api),
        ]
        if let checkpointer { services.append(Checkpointing(checkpointer: checkpointer, logger: logger)) }
        services.append(maintenance)
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }
}

/// Runs queued training jobs while the server runs; at shutdown, a running job stops at its next round and is
/// marked failed (`interrupted`).
struct Training: Service {
    let workers: TrainingWorkers
    let api: LocalAPI

    func run() async throws {
        await withGracefulShutdownHandler {
            await workers.run(api)
        } onGracefulShutdown: {
            workers.stop()
        }
    }
}

/// Keeps the store open while the server runs and closes it (PostgreSQL: its connection pool) when the group stops.
struct StoreLifetime: Service {
    let store: any Store

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}

/// Ends the live feed's subscriptions when graceful shutdown begins.
struct FeedCloser: Service {
    let feed: PredictionFeed

    func run() async throws {
        try? await gracefulShutdown()
        feed.finishAll()
    }
}

/// Rows other processes commit to the store (another instance on the same PostgreSQL database, `xalorra predict`
/// offline, another server on the same SQLite file) for the live feeds, and the caches other processes' changes make
/// stale. It follows the store's change events (``StoreEvents``: PostgreSQL's NOTIFY at each commit, SQLite's poll
/// of the newest id every 100 ms): while anyone listens, when the store's newest id moves past what this process
/// published itself and some id there is not its own, the new rows are read and handed on
/// (``PredictionFeed/publishForeign(_:through:)``); with nobody listening it only keeps up with the newest id. After
/// a lost connection (``StoreChange/resync``) it reads again from the last id it saw, so nothing is skipped.
struct ForeignPredictions: Service {
    let feed: PredictionFeed
    let repository: any PredictionRepository
    let events: any StoreEvents
    /// Drops what the caches hold about a change (``LocalAPI/invalidateCaches(_:)``).
    let invalidate: @Sendable (StoreChange) -> Void
    let logger: Logger

    func run() async throws {
        // Subscribed before the newest id is read, so nothing committed in between is missed.
        let changes = events.changes()
        // Where reading starts (never 0 for a store that is down for a moment: that would read it all).
        var through: Int64 = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                through = try await repository.newestID()
                break
            } catch {
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        // From here on, a row this process commits above another's not yet read waits for it (id order).
        feed.startOrdering(from: through)
        for await change in changes.cancelOnGracefulShutdown() {
            invalidate(change)
            var newest: Int64
            switch change {
            case .predictions(let id):
                guard id > through else { continue }
                newest = id
            case .resync:
                newest = Int64.max
            case .users, .apiKeys, .models:
                continue
            }
            // Read until it succeeds (the store may be down for a moment): the next event would not say it again.
            var failures = 0
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    if newest == Int64.max { newest = try await repository.newestID() }
                    through = try await read(after: through, newest: newest)
                    break
                } catch {
                    if failures == 0 {
                        logger.warning("reading other processes' predictions for the live feeds failed: \(error)")
                    }
                    failures += 1
                    try? await Task.sleep(for: .milliseconds(250))
                }
            }
        }
    }

    /// Publishes the rows in `(after, newest]` that this process did not commit; returns the id read to.
    private func read(after start: Int64, newest: Int64) async throws -> Int64 {
        guard newest > start else { return start }
        guard feed.subscriberCount > 0, feed.foreignGap(after: start, through: newest) else {
            feed.publishForeign([], through: newest)
            return newest
        }
        var through = start
        let query = try LogQuery(limit: LogQuery.maxLimit)
        var page: [PredictionRecord]
        repeat {
            page = try await repository.records(after: through, matching: query)
            let last = page.last?.id ?? newest
            feed.publishForeign(page, through: last)
            through = max(through, last)
        } while page.count == query.limit && !Task.isCancelled
        return through
    }
}

/// Checkpoints the store's WAL every quarter second while the server runs (the writer's automatic checkpoints are
/// off, see ``AppDatabase``), and once more at shutdown.
struct Checkpointing: Service {
    let checkpointer: WALCheckpointer
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            do {
                try await checkpointer.checkpoint()
            } catch {
                logger.warning("WAL checkpoint failed: \(error.message)")
            }
        }
        _ = try? await checkpointer.checkpoint()
    }
}

/// The store's upkeep while the server runs, off the request path: retention (`XALORRA_LOG_RETENTION`,
/// `XALORRA_AUDIT_RETENTION`, on either store) soon after start and every 10 minutes, and on SQLite a rotating backup
/// every `--backup-every`. At shutdown a prune stops after its current batch; a backup in progress is abandoned (its temporary file removed).
struct Maintenance: Service {
    /// How often retention runs.
    static let retentionInterval: Duration = .seconds(600)

    let settings: Settings
    let store: any Store
    let logger: Logger

    func run() async throws {
        let retains = settings.logRetention != nil || settings.auditRetention != nil
        var nextRetention = ContinuousClock.now + .seconds(1)
        let sqlite = store as? AppDatabase
        var nextBackup = sqlite == nil ? nil : settings.backupEvery.map { ContinuousClock.now + .seconds($0.seconds) }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(250))
            if retains, ContinuousClock.now >= nextRetention {
                await cancelWhenGracefulShutdown { await Retention(store: store).apply(settings, logger: logger) }
                nextRetention = ContinuousClock.now + Self.retentionInterval
            }
            if let due = nextBackup, let every = settings.backupEvery, let sqlite, ContinuousClock.now >= due {
                do {
                    let (summary, removed) = try await cancelWhenGracefulShutdown {
                        try await StoreBackup.rotate(
                            store: sqlite.path, directory: settings.backupDirectory, keep: settings.backupKeep)
                    }
                    let dropped = removed.isEmpty ? "" : "; removed \(removed.joined(separator: ", "))"
                    logger.info("backup written: \(summary.path) (\(summary.bytes) bytes)\(dropped)")
                } catch {
                    logger.warning("backup failed: \(error)")
                }
                nextBackup = ContinuousClock.now + .seconds(every.seconds)
            }
        }
    }
}
