/// What `xalorra store copy` moves from a SQLite store to a PostgreSQL one, table by table, in an order that keeps
/// every foreign key satisfied (a row's parent is copied before it).
package enum StoreCopyPlan {
    /// The tables, parents first; each is read in `rowid` order, a page at a time.
    package static let tables = [
        "users", "deleted_users", "refresh_tokens", "conversations", "messages", "models", "model_versions",
        "model_profiles", "training_jobs", "api_keys", "audit_log", "predictions",
    ]

    /// Rows per page read: a page is one multi-row insert (one transaction) on the destination (prediction records:
    /// one insert per 8 MB of blocks). Model versions and jobs carry documents and data, so their pages are smaller.
    package static func pageRows(_ table: String) -> Int {
        switch table {
        case "predictions": 1_000
        case "model_versions", "training_jobs": 20
        default: 1_000
        }
    }

    /// The tables whose id the destination hands out next (PostgreSQL identity columns): after a copy they continue
    /// past the copied ids, and past the ids SQLite's AUTOINCREMENT already used (a deleted account's id is never
    /// reused).
    package static let identityTables = ["users", "conversations", "messages", "models", "training_jobs", "audit_log"]

    /// Why a training job still queued or running in the source is copied as failed.
    package static let unfinishedJob = "not finished when the store was copied to PostgreSQL; start it again"

    /// `row` of `table` as the destination receives it: a training job still queued or running is copied as failed
    /// (the source's server may still run it, and a job must not run twice), without its data; every other row as
    /// it is.
    package static func adapt(_ table: String, columns: [String], row: [CopyValue], now: Timestamp) -> [CopyValue] {
        guard table == "training_jobs", let status = columns.firstIndex(of: "status"),
            row[status] == .text("queued") || row[status] == .text("running")
        else { return row }
        var out = row
        for (index, column) in columns.enumerated() {
            switch column {
            case "status": out[index] = .text("failed")
            case "error": out[index] = .text(unfinishedJob)
            case "data": out[index] = .null
            case "finished_at": out[index] = .integer(now.microseconds)
            default: break
            }
        }
        return out
    }
}

/// One cell of a copied row, as SQLite stored it.
package enum CopyValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One page of a table read from the source: its columns and rows, and the last `rowid` read (where the next page
/// starts).
package struct CopyPage: Sendable {
    package let columns: [String]
    package let rows: [[CopyValue]]
    package let lastRowID: Int64
}
