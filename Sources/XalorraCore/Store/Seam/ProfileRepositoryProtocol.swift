package import XalorraML

/// The trained versions' training profiles (issue 16's drift): written once when training stores a version, read by
/// drift reports and the `/metrics` gauges. SQLite: ``SQLiteProfileRepository``.
package protocol ProfileRepository: Sendable {
    /// Stores `profile` as the training profile of `version` (nothing when the version was deleted meanwhile).
    func store(_ profile: FeatureProfile, for version: ModelVersion) async throws(XalorraError)
    /// The training profile of `name@version` in `tenant`; `nil` when the version has none.
    func profile(tenant: String, name: String, version: Int) async throws(XalorraError) -> FeatureProfile?
    /// Every model's newest version when that version has a profile, by tenant and name (a newest version without
    /// one, such as an import, is not watched: an older version's profile would describe another model).
    func watched() async throws(XalorraError) -> [WatchedProfile]
}

/// A model's newest version that has a training profile, with it: what the drift gauges watch.
package struct WatchedProfile: Sendable {
    package let tenant: String
    package let name: String
    package let version: Int
    package let profile: FeatureProfile

    package init(tenant: String, name: String, version: Int, profile: FeatureProfile) {
        self.tenant = tenant
        self.name = name
        self.version = version
        self.profile = profile
    }
}

/// A training-job repository that reaches its store's training profiles (both stores' do): a finished training stores
/// its version's profile through it.
package protocol ProfilesReachable: Sendable {
    var profiles: any ProfileRepository { get }
}

extension ProfileRepository {
    /// Stores `profile` (made on a training thread before the version was stored, so it is written right after the
    /// version) as `version`'s training profile. A failure leaves the version without a profile (its drift report
    /// asks for a retrain) rather than failing a training that succeeded.
    package func save(_ profile: FeatureProfile, for version: ModelVersion) async {
        do throws(XalorraError) {
            try await store(profile, for: version)
        } catch {
            // Nothing else to do: the version is stored and usable.
        }
    }
}

extension FeatureProfile {
    /// A profile as both stores keep it (compact JSON).
    package var storedText: String { JSONWriter.compact(json) }

    /// A stored profile read back; `nil` when it is damaged.
    package init?(stored text: String) {
        guard let json = try? JSONParser.parse(text) else { return nil }
        self.init(json: json)
    }
}
