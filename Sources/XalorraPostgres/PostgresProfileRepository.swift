import PostgresNIO
import XalorraCore
import XalorraML

/// The trained versions' training profiles on PostgreSQL (`model_profiles`, migration p2-model-profiles), as
/// ``SQLiteProfileRepository`` keeps them.
struct PostgresProfileRepository: ProfileRepository {
    let database: PostgresDatabase

    func store(_ profile: FeatureProfile, for version: ModelVersion) async throws(XalorraError) {
        try await database.execute(
            """
            INSERT INTO model_profiles (model_id, version, profile)
            SELECT v.model_id, v.version, \(profile.storedText) FROM models m JOIN model_versions v ON v.model_id = m.id
            WHERE m.tenant = \(version.tenant) AND m.name = \(version.name) AND v.version = \(Int64(version.version))
            ON CONFLICT (model_id, version) DO UPDATE SET profile = excluded.profile
            """)
    }

    func profile(tenant: String, name: String, version: Int) async throws(XalorraError) -> FeatureProfile? {
        let rows = try await database.rows(
            """
            SELECT p.profile FROM models m JOIN model_profiles p ON p.model_id = m.id
            WHERE m.tenant = \(tenant) AND m.name = \(name) AND p.version = \(Int64(version))
            """)
        guard let row = rows.first else { return nil }
        guard let text = try? row.decode(String.self), let profile = FeatureProfile(stored: text) else {
            throw XalorraError(.internal, "the stored training profile of \(name)@\(version) is damaged")
        }
        return profile
    }

    func watched() async throws(XalorraError) -> [WatchedProfile] {
        // `COLLATE "C"`: byte order, as SQLite orders text.
        let rows = try await database.rows(
            """
            SELECT m.tenant, m.name, p.version, p.profile FROM models m
            JOIN model_profiles p ON p.model_id = m.id
            WHERE p.version = (SELECT max(version) FROM model_versions WHERE model_id = m.id)
            ORDER BY m.tenant COLLATE "C", m.name COLLATE "C"
            """)
        return rows.compactMap { row in
            guard let (tenant, name, version, text) = try? row.decode((String, String, Int32, String).self),
                let profile = FeatureProfile(stored: text)
            else { return nil }
            return WatchedProfile(tenant: tenant, name: name, version: Int(version), profile: profile)
        }
    }
}

extension PostgresTrainingJobRepository: ProfilesReachable {
    var profiles: any ProfileRepository { PostgresProfileRepository(database: database) }
}
