public import XalorraML

/// One immutable version of a model: what trained or imported it, on which features, how well it did.
public struct ModelVersion: Sendable, Equatable {
    /// The model's name.
    public let name: String
    /// The tenant that owns the model.
    public let tenant: String
    /// The version number, counting from 1; never reused while the model exists.
    public let version: Int
    /// What produced it.
    public let kind: ModelKind
    /// The training settings (an object; empty for imports).
    public let hyperparameters: JSONValue
    /// Quality on the validation split, when there was one.
    public let metrics: Metrics?
    /// The features a row must have, in order.
    public let features: [String]
    /// Trees in the model (0 for linear kinds).
    public let trees: Int
    /// The serialized model's size in bytes.
    public let size: Int
    /// When it was stored.
    public let createdAt: Timestamp
    /// Who trained or imported it.
    public let createdBy: String
    /// Each feature's total split gain and split count in a tree model's trees (the global view of issue 16's
    /// explanations); `nil` for other kinds, and in lists of versions (only a version shown on its own has them).
    public var importances: FeatureImportances?

    /// Creates a version description.
    public init(
        name: String, tenant: String, version: Int, kind: ModelKind, hyperparameters: JSONValue, metrics: Metrics?,
        features: [String], trees: Int, size: Int, createdAt: Timestamp, createdBy: String
    ) {
        self.name = name
        self.tenant = tenant
        self.version = version
        self.kind = kind
        self.hyperparameters = hyperparameters
        self.metrics = metrics
        self.features = features
        self.trees = trees
        self.size = size
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.importances = nil
    }

    /// `name@version`.
    public var reference: String { "\(name)@\(version)" }
}

extension ModelVersion: JSONRepresentable {
    /// `{"name","version","kind","tenant","features","feature_count","trees","metrics","hyperparameters","size_bytes",
    /// "created_at","created_by"}`; the version is a string, as in prediction responses.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("name", .string(name)), ("version", .string(String(version))), ("kind", .string(kind.rawValue)),
            ("tenant", .string(tenant)), ("features", .array(features.map { .string($0) })),
            ("feature_count", .int(features.count)), ("trees", .int(trees)),
            ("metrics", metrics?.json ?? .null), ("hyperparameters", hyperparameters), ("size_bytes", .int(size)),
            ("created_at", .string(createdAt.iso8601)), ("created_by", .string(createdBy)),
        ]
        if let importances { members.append(("importances", importances.json(features: features))) }
        return .object(members)
    }
}

/// A model with its versions, newest first (`GET /models/{name}`).
public struct ModelDetail: Sendable, Equatable {
    /// The model's name.
    public let name: String
    /// The tenant that owns it.
    public let tenant: String
    /// Its versions, newest first.
    public let versions: [ModelVersion]

    /// Creates a detail.
    public init(name: String, tenant: String, versions: [ModelVersion]) {
        self.name = name
        self.tenant = tenant
        self.versions = versions
    }
}

extension ModelDetail: JSONRepresentable {
    /// `{"name","tenant","latest_version","versions":[…]}`.
    public var json: JSONValue {
        .object([
            ("name", .string(name)), ("tenant", .string(tenant)),
            ("latest_version", versions.first.map { .string(String($0.version)) } ?? .null),
            ("versions", .array(versions.map(\.json))),
        ])
    }
}

/// One row of `GET /models`: a model and its newest version.
public struct ModelSummary: Sendable, Equatable {
    /// The newest version.
    public let latest: ModelVersion
    /// How many versions the model has.
    public let versionCount: Int

    /// Creates a summary.
    public init(latest: ModelVersion, versionCount: Int) {
        self.latest = latest
        self.versionCount = versionCount
    }
}

extension ModelSummary: JSONRepresentable {
    /// `{"name","tenant","latest_version","versions","kind","features","metrics","updated_at"}`.
    public var json: JSONValue {
        .object([
            ("name", .string(latest.name)), ("tenant", .string(latest.tenant)),
            ("latest_version", .string(String(latest.version))), ("versions", .int(versionCount)),
            ("kind", .string(latest.kind.rawValue)), ("feature_count", .int(latest.features.count)),
            ("metrics", latest.metrics?.json ?? .null), ("updated_at", .string(latest.createdAt.iso8601)),
        ])
    }
}

/// Which models `GET /models` lists.
public struct ModelQuery: Sendable, Equatable {
    /// The largest page.
    public static let maxLimit = 100

    /// Another tenant's models (admins only); the caller's own by default.
    public var tenant: String?
    /// Page size.
    public var limit: Int
    /// Models to skip.
    public var offset: Int

    /// Creates a query.
    public init(tenant: String? = nil, limit: Int = Paging.defaultLimit, offset: Int = 0) {
        self.tenant = tenant
        self.limit = limit
        self.offset = offset
    }
}
