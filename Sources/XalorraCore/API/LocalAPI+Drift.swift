import XalorraML

/// Drift (issue 16): a version's training profile against the rows logged for it in the caller's tenant, the rows a
/// caller may read in `GET /logs`.
extension LocalAPI {
    public func drift(model: String, since: Timestamp?) async throws(XalorraError) -> DriftReport {
        let reference = try ModelReference(model)
        let until = Timestamp.now()
        // A window that starts in the future is empty, as `GET /logs?since=` of a future time is.
        let since = min(since ?? until.adding(seconds: -DriftReport.defaultWindow), until)
        let tenant = try caller.tenantScope(requested: caller.tenant) ?? caller.tenant
        guard let version = try await modelStore().currentVersion(
            tenant: tenant, name: reference.name, version: reference.version)
        else { throw XalorraError.modelNotFound(reference.name, version: reference.version) }
        let store = try self.store()
        guard let profile = try await store.profiles.profile(
            tenant: tenant, name: reference.name, version: version)
        else {
            throw XalorraError(
                .conflict,
                "\(reference.name)@\(version) has no training profile to compare with: it was imported, or trained "
                    + "before profiles were kept",
                hint: "retrain it (xalorra train \(reference.name) …): a trained version keeps one")
        }
        let counter = try await store.predictions.driftCounts(
            tenant: tenant, model: reference.name, version: String(version), since: since, until: until,
            profile: profile)
        return DriftReport(model: reference.name, version: version, since: since, until: until, counter: counter)
    }
}
