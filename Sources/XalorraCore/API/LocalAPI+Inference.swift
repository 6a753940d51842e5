extension LocalAPI {
    /// The metadata of `name` at `version` (a number or `latest`; the newest when nil). A name with no stored version
    /// is answered by the baseline, as predictions are, unless the deployment rejects unknown models
    /// (`XALORRA_UNKNOWN_MODEL=reject`) or a version was asked for.
    public func inferenceMetadata(
        model name: String, version: String?
    ) async throws(XalorraError) -> InferenceModelMetadata {
        var pinned: Int?
        if let version { pinned = try ModelReference(name: name, version: version).version }
        do throws(XalorraError) {
            let detail = try await model(name)
            let chosen =
                pinned.map { number in detail.versions.first { $0.version == number } } ?? detail.versions.first
            guard let chosen else { throw XalorraError.modelNotFound(detail.name, version: pinned) }
            // A multi-class model's class count (its `probabilities` output) is in the model itself.
            let (_, trained) = try await resolveModel(try ModelReference(chosen.reference))
            let classes = trained.map(\.classLabels.count) ?? 0
            return InferenceModelMetadata(
                name: name, versions: detail.versions.map { String($0.version) }, features: chosen.features.count,
                classes: classes > 0 ? classes : nil)
        } catch {
            guard error.code == .notFound, version == nil, settings.unknownModel == .baseline else { throw error }
            return InferenceModelMetadata(name: name, versions: ["baseline"], features: nil)
        }
    }
}
