import XalorraCore

/// The rows of the commands that act on the local store's file: `backup`, `restore`, `logs prune`.
extension CommandTable {
    static let backup = CommandSpec(
        "backup", summary: "Write a consistent, checked copy of the store while servers keep running.",
        discussion: """
            Offline only: it copies $XALORRA_HOME/xalorra.db (with --url it exits 2). The copy is the store as of \
            one moment (SQLite's VACUUM INTO in one read transaction; servers keep writing meanwhile), checked with \
            PRAGMA integrity_check, written under a temporary name and renamed, mode 0600. Prints its size and \
            what it holds; with --json, {path, bytes, schema_version, integrity, predictions, users, \
            model_versions, audit_rows}. `serve --backup-every 6h` keeps rotating backups in $XALORRA_HOME/backups.
            """,
        arguments: [ArgumentSpec("file", .file, "Where to write the copy")],
        options: [.flag("--force", "Replace FILE if it exists")],
        examples: ["xalorra backup /srv/backups/xalorra-monday.db", "xalorra backup today.db --force --json"],
        run: BackupCommand.backup)

    static let restore = CommandSpec(
        "restore", summary: "Replace the store with a backup (refused while a server is running on it).",
        discussion: """
            Offline only (with --url it exits 2). FILE must be an SQLite xalorra store that passes PRAGMA \
            integrity_check, of a schema no newer than this build's (older ones are migrated when next opened). \
            Refused with exit 2 while any `xalorra serve` holds $XALORRA_HOME/serve.lock. The current store is \
            kept as xalorra.db.before-restore (replacing an earlier one) and the copy renamed into place.
            """,
        arguments: [ArgumentSpec("file", .file, "The backup to restore")],
        examples: ["xalorra restore /srv/backups/xalorra-monday.db"],
        run: BackupCommand.restore)

    static let logsPrune = CommandSpec(
        "prune", summary: "Delete predictions older than a duration, in small batches (offline, admin).",
        discussion: """
            Offline only, like a database's own shell (with --url it exits 2), on the store XALORRA_DATABASE_URL / \
            --database names, SQLite or PostgreSQL; a running server keeps serving: records are deleted at most \
            \(SQLitePredictionRepository.pruneBatchRecords) (and \(SQLitePredictionRepository.pruneBatchRows) rows) a \
            transaction, paced so the store stays free for requests between them. The newest record is always kept (ids continue from it). Writes an audit row \
            (logs.prune). XALORRA_LOG_RETENTION makes `serve` do this every 10 minutes. With --json, \
            {cutoff, model, dry_run, deleted_rows, deleted_records}.
            """,
        options: [
            .value("--older-than", .duration, metaVar: "duration", "Delete what was logged longer ago than this (90d)"),
            .value("--model", .text, metaVar: "model", "Only this model's predictions"),
            .flag("--dry-run", "Only count what would be deleted"),
        ],
        examples: ["xalorra logs prune --older-than 90d", "xalorra logs prune --older-than 7d --model xgb-v2 --dry-run"],
        run: LogsPruneCommand.run)
}
