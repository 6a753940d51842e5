package import XalorraML

/// The model registry: models by tenant and name, and their immutable versions. SQLite: ``SQLiteModelRepository``.
package protocol ModelRepository: Sendable {
    /// Stores `new` as the model's next version, creating the model on its first version.
    func add(_ new: NewModelVersion, now: Timestamp) async throws(XalorraError) -> ModelVersion
    /// A page of the tenant's models that have a version, by name, each with its newest version.
    func list(tenant: String, limit: Int, offset: Int) async throws(XalorraError) -> Page<ModelSummary>
    /// Every version of one model, newest first; 404 when it has none.
    func versions(tenant: String, name: String) async throws(XalorraError) -> [ModelVersion]
    /// One version (the newest when `version` is nil) with its stored document, or `nil` when there is none.
    func load(tenant: String, name: String, version: Int?) async throws(XalorraError) -> (ModelVersion, [UInt8])?
    /// `version` if the model has it, else the newest version when `version` is nil; `nil` when there is none.
    func currentVersion(tenant: String, name: String, version: Int?) async throws(XalorraError) -> Int?
    /// Deletes one version, or the model with all its versions; 404 when there was nothing to delete.
    func delete(tenant: String, name: String, version: Int?) async throws(XalorraError)
}

extension ModelRepository {
    package typealias NewVersion = NewModelVersion
}

/// What a new version is made of (the store assigns the number and the time).
package struct NewModelVersion: Sendable {
    package var tenant: String
    package var name: String
    package var kind: ModelKind
    package var hyperparameters: JSONValue
    package var metrics: Metrics?
    package var features: [String]
    package var trees: Int
    package var document: [UInt8]
    package var createdBy: String

    package init(
        tenant: String, name: String, kind: ModelKind, hyperparameters: JSONValue, metrics: Metrics?,
        features: [String], trees: Int, document: [UInt8], createdBy: String
    ) {
        self.tenant = tenant
        self.name = name
        self.kind = kind
        self.hyperparameters = hyperparameters
        self.metrics = metrics
        self.features = features
        self.trees = trees
        self.document = document
        self.createdBy = createdBy
    }
}

extension XalorraError {
    /// The 404 of a model (or one of its versions) that is not in the registry.
    package static func modelNotFound(_ name: String, version: Int? = nil) -> XalorraError {
        if let version { return XalorraError(.notFound, "model '\(name)' has no version \(version)") }
        return XalorraError(.notFound, "model '\(name)' not found")
    }
}
