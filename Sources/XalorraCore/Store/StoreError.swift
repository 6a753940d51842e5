import GRDB

/// Turns SQLite failures into messages for people, without SQL or internals.
enum StoreError {
    /// A short description of `error` for the CLI.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return "the store stayed busy for \(Int(AppDatabase.busyTimeoutSeconds)) s"
        case .SQLITE_CANTOPEN: return "the file cannot be opened"
        case .SQLITE_READONLY: return "the file is read-only"
        case .SQLITE_FULL: return "the disk is full"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return "the file is not a valid xalorra store"
        default: return error.message ?? "SQLite error \(error.resultCode.rawValue)"
        }
    }

    /// Wraps any store failure as an internal ``XalorraError``.
    static func wrap(_ error: any Error) -> XalorraError {
        if let error = error as? XalorraError { return error }
        return XalorraError(.internal, "store: \(describe(error))")
    }
}
