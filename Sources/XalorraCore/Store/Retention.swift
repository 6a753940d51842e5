package import Logging

/// How much a prune deleted (or, dry, would delete).
public struct PruneCount: Sendable, Equatable {
    /// Prediction rows (a batch's rows one by one).
    public var rows = 0
    /// Records of the log (a batch of up to 1,024 rows is one).
    public var records = 0

    public init(rows: Int = 0, records: Int = 0) {
        self.rows = rows
        self.records = records
    }

    /// Both counts summed.
    public static func += (lhs: inout PruneCount, rhs: PruneCount) {
        lhs.rows += rhs.rows
        lhs.records += rhs.records
    }
}

/// Retention of the prediction log and the audit log: `xalorra logs prune` and what `serve` applies periodically
/// (`XALORRA_LOG_RETENTION`, `XALORRA_AUDIT_RETENTION`), on either store (its prediction and audit repositories'
/// bounded prunes).
package struct Retention: Sendable {
    /// The store.
    package let store: any Store

    /// Works on `store`.
    package init(store: any Store) { self.store = store }

    /// What one `logs prune` did.
    package struct PruneReport: Sendable {
        /// Predictions logged before this were deleted.
        package let cutoff: Timestamp
        /// Only this model's, when given.
        package let model: String?
        /// Nothing was deleted, only counted.
        package let dryRun: Bool
        /// What was (or would be) deleted.
        package let deleted: PruneCount

        /// `{"cutoff","model","dry_run","deleted_rows","deleted_records"}`.
        package var json: JSONValue {
            .object([
                ("cutoff", .string(cutoff.iso8601)), ("model", model.map { .string($0) } ?? .null),
                ("dry_run", .bool(dryRun)), ("deleted_rows", .int(deleted.rows)),
                ("deleted_records", .int(deleted.records)),
            ])
        }
    }

    /// Deletes the predictions older than `age` (of `model` only, when given), and writes an audit row
    /// (`logs.prune`) for a real prune.
    /// - Parameters:
    ///   - actor: who asked, for the audit row.
    ///   - auditNothing: also write the audit row when nothing was old enough (the server's rounds do not).
    package func prunePredictions(
        olderThan age: TimeSpan, model: String?, dryRun: Bool, actor: String, auditNothing: Bool = true,
        now: Timestamp = .now()
    ) async throws(XalorraError) -> PruneReport {
        let cutoff = now.adding(seconds: -age.seconds)
        let repository = store.predictions
        let object = "older than \(age)" + (model.map { ", model \($0)" } ?? "")
        let deleted: PruneCount
        do {
            deleted = try await repository.prune(before: cutoff, model: model, dryRun: dryRun)
        } catch {
            if !dryRun { try? await audit(actor: actor, object: object, outcome: "failure: \(error.code.name)") }
            throw error
        }
        if !dryRun, auditNothing || deleted.records > 0 {
            try await audit(actor: actor, object: object, outcome: "success: \(deleted.rows) predictions deleted")
        }
        return PruneReport(cutoff: cutoff, model: model, dryRun: dryRun, deleted: deleted)
    }

    /// Deletes audit rows older than `age`, 1,000 a transaction; returns how many.
    package func pruneAudit(olderThan age: TimeSpan, now: Timestamp = .now()) async throws(XalorraError) -> Int {
        try await store.audit.prune(before: now.adding(seconds: -age.seconds))
    }

    /// One round of the server's retention: the settings' prediction and audit retention, each when set. Failures are
    /// logged; an audit row is written only when predictions were deleted.
    package func apply(_ settings: Settings, logger: Logger) async {
        if let age = settings.logRetention {
            do {
                let report = try await prunePredictions(olderThan: age, model: nil, dryRun: false, actor: "retention", auditNothing: false)
                if report.deleted.records > 0 {
                    logger.info("retention: deleted \(report.deleted.rows) predictions older than \(age)")
                }
            } catch {
                logger.warning("retention: pruning predictions failed: \(error.message)")
            }
        }
        if let age = settings.auditRetention {
            do {
                let deleted = try await pruneAudit(olderThan: age)
                if deleted > 0 { logger.info("retention: deleted \(deleted) audit rows older than \(age)") }
            } catch {
                logger.warning("retention: pruning the audit log failed: \(error.message)")
            }
        }
    }

    private func audit(actor: String, object: String, outcome: String) async throws(XalorraError) {
        try await store.audit.append(
            at: .now(), actor: actor, keyID: nil, origin: "local", action: "logs.prune", object: object,
            outcome: outcome)
    }
}
