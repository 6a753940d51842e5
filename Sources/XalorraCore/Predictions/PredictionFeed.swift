public import Logging
import Synchronization
import XalorraML

/// Predictions as they are committed, for live subscribers (`GET /logs/stream`, `logs --tail` in the server's
/// process). A subscriber that falls `bufferSize` records behind is dropped rather than allowed to slow the writers.
public final class PredictionFeed: Sendable {
    /// Records a subscriber may fall behind before it is dropped.
    public let bufferSize: Int

    private struct Subscriber {
        let query: LogQuery
        let continuation: AsyncStream<PredictionRecord>.Continuation
    }

    private let subscribers = Mutex<[Int: Subscriber]>([:])
    private let committed = Mutex<[String: Int]>([:])

    /// Predictions committed through this feed so far, by model (for `/metrics`): a registered model's own name or
    /// one of `countedModels`; every other name (anyone may predict against any name while the baseline answers for
    /// it) is counted under ``otherModels``, so that the series stay as few as the models.
    public var committedByModel: [String: Int] { committed.withLock { $0 } }
    /// The label of predictions by names that are neither registered nor listed (`XALORRA_METRICS_MODELS`).
    public static let otherModels = "_other"
    private let countedModels: Set<String>
    private let nextID = Mutex<Int>(0)
    /// The id ranges this process committed and published, above the point the store has been read to for other
    /// processes' rows (``foreignGap(after:through:)``, ``publishForeign(_:through:)``), by lower bound.
    private let own = Mutex<[ClosedRange<Int64>]>([])
    private let closedForAccess = Mutex<[String: Int]>([:])
    private let logger: Logger

    /// Own rows held behind other processes' lower ids (``startOrdering(from:)``).
    private struct Ordering {
        var on = false
        /// The id the store has been read to for other processes' rows (``publishForeign(_:through:)``).
        var readThrough: Int64 = 0
        /// Own batches committed above ids not yet handed on, oldest first.
        var held: [(batch: PredictionBatch, ids: [Int64])] = []
    }

    /// Locked before `own` and `subscribers` when both are; held while rows are yielded, so that the order decided
    /// is the order handed on.
    private let ordering = Mutex(Ordering())

    /// Streams closed because their subscriber lost access, by error code (`TOKEN_EXPIRED`, ...), for `/metrics`.
    public var closedForAccessByCode: [String: Int] { closedForAccess.withLock { $0 } }

    /// Creates a feed.
    /// - Parameters:
    ///   - logger: where streams closed for lost access are logged (the server's log).
    ///   - countedModels: names counted on their own while the baseline answers for them.
    public init(bufferSize: Int = 1024, logger: Logger = Logger(label: "xalorra"), countedModels: Set<String> = []) {
        self.bufferSize = bufferSize
        self.logger = logger
        self.countedModels = countedModels
    }

    /// Counts and logs a live stream (`route`, its path) of `user` closed because its subscriber lost access.
    public func recordClosedForAccess(route: String, user: String, reason: XalorraError) {
        let total = closedForAccess.withLock { counts in
            counts[reason.code.name, default: 0] += 1
            return counts.values.reduce(0, +)
        }
        logger.info(
            "\(route) closed: \(reason.code.name)",
            metadata: ["user": "\(user)", "closed-for-access": "\(total)"])
    }

