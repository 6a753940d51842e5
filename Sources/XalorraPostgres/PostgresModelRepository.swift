import Logging
import NIOCore
import PostgresNIO
import XalorraCore
import XalorraML

/// The model registry in PostgreSQL: models by tenant and name, and their immutable versions (as in SQLite).
struct PostgresModelRepository: ModelRepository {
    let database: PostgresDatabase

    init(database: PostgresDatabase) { self.database = database }

    func add(_ new: NewModelVersion, now: Timestamp) async throws(XalorraError) -> ModelVersion {
        let logger = database.logger
        return try await database.inTransaction { connection in try await Self.add(connection, logger, new, now: now) }
    }

    /// ``add(_:now:)`` inside a caller's transaction (a training job stores its version and finishes in one).
    ///
    /// The model row is created or its `next_version` taken and moved on in one upsert, which holds the row's lock
    /// until the commit: two processes adding versions at once get consecutive numbers, never the same one.
    static func add(
        _ connection: PostgresConnection, _ logger: Logger, _ new: NewModelVersion, now: Timestamp
    ) async throws -> ModelVersion {
        let claimed = try await connection.rows(
            """
            INSERT INTO models (tenant, name, created_at, next_version) VALUES (\(new.tenant), \(new.name), \
            \(now.microseconds), 2)
            ON CONFLICT (tenant, name) DO UPDATE SET next_version = models.next_version + 1
            RETURNING id, next_version - 1
            """, logger)
        guard let row = claimed.first else { throw XalorraError(.internal, "the model row vanished") }
        let (modelID, version) = try row.decode((Int64, Int32).self)
        let metrics: String? = new.metrics.map { JSONWriter.compact($0.json) }
        try await connection.run(
            """
            INSERT INTO model_versions (model_id, version, kind, hyperparameters, metrics, features, trees, model,
                created_at, created_by)
            VALUES (\(modelID), \(Int64(version)), \(new.kind.rawValue), \(JSONWriter.compact(new.hyperparameters)),
                \(metrics), \(JSONWriter.compact(.array(new.features.map { .string($0) }))), \(Int64(new.trees)),
                \(ByteBuffer(bytes: new.document)), \(now.microseconds), \(new.createdBy))
            """, logger)
        return ModelVersion(
            name: new.name, tenant: new.tenant, version: Int(version), kind: new.kind,
            hyperparameters: new.hyperparameters, metrics: new.metrics, features: new.features, trees: new.trees,
            size: new.document.count, createdAt: now, createdBy: new.createdBy)
    }

