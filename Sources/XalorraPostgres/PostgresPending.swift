import XalorraCore
import XalorraML

// Placeholders for the repositories not yet written for PostgreSQL: each answers 501 (`NOT_IMPLEMENTED`) saying so.
// Whoever writes the real one deletes its placeholder here (the type names are the final ones, so that
// ``PostgresStore`` does not change).

/// The refusal of an operation this build cannot do on PostgreSQL yet.
func pendingOnPostgres(_ what: String) -> XalorraError {
    XalorraError(.unsupported, "\(what) is not yet available on the PostgreSQL store", hint: "use the SQLite store")
}
