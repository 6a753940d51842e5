import XalorraCore
import XalorraML

// Placeholders for the repositories not yet written for PostgreSQL: each answers 501 (`NOT_IMPLEMENTED`) saying so.
// Whoever writes the real one deletes its placeholder here (the type names are the final ones, so that
// ``PostgresStore`` does not change).

/// The refusal of an operation this build cannot do on PostgreSQL yet.
func pendingOnPostgres(_ what: String) -> XalorraError {
    XalorraError(.unsupported, "\(what) is not yet available on the PostgreSQL store", hint: "use the SQLite store")
}

// Added to PredictionRepository on main while the PostgreSQL store was written (issues 16 and 18): not on PostgreSQL
// yet.
extension PostgresPredictionRepository {
    func prune(before cutoff: Timestamp, model: String?, dryRun: Bool) async throws(XalorraError) -> PruneCount {
        throw pendingOnPostgres("pruning the prediction log")
    }

    func driftCounts(
        tenant: String, model: String, version: String, since: Timestamp, until: Timestamp, profile: FeatureProfile
    ) async throws(XalorraError) -> DriftCounter {
        throw pendingOnPostgres("drift")
    }
}
