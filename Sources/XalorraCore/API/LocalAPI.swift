#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import XalorraML

/// ``XalorraAPI`` on the local store: the CLI's offline mode, and what the server's controllers call.
public struct LocalAPI: XalorraAPI {
    /// Whom operations act for.
    public private(set) var caller: Caller
    /// Whether `caller.account` is what authentication resolved (the server's callers, see ``acting(as:)``), rather
    /// than to be looked up by name when needed (local mode acts as `settings.user`: that account if one exists).
    private(set) var callerResolved = false
    /// The resolved settings.
    public let settings: Settings
    private let database: Lazy<any Store>
    private let committer: Lazy<GroupCommitter>
    private let logFile: PredictionLogFile
    /// Where committed predictions are announced to live subscribers, when this process serves them.
    public let feed: PredictionFeed?
    private let secret: Lazy<SecretKey>
    let warn: @Sendable (String) -> Void
    /// Writes the AI's replies in chats.
    public let responder: any ChatResponder
    /// Shared by every copy made with ``acting(as:)``: the server's per-request account check.
    let accountStatus = AccountStatusCache()
    /// Shared by every copy: decoded models, so predictions do not parse their model each time.
    let modelCache = ModelCache()
    /// Shared by every copy: explainers with their tables built, so explanations do not build them each time.
    let explainers = ExplainerCache()

    /// Creates the API; the store and the secret are opened on first use.
    /// - Parameters:
    ///   - database: the store, when the caller already has one open (the server, tests); otherwise the store in
    ///     `settings.home` is opened for the rest of the process, as one-shot commands want.
    ///   - warn: receives non-fatal problems, such as a weak secret or an unwritable text log.
    ///   - feed: announces committed predictions to live subscribers (the server's `GET /logs/stream`).
    package init(
        settings: Settings, caller: Caller, database: (any Store)? = nil, feed: PredictionFeed? = nil,
        responder: any ChatResponder = BuiltinResponder(), warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.settings = settings
        self.responder = responder
        self.feed = feed
        self.logFile = PredictionLogFile(settings: settings)
        self.caller = caller
        self.warn = warn
        self.database = Lazy { () throws(XalorraError) in
            if let database { return database }
            try settings.requireSQLiteStore()
            try FileSystem.makeDirectories(settings.home)
            return try AppDatabase.open(path: settings.databasePath, keepOpenUntilExit: true)
        }
        self.secret = Lazy { () throws(XalorraError) in try SecretKey.load(settings) }
        let store = self.database
        let logFile = self.logFile
        self.committer = Lazy { () throws(XalorraError) in
            GroupCommitter(repository: try store.get().predictions) { batches, ids in
                for (batch, batchIDs) in zip(batches, ids) { feed?.publish(batch, ids: batchIDs) }
                guard settings.predictionLog else { return }
                do throws(XalorraError) {
                    try logFile.append(batches)
                } catch {
                    warn("the predictions were stored, but the text log was not written: \(error.message)")
                }
            }
        }
        _ = Self.processStart
    }

    /// The store, opened on first use.
    func store() throws(XalorraError) -> any Store { try database.get() }

    private func predictions() throws(XalorraError) -> any PredictionRepository {
        try database.get().predictions
    }