    /// How many subscribers are listening.
    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// Records committed from now on that match `query`'s tenant and model, until the consumer stops or falls behind.
    public func subscribe(_ query: LogQuery) -> AsyncStream<PredictionRecord> {
        let id = nextID.withLock { value in
            value += 1
            return value
        }
        let (stream, continuation) = AsyncStream.makeStream(
            of: PredictionRecord.self, bufferingPolicy: .bufferingOldest(bufferSize))
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = Subscriber(query: query, continuation: continuation) }
        return stream
    }

    /// Ends every subscription: the server is shutting down, and open event streams must not hold it up.
    public func finishAll() {
        let listening = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for subscriber in listening { subscriber.continuation.finish() }
    }

    /// Hands rows on in id order from now on: the store has been read to `id` for other processes' rows, and a
    /// batch this process commits above ids it has not handed on yet (another instance committed them just before,
    /// ``ForeignPredictions`` reads them a moment later) is held until they are (``publishForeign(_:through:)``).
    public func startOrdering(from id: Int64) {
        ordering.withLock { ordering in
            ordering.on = true
            ordering.readThrough = max(ordering.readThrough, id)
        }
    }

    /// Hands the committed `batch`, whose rows got `ids`, to every matching subscriber (once every lower id is
    /// handed on, when ordering is on).
    public func publish(_ batch: PredictionBatch, ids: [Int64]) {
        let counted =
            batch.version != BaselineModel.version || countedModels.contains(batch.model) ? batch.model : Self.otherModels
        committed.withLock { $0[counted, default: 0] += ids.count }
        guard let first = ids.first, let last = ids.last else { return }
        // Marked as this process's own and handed on under the ordering lock, as ``publishForeign(_:through:)``
        // hands on the rows it read: neither overtakes the other between deciding the order and yielding the rows,
        // and the reader never takes these ids for rows already handed on while they are not yet.
        ordering.withLock { ordering in
            own.withLock { Self.insert(first...last, into: &$0) }
            if ordering.on, !ordering.held.isEmpty || foreignGap(after: ordering.readThrough, through: first - 1) {
                ordering.held.append((batch, ids))
            } else {
                deliver(batch, ids: ids)
            }
        }
    }

    /// Yields `batch`'s rows to the matching subscribers.
    private func deliver(_ batch: PredictionBatch, ids: [Int64]) {
        let listening = subscribers.withLock { Array($0.values) }
        let matching = listening.filter { subscriber in
            (subscriber.query.tenant.map { $0 == batch.tenant } ?? true)
                && (subscriber.query.model.map { $0 == batch.model } ?? true)
        }
        guard !matching.isEmpty else { return }
        for (index, id) in ids.enumerated() {
            let record = PredictionRecord(
                id: id, timestamp: batch.timestamp, model: batch.model, version: batch.version,
                input: batch.input(index), prediction: batch.predictions[index], userID: batch.userID,
                tenant: batch.tenant, latencyMicros: batch.latencyMicros)
            for subscriber in matching {
                if case .dropped = subscriber.continuation.yield(record) { subscriber.continuation.finish() }
            }
        }
    }

    /// Whether ids in `(after, through]` were committed by another process (the CLI, another server on the same
    /// store): some id there is not one this process published. Then the store has rows for ``publishForeign``.
    public func foreignGap(after: Int64, through: Int64) -> Bool {
        guard through > after else { return false }
        let ranges = own.withLock { $0 }
        var covered = after
        for range in ranges where range.upperBound > covered {
            guard range.lowerBound <= covered + 1 else { return true }
            covered = range.upperBound
            if covered >= through { return false }
        }
        return covered < through
    }

    /// Adds `range` to `ranges`, kept in order of lower bound: an append, as a process publishes its groups in commit
    /// order, which is id order, and an extension of the last range when it follows on (the ids of a process alone on
    /// its store are one range). Sorting them on every ``foreignGap(after:through:)`` and walking one range per group
    /// was 1.5 % of a single-row prediction's time (RESULTS §19).
    static func insert(_ range: ClosedRange<Int64>, into ranges: inout [ClosedRange<Int64>]) {
        guard let last = ranges.last, last.lowerBound > range.lowerBound else {
            if let last = ranges.last, last.upperBound + 1 == range.lowerBound {
                ranges[ranges.count - 1] = last.lowerBound...range.upperBound
            } else {
                ranges.append(range)
            }
            return
        }
        ranges.insert(range, at: ranges.firstIndex { $0.lowerBound > range.lowerBound } ?? ranges.endIndex)
    }

    /// Hands rows read back from the store (after the previous read, oldest first) to matching subscribers, except
    /// those this process committed itself (it published them as they committed), then forgets its own ranges up to
    /// `through`, the id the store has now been read to. Rows of other processes arrive this way a moment after
    /// they commit, and may follow newer rows of this process's own: a follower sends each id once
    /// (``LocalAPI/followLogs(_:after:)``).
    public func publishForeign(_ records: [PredictionRecord], through: Int64) {
        // All under the ordering lock, the yields too: a batch of this process's own that commits meanwhile is
        // handed on (``publish(_:ids:)``) before these rows or after them, never between (CI run 26 saw
        // `73, 76, 77, 78, 74, 75` when these were yielded after the lock was released).
        ordering.withLock { ordering in
            let ranges = own.withLock { ranges in
                defer { ranges.removeAll { $0.upperBound <= through } }
                return ranges
            }
            var foreign = records.filter { record in !ranges.contains { $0.contains(record.id) } }
            // Own batches held behind these rows go out with them, in id order.
            ordering.readThrough = max(ordering.readThrough, through)
            var released = false
            while let next = ordering.held.first, let first = next.ids.first,
                !foreignGap(after: ordering.readThrough, through: first - 1) || first <= ordering.readThrough + 1
            {
                let (batch, ids) = ordering.held.removeFirst()
                released = true
                for (index, id) in ids.enumerated() {
                    foreign.append(PredictionRecord(
                        id: id, timestamp: batch.timestamp, model: batch.model, version: batch.version,
                        input: batch.input(index), prediction: batch.predictions[index], userID: batch.userID,
                        tenant: batch.tenant, latencyMicros: batch.latencyMicros))
                }
            }
            if released { foreign.sort { $0.id < $1.id } }
            guard !foreign.isEmpty else { return }
            let listening = subscribers.withLock { Array($0.values) }
            for record in foreign {
                for subscriber in listening
                where (subscriber.query.tenant.map { $0 == record.tenant } ?? true)
                    && (subscriber.query.model.map { $0 == record.model } ?? true)
                {
                    if case .dropped = subscriber.continuation.yield(record) { subscriber.continuation.finish() }
                }
            }
        }
    }
}
