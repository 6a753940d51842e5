import XalorraML

extension DriftProfiles {
    /// Stores `profile` (made by ``FeatureProfile/init(model:data:)`` on a training thread before the version was
    /// stored, so it is written right after the version) as `version`'s training profile. A failure leaves the
    /// version without a profile (its drift report asks for a retrain) rather than failing a training that succeeded.
    func save(_ profile: FeatureProfile, for version: ModelVersion) async {
        do throws(XalorraError) {
            try await store(profile, for: version)
        } catch {
            // Nothing else to do: the version is stored and usable.
        }
    }
}