    public func predict(model: String, features: [Number]) async throws(XalorraError) -> Prediction {
        let started = Self.monotonicMicros()
        let reference = try ModelReference(model)
        let (version, trained) = try await resolveModel(reference)
        let output: Number
        var probabilities: ClassProbabilities?
        if let version, let trained {
            try Self.checkWidth(features.count, of: version)
            let value = features.withUnsafeBufferPointer { cells in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: cells.count) { row in
                    for index in 0..<cells.count { row[index] = cells[index].doubleValue }
                    return trained.predict(UnsafeBufferPointer(row))
                }
            }
            output = try Self.finite(trained.classLabels.isEmpty ? .double(value) : ClassProbabilities.label(value),
                                     field: "features")
            probabilities = ClassProbabilities.of(trained, rows: features.map(\.doubleValue))?.first
        } else {
            output = try Self.finite(BaselineModel.predict(features), field: "features")
        }
        let versionName = version.map { String($0.version) } ?? BaselineModel.version
        var inputs = FeatureMatrix()
        inputs.append(row: features.lazy.map { Optional($0) })
        try await record(PredictionBatch(
            timestamp: .now(), tenant: caller.tenant, userID: caller.user, model: reference.name,
            version: versionName, inputs: inputs, predictions: [output],
            latencyMicros: Self.monotonicMicros() - started, textLog: settings.predictionLog))
        return Prediction(
            model: reference.name, input: features, prediction: output, version: versionName,
            probabilities: probabilities)
    }

    public func predictBatch(model: String, rows: FeatureMatrix) async throws(XalorraError) -> BatchPrediction {
        let started = Self.monotonicMicros()
        let reference = try ModelReference(model)
        let (version, trained) = try await resolveModel(reference)
        let outputs: [Number]
        var logged = rows
        var probabilities: [ClassProbabilities]?
        if let version, let trained {
            (outputs, logged) = try Self.predictRows(rows, with: trained, version)
            probabilities = ClassProbabilities.of(trained, matrix: logged)
        } else {
            outputs = try Self.baselineRows(rows)
        }
        let versionName = version.map { String($0.version) } ?? BaselineModel.version
        let perRow = rows.rowCount == 0 ? 0 : (Self.monotonicMicros() - started) / Int64(rows.rowCount)
        if rows.rowCount > 0 {
            try await record(PredictionBatch(
                timestamp: .now(), tenant: caller.tenant, userID: caller.user, model: reference.name,
                version: versionName, inputs: logged, predictions: outputs, latencyMicros: perRow,
                textLog: settings.predictionLog))
        }
        return BatchPrediction(
            model: reference.name, version: versionName, predictions: outputs, probabilities: probabilities)
    }

    public func logs(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
        var scoped = query
        scoped.tenant = try caller.tenantScope(requested: query.tenant)
        return try await predictions().list(scoped)
    }

    public func followLogs(_ query: LogQuery, after id: Int64?) -> AsyncThrowingStream<PredictionRecord, any Error> {
        let caller = self.caller
        if let feed {
            // In the serving process, predictions arrive from the feed as they commit.
            return AsyncThrowingStream { continuation in
                let task = Task {
                    do {
                        var scoped = query
                        scoped.tenant = try caller.tenantScope(requested: query.tenant)
                        // Subscribed before the replay reads the store, so nothing that commits meanwhile is lost;
                        // what both see is sent once (ids only grow).
                        let live = feed.subscribe(scoped)
                        var last = id ?? 0
                        if let id {
                            let store = try predictions()
                            var page = scoped
                            page.limit = LogQuery.maxLimit
                            var batch: [PredictionRecord]
                            last = id
                            repeat {
                                batch = try await store.records(after: last, matching: page)
                                for record in batch { continuation.yield(record) }
                                last = batch.last?.id ?? last
                            } while batch.count == page.limit && !Task.isCancelled
                        }
                        // Each id once: a row another process committed is read back from the store a moment later
                        // (``PredictionFeed/publishForeign(_:through:)``), possibly after newer rows of this process,
                        // and one this process committed may come both ways when the two race.
                        var sent = Set<Int64>()
                        var order: [Int64] = []
                        for await record in live where record.id > last && sent.insert(record.id).inserted {
                            continuation.yield(record)
                            order.append(record.id)
                            if order.count > 8_192 {
                                for old in order.prefix(4_096) { sent.remove(old) }
                                order.removeFirst(4_096)
                            }
                        }
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                    }
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
        let repository = Result { () throws(XalorraError) in try predictions() }
        let events = Result { () throws(XalorraError) in try store().events }
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let store = try repository.get()
                    var scoped = query
                    scoped.tenant = try caller.tenantScope(requested: query.tenant)
                    // The store's change events (``StoreEvents``): SQLite polls its newest id every 100 ms (under
                    // the 250 ms promised, nothing measurable when idle); PostgreSQL hears each commit (NOTIFY).
                    // Subscribed before the newest id is read, so nothing committed in between is missed.
                    let changes = try events.get().changes()
                    var last: Int64
                    if let id { last = id } else { last = try await store.newestID() }
                    // The id the store has been read to (in any tenant): a change up to it has nothing new.
                    var seen = last
                    for await change in changes {
                        guard !Task.isCancelled else { break }
                        var through = Int64.max
                        switch change {
                        case .predictions(let id) where id <= seen: continue
                        case .predictions(let id): through = id
                        case .resync: break
                        case .users, .apiKeys, .models: continue
                        }
                        var batch: [PredictionRecord]
                        repeat {
                            batch = try await store.records(after: last, matching: scoped)
                            for record in batch { continuation.yield(record) }
                            last = batch.last?.id ?? last
                        } while batch.count == scoped.limit
                        if through != Int64.max { seen = max(seen, through) }
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func exportLogs(
        _ request: LogExportRequest
    ) async throws(XalorraError) -> AsyncThrowingStream<[UInt8], any Error> {
        var filters = request.filters
        filters.tenant = try caller.tenantScope(requested: filters.tenant)
        let store = try predictions()
        let exporter = LogExporter(
            repository: store, filters: filters, format: request.format, newest: try await store.newestID())
        return AsyncThrowingStream { () async throws(XalorraError) -> [UInt8]? in try await exporter.next() }
    }

    public func routes() async throws(XalorraError) -> [RouteListing] { RouteTable.all.map(RouteListing.init) }

    public func health() async throws(XalorraError) -> HealthReport {
        let started = Self.monotonicMicros()
        var failure: XalorraError?
        do { try await database.get().ping() } catch { failure = error }
        let elapsed = Double(Self.monotonicMicros() - started) / 1000
        return HealthReport(
            databaseUp: failure == nil, databaseMilliseconds: elapsed,
            databaseError: failure.map { $0.code == .serviceUnavailable ? $0.message : "the store does not answer" },
            uptimeSeconds: (Self.monotonicMicros() - Self.processStart) / 1_000_000,
            cpuPercent: await HostMetrics.cpuPercent(), memoryPercent: HostMetrics.memoryPercent(),
            diskPercent: HostMetrics.diskPercent(path: settings.home),
            aiService: (responder.name, await responder.health()))
    }

    /// 503 `SERVICE_UNAVAILABLE` while the store is known to be unreachable, found without asking it (``Store/outage``).
    package func storeOutage() -> XalorraError? { (try? database.get())?.outage }

    /// The same API acting for another caller, sharing the store and secret: the server makes one per request.
    /// - Parameter caller: an authenticated caller, its `account` resolved (``caller(for:)``): `nil` there means a
    ///   name without an account, never "look it up".
    public func acting(as caller: Caller) -> LocalAPI {
        var copy = self
        copy.caller = caller
        copy.callerResolved = true
        return copy
    }

    /// When this process first used the API, for `uptime`.
    private static let processStart = monotonicMicros()

    public func mintToken(_ request: TokenRequest) async throws(XalorraError) -> IssuedToken {
        try await audited("tokens.mint", object: request.user) { () throws(XalorraError) in
            let service = try await tokenService()
            // A token for a name with an account is that account's and says so (its `jti`), as a login's does: a later
            // account of the same name will not take it for its own. For a name without one, it is the name's alone.
            let account = try await userStore().user(named: request.user)
            let (token, claims) = try await service.mint(
                user: request.user, role: request.role, tenant: request.tenant, ttl: request.ttl,
                id: account.map { User.tokenID(for: $0.id) } ?? TokenService.randomID())
            return IssuedToken(token: token, expiresIn: request.ttl.seconds, claims: claims)
        }
    }

    public func verifyToken(_ token: String) async throws(XalorraError) -> TokenClaims {
        try await tokenService().verify(Settings.stripBearer(token), expecting: nil)
    }

    /// The token service for this deployment's secret.
    public func tokenService() async throws(XalorraError) -> TokenService {
        let key = try secret.get()
        if let warning = key.warning { warn(warning) }
        return await TokenService(
            secret: key.value, algorithm: settings.algorithm, acceptLegacyTokens: settings.acceptLegacyTokens)
    }

    /// A model's answer, refused when it is not a finite number (features near the largest double sum to
    /// infinity), which JSON cannot carry and the log could not be read back with.
    static func finite(_ output: Number, field: String) throws(XalorraError) -> Number {
        guard output.isFinite else {
            throw XalorraError.invalid(field, "the prediction is not a finite number: the features are too large")
        }
        return output
    }

    /// Commits `batch` (with whatever else arrives meanwhile); the text log and the live feed follow the commit.
    private func record(_ batch: PredictionBatch) async throws(XalorraError) {
        _ = try await committer.get().insert(batch)
    }

    private static func monotonicMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }
}
