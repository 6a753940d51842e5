import GRDB
import XalorraML

/// The trained versions' training profiles (`model_profiles`, migration v11): written once when training stores a
/// version, read by drift reports and the `/metrics` gauges.
struct DriftProfiles: Sendable {
    let database: AppDatabase

    /// A model's newest version that has a profile, with it: what the gauges watch.
    struct Watched: Sendable {
        let tenant: String
        let name: String
        let version: Int
        let profile: FeatureProfile
    }

    /// Stores `profile` as the training profile of `version` (kept if the version was deleted meanwhile: nothing).
    func store(_ profile: FeatureProfile, for version: ModelVersion) async throws(XalorraError) {
        let text = JSONWriter.compact(profile.json)
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

    /// The training profile of `name@version` in `tenant`; `nil` when the version has none.
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
        guard let json = try? JSONParser.parse(text), let profile = FeatureProfile(json: json) else {
            throw XalorraError(.internal, "the stored training profile of \(name)@\(version) is damaged")
        }
        return profile
    }

    /// Every model's newest version, when that version has a profile (a newest version without one, such as an
    /// import, is not watched: its older version's profile would describe another model).
    func watched() async throws(XalorraError) -> [Watched] {
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
            guard let json = try? JSONParser.parse(text), let profile = FeatureProfile(json: json) else { return nil }
            return Watched(tenant: tenant, name: name, version: version, profile: profile)
        }
    }
}
