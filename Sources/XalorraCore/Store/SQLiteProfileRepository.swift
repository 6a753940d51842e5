import GRDB
import XalorraML

/// The trained versions' training profiles in the SQLite store (`model_profiles`, migration v11).
struct SQLiteProfileRepository: ProfileRepository {
    let database: AppDatabase

    func store(_ profile: FeatureProfile, for version: ModelVersion) async throws(XalorraError) {
        let text = profile.storedText
        try await database.writing { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO model_profiles (model_id, version, profile)
                    SELECT v.model_id, v.version, ? FROM models m JOIN model_versions v ON v.model_id = m.id
                    WHERE m.tenant = ? AND m.name = ? AND v.version = ?
                    """,
                arguments: [text, version.tenant, version.name, version.version])
        }
    }

    func profile(tenant: String, name: String, version: Int) async throws(XalorraError) -> FeatureProfile? {
        let text = try await database.reading { db in
            try String.fetchOne(
                db,
                sql: """
                    SELECT p.profile FROM models m JOIN model_profiles p ON p.model_id = m.id
                    WHERE m.tenant = ? AND m.name = ? AND p.version = ?
                    """,
                arguments: [tenant, name, version])
        }
        guard let text else { return nil }
        guard let profile = FeatureProfile(stored: text) else {
            throw XalorraError(.internal, "the stored training profile of \(name)@\(version) is damaged")
        }
        return profile
    }

    func watched() async throws(XalorraError) -> [WatchedProfile] {
        let rows = try await database.reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT m.tenant, m.name, p.version, p.profile FROM models m
                    JOIN model_profiles p ON p.model_id = m.id
                    WHERE p.version = (SELECT max(version) FROM model_versions WHERE model_id = m.id)
                    ORDER BY m.tenant, m.name
                    """
            ).map { row in (row["tenant"] as String, row["name"] as String, row["version"] as Int, row["profile"] as String) }
        }
        return rows.compactMap { tenant, name, version, text in
            FeatureProfile(stored: text).map { WatchedProfile(tenant: tenant, name: name, version: version, profile: $0) }
        }
    }
}

extension SQLiteTrainingJobRepository: ProfilesReachable {
    var profiles: any ProfileRepository { SQLiteProfileRepository(database: database) }
}