    func list(tenant: String, limit: Int, offset: Int) async throws(XalorraError) -> Page<ModelSummary> {
        let logger = database.logger
        return try await database.inTransaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            let total = try await connection.rows(
                """
                SELECT count(*) FROM models m
                WHERE tenant = \(tenant) AND EXISTS (SELECT 1 FROM model_versions WHERE model_id = m.id)
                """, logger
            ).first?.decode(Int64.self) ?? 0
            let rows = try await connection.rows(
                """
                SELECT \(unescaped: Self.columns),
                    (SELECT count(*) FROM model_versions WHERE model_id = m.id) AS version_count
                FROM models m JOIN model_versions v
                    ON v.model_id = m.id AND v.version = (SELECT max(version) FROM model_versions WHERE model_id = m.id)
                WHERE m.tenant = \(tenant) ORDER BY m.name COLLATE "C" LIMIT \(Int64(limit)) OFFSET \(Int64(offset))
                """, logger)
            let items = try rows.map { row in
                let cells = row.makeRandomAccess()
                return ModelSummary(
                    latest: try Self.version(cells), versionCount: Int(try cells.value("version_count", as: Int64.self)))
            }
            return Page(items: items, total: Int(total), limit: limit, offset: offset)
        }
    }

    func versions(tenant: String, name: String) async throws(XalorraError) -> [ModelVersion] {
        let rows = try await database.rows(
            """
            SELECT \(unescaped: Self.columns) FROM models m JOIN model_versions v ON v.model_id = m.id
            WHERE m.tenant = \(tenant) AND m.name = \(name) ORDER BY v.version DESC
            """)
        let versions = try rows.map { row throws(XalorraError) in try Self.version(row.makeRandomAccess()) }
        guard !versions.isEmpty else { throw XalorraError.modelNotFound(name) }
        return versions
    }

    func load(tenant: String, name: String, version: Int?) async throws(XalorraError) -> (ModelVersion, [UInt8])? {
        let rows = try await database.rows(
            """
            SELECT \(unescaped: Self.columns), v.model AS document FROM models m JOIN model_versions v ON v.model_id = m.id
            WHERE m.tenant = \(tenant) AND m.name = \(name) AND (\(version.map(Int64.init))::bigint IS NULL OR v.version = \
            \(version.map(Int64.init))) ORDER BY v.version DESC LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        let cells = row.makeRandomAccess()
        return (try Self.version(cells), try cells.value("document", as: ByteBuffer.self).bytes)
    }

    func currentVersion(tenant: String, name: String, version: Int?) async throws(XalorraError) -> Int? {
        let rows = try await database.rows(
            """
            SELECT v.version FROM models m JOIN model_versions v ON v.model_id = m.id
            WHERE m.tenant = \(tenant) AND m.name = \(name) AND (\(version.map(Int64.init))::bigint IS NULL OR v.version = \
            \(version.map(Int64.init))) ORDER BY v.version DESC LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        return Int(try row.makeRandomAccess().value("version", as: Int32.self))
    }

    func delete(tenant: String, name: String, version: Int?) async throws(XalorraError) {
        let logger = database.logger
        try await database.inTransaction { connection in
            if let version {
                let deleted = try await connection.run(
                    """
                    DELETE FROM model_versions WHERE version = \(Int64(version))
                        AND model_id = (SELECT id FROM models WHERE tenant = \(tenant) AND name = \(name))
                    RETURNING 1
                    """, logger)
                guard deleted > 0 else { throw XalorraError.modelNotFound(name, version: version) }
            } else {
                let hadVersions = try await connection.rows(
                    """
                    SELECT EXISTS (SELECT 1 FROM models m JOIN model_versions v ON v.model_id = m.id
                        WHERE m.tenant = \(tenant) AND m.name = \(name))
                    """, logger
                ).first?.decode(Bool.self) ?? false
                try await connection.run("DELETE FROM models WHERE tenant = \(tenant) AND name = \(name)", logger)
                guard hadVersions else { throw XalorraError.modelNotFound(name) }
            }
        }
    }

    // MARK: Rows

    private static let columns = """
        m.tenant, m.name, v.version, v.kind, v.hyperparameters, v.metrics, v.features, v.trees, \
        octet_length(v.model) AS size, v.created_at, v.created_by
        """

    private static func version(_ cells: PostgresRandomAccessRow) throws(XalorraError) -> ModelVersion {
        let metricsText = try cells.value("metrics", as: String?.self)
        let damaged = XalorraError(.internal, "store: a model version cannot be read")
        do {
            guard case .array(let names) = try JSONParser.parse(try cells.value("features", as: String.self)) else {
                throw damaged
            }
            return ModelVersion(
                name: try cells.value("name"), tenant: try cells.value("tenant"),
                version: Int(try cells.value("version", as: Int32.self)),
                kind: ModelKind(rawValue: try cells.value("kind")) ?? .gbdt,
                hyperparameters: try JSONParser.parse(try cells.value("hyperparameters", as: String.self)),
                metrics: try metricsText.map { text throws in try Metrics(json: try JSONParser.parse(text)) },
                features: names.compactMap(\.stringValue), trees: Int(try cells.value("trees", as: Int32.self)),
                size: Int(try cells.value("size", as: Int32.self)),
                createdAt: Timestamp(microseconds: try cells.value("created_at")),
                createdBy: try cells.value("created_by"))
        } catch let error as XalorraError {
            throw error
        } catch {
            throw damaged
        }
    }
}
