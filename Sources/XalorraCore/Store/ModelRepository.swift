import Foundation
import GRDB
import XalorraML

/// The model registry: models by tenant and name, and their immutable versions.
struct SQLiteModelRepository: ModelRepository {
    let database: AppDatabase

    static func notFound(_ name: String, version: Int? = nil) -> XalorraError {
        if let version { return XalorraError(.notFound, "model '\(name)' has no version \(version)") }
        return XalorraError(.notFound, "model '\(name)' not found")
    }

    /// Stores `new` as the model's next version, creating the model on its first version.
    func add(_ new: NewVersion, now: Timestamp) async throws(XalorraError) -> ModelVersion {
        try await database.writing { db in try Self.add(db, new, now: now) }
    }

    /// ``add(_:now:)`` inside a caller's transaction (a training job stores its version and finishes in one).
    static func add(_ db: Database, _ new: NewVersion, now: Timestamp) throws -> ModelVersion {
        try db.execute(
            sql: "INSERT INTO models (tenant, name, created_at) VALUES (?, ?, ?) ON CONFLICT (tenant, name) DO NOTHING",
            arguments: [new.tenant, new.name, now.microseconds])
        guard let row = try Row.fetchOne(
            db, sql: "SELECT id, next_version FROM models WHERE tenant = ? AND name = ?",
            arguments: [new.tenant, new.name])
        else { throw XalorraError(.internal, "the model row vanished") }
        let modelID: Int64 = row["id"]
        let version: Int = row["next_version"]
        try db.execute(sql: "UPDATE models SET next_version = next_version + 1 WHERE id = ?", arguments: [modelID])
        try db.execute(
            sql: """
                INSERT INTO model_versions (model_id, version, kind, hyperparameters, metrics, features, trees, model,
                    created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                modelID, version, new.kind.rawValue, JSONWriter.compact(new.hyperparameters),
                new.metrics.map { JSONWriter.compact($0.json) }, JSONWriter.compact(.array(new.features.map { .string($0) })),
                new.trees, Data(new.document), now.microseconds, new.createdBy,
            ])
        return ModelVersion(
            name: new.name, tenant: new.tenant, version: version, kind: new.kind,
            hyperparameters: new.hyperparameters, metrics: new.metrics, features: new.features, trees: new.trees,
            size: new.document.count, createdAt: now, createdBy: new.createdBy)
    }

    /// A page of the tenant's models that have a version, by name, each with its newest version.
    func list(tenant: String, limit: Int, offset: Int) async throws(XalorraError) -> Page<ModelSummary> {
        try await database.reading { db in
            let total = try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM models m WHERE tenant = ? AND EXISTS (SELECT 1 FROM model_versions WHERE model_id = m.id)",
                arguments: [tenant]) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns), (SELECT count(*) FROM model_versions WHERE model_id = m.id) AS version_count
                    FROM models m JOIN model_versions v
                        ON v.model_id = m.id AND v.version = (SELECT max(version) FROM model_versions WHERE model_id = m.id)
                    WHERE m.tenant = ? ORDER BY m.name LIMIT ? OFFSET ?
                    """,
                arguments: [tenant, limit, offset])
            let items = try rows.map { row in
                ModelSummary(latest: try Self.version(row), versionCount: row["version_count"])
            }
            return Page(items: items, total: total, limit: limit, offset: offset)
        }
    }

    /// Every version of one model, newest first; 404 when it has none.
    func versions(tenant: String, name: String) async throws(XalorraError) -> [ModelVersion] {
        let versions = try await database.reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.columns) FROM models m JOIN model_versions v ON v.model_id = m.id
                    WHERE m.tenant = ? AND m.name = ? ORDER BY v.version DESC
                    """,
                arguments: [tenant, name]
            ).map(Self.version)
        }
        guard !versions.isEmpty else { throw Self.notFound(name) }
        return versions
    }

    /// One version (the newest when `version` is nil) with its stored document, or `nil` when there is none.
    func load(tenant: String, name: String, version: Int?) async throws(XalorraError) -> (ModelVersion, [UInt8])? {
        try await database.reading { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT \(Self.columns), v.model AS document FROM models m JOIN model_versions v ON v.model_id = m.id
                    WHERE m.tenant = ? AND m.name = ? \(version == nil ? "" : "AND v.version = ?")
                    ORDER BY v.version DESC LIMIT 1
                    """,
                arguments: version.map { [tenant, name, $0] } ?? [tenant, name])
            guard let row else { return nil }
            let document: Data = row["document"]
            return (try Self.version(row), [UInt8](document))
        }
    }

    /// `version` if the model has it, else the newest version when `version` is nil; `nil` when there is none. The
    /// cheap check behind the predict cache.
    func currentVersion(tenant: String, name: String, version: Int?) async throws(XalorraError) -> Int? {
        try await database.reading { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT v.version FROM models m JOIN model_versions v ON v.model_id = m.id
                    WHERE m.tenant = ? AND m.name = ? AND (v.version = ? OR ? IS NULL) ORDER BY v.version DESC LIMIT 1
                    """,
                arguments: [tenant, name, version, version])
        }
    }

    /// Deletes one version, or the model with all its versions; 404 when there was nothing to delete.
    func delete(tenant: String, name: String, version: Int?) async throws(XalorraError) {
        try await database.writing { db in
            if let version {
                try db.execute(
                    sql: """
                        DELETE FROM model_versions WHERE version = ?
                            AND model_id = (SELECT id FROM models WHERE tenant = ? AND name = ?)
                        """,
                    arguments: [version, tenant, name])
                guard db.changesCount > 0 else { throw Self.notFound(name, version: version) }
            } else {
                let hadVersions = try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM models m JOIN model_versions v ON v.model_id = m.id
                            WHERE m.tenant = ? AND m.name = ?)
                        """,
                    arguments: [tenant, name]) ?? false
                try db.execute(sql: "DELETE FROM models WHERE tenant = ? AND name = ?", arguments: [tenant, name])
                guard hadVersions else { throw Self.notFound(name) }
            }
        }
    }

    // MARK: Rows

    private static let columns = """
        m.tenant, m.name, v.version, v.kind, v.hyperparameters, v.metrics, v.features, v.trees, length(v.model) AS size,
        v.created_at, v.created_by
        """

    private static func version(_ row: Row) throws -> ModelVersion {
        let metricsText: String? = row["metrics"]
        let featuresJSON = try JSONParser.parse(row["features"] as String)
        guard case .array(let names) = featuresJSON else { throw XalorraError(.internal, "stored features are not a list") }
        return ModelVersion(
            name: row["name"], tenant: row["tenant"], version: row["version"],
            kind: ModelKind(rawValue: row["kind"]) ?? .gbdt,
            hyperparameters: try JSONParser.parse(row["hyperparameters"] as String),
            metrics: try metricsText.map { text throws in try Metrics(json: try JSONParser.parse(text)) },
            features: names.compactMap(\.stringValue), trees: row["trees"], size: row["size"],
            createdAt: Timestamp(microseconds: row["created_at"]), createdBy: row["created_by"])
    }
}
