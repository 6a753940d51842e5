public import XalorraML

/// A training run on the server (`POST /train/{model}`) or in the CLI: a row that moves
/// `queued → running → succeeded | failed | cancelled`.
public struct TrainingJob: Sendable, Equatable {
    /// Where a job is.
    public enum Status: String, Sendable, CaseIterable {
        case queued, running, succeeded, failed, cancelled

        /// Whether the job has stopped for good.
        public var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    /// `job_N`.
    public let id: String
    /// The model the job trains a version of.
    public let model: String
    /// The tenant that owns it.
    public let tenant: String
    /// The kind being trained.
    public let kind: ModelKind
    /// The target column.
    public let target: String
    /// Data rows (before the validation split).
    public let rows: Int
    /// The training settings.
    public let hyperparameters: JSONValue
    /// Where it is.
    public let status: Status
    /// Rounds or iterations done.
    public let progressDone: Int
    /// Rounds or iterations planned.
    public let progressTotal: Int
    /// The validation loss after the last round, when there is a validation split.
    public let validationLoss: Double?
    /// Why it failed (`interrupted` when the server stopped while it ran).
    public let error: String?
    /// The version it produced, once succeeded.
    public let version: Int?
    /// Who submitted it.
    public let createdBy: String
    /// When it was submitted, started and finished.
    public let createdAt: Timestamp
    public let startedAt: Timestamp?
    public let finishedAt: Timestamp?

    /// Creates a job description.
    public init(
        id: String, model: String, tenant: String, kind: ModelKind, target: String, rows: Int,
        hyperparameters: JSONValue, status: Status, progressDone: Int, progressTotal: Int, validationLoss: Double?,
        error: String?, version: Int?, createdBy: String, createdAt: Timestamp, startedAt: Timestamp?,
        finishedAt: Timestamp?
    ) {
        self.id = id
        self.model = model
        self.tenant = tenant
        self.kind = kind
        self.target = target
        self.rows = rows
        self.hyperparameters = hyperparameters
        self.status = status
        self.progressDone = progressDone
        self.progressTotal = progressTotal
        self.validationLoss = validationLoss
        self.error = error
        self.version = version
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// The `job_N` form of a row id.
    public static func publicID(_ id: Int64) -> String { "job_\(id)" }

    /// The row id in `job_N`; 404 for anything else.
    public static func rowID(_ text: String) throws(XalorraError) -> Int64 {
        guard text.hasPrefix("job_"), let id = Int64(text.dropFirst(4)), id > 0 else {
            throw XalorraError(.notFound, "training job '\(text)' not found")
        }
        return id
    }
}

extension TrainingJob: JSONRepresentable {
    /// `{"id","model","tenant","kind","target","rows","status","progress":{done,total},"validation_loss",
    /// "error","version","hyperparameters","created_by","created_at","started_at","finished_at"}`.
    public var json: JSONValue {
        .object([
            ("id", .string(id)), ("model", .string(model)), ("tenant", .string(tenant)),
            ("kind", .string(kind.rawValue)), ("target", .string(target)), ("rows", .int(rows)),
            ("status", .string(status.rawValue)),
            ("progress", .object([("done", .int(progressDone)), ("total", .int(progressTotal))])),
            ("validation_loss", validationLoss.map { .number(.double($0)) } ?? .null),
            ("error", error.map { .string($0) } ?? .null),
            ("version", version.map { .string(String($0)) } ?? .null),
            ("hyperparameters", hyperparameters), ("created_by", .string(createdBy)),
            ("created_at", .string(createdAt.iso8601)),
            ("started_at", startedAt.map { .string($0.iso8601) } ?? .null),
            ("finished_at", finishedAt.map { .string($0.iso8601) } ?? .null),
        ])
    }
}

/// Which jobs `GET /train/jobs` lists, newest first.
public struct TrainingJobQuery: Sendable, Equatable {
    /// The largest page.
    public static let maxLimit = 100

    /// Another tenant's jobs (admins only); the caller's own tenant by default.
    public var tenant: String?
    /// Only jobs of this model.
    public var model: String?
    /// Only jobs in this state.
    public var status: TrainingJob.Status?
    /// Page size.
    public var limit: Int
    /// Jobs to skip.
    public var offset: Int

    /// Creates a query.
    public init(
        tenant: String? = nil, model: String? = nil, status: TrainingJob.Status? = nil, limit: Int = Paging.defaultLimit,
        offset: Int = 0
    ) {
        self.tenant = tenant
        self.model = model
        self.status = status
        self.limit = limit
        self.offset = offset
    }
}
