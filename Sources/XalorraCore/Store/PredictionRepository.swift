public import XalorraML

/// Storage of the prediction log. SQLite implements it now; a PostgreSQL implementation can sit beside it.
public protocol PredictionRepository: Sendable {
    /// Stores every row of every batch in one transaction; returns each batch's new ids in row order.
    func insert(batches: [PredictionBatch]) async throws(XalorraError) -> [[Int64]]

    /// The page of records matching `query`, newest first.
    func list(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord>

    /// Records matching `query`'s filters with an id above `id`, oldest first, at most `query.limit`.
    func records(after id: Int64, matching query: LogQuery) async throws(XalorraError) -> [PredictionRecord]

    /// The id of the newest record in any tenant, or 0 when there is none.
    func newestID() async throws(XalorraError) -> Int64

    /// A number that changes whenever any process commits to the store; cheap enough to poll.
    func changeCounter() async throws(XalorraError) -> Int64

    /// Deletes (or with `dryRun` only counts) the records logged before `cutoff`, of `model` only when given, in
    /// bounded transactions with the writer free between them; the newest record is always kept (its id is where
    /// the next ids continue). See ``SQLitePredictionRepository/prune(before:model:dryRun:)``.
    func prune(before cutoff: Timestamp, model: String?, dryRun: Bool) async throws(XalorraError) -> PruneCount

    /// The rows of `model`'s `version` logged in `tenant` from `since` to `until`, counted into `profile`'s bins
    /// (issue 16's drift): read block by block, never held as records, so a million rows cost their reading alone.
    func driftCounts(
        tenant: String, model: String, version: String, since: Timestamp, until: Timestamp, profile: FeatureProfile
    ) async throws(XalorraError) -> DriftCounter
}
