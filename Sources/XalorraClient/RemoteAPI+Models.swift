import XalorraCore

/// The model registry over HTTP: `GET|DELETE /models[/{name}[/versions/{version}]]`, the export document and
/// `POST /models/{name}/import`.
extension RemoteAPI {
    public func models(_ query: ModelQuery) async throws(XalorraError) -> Page<ModelSummary> {
        var parameters = [("limit", "\(query.limit)"), ("offset", "\(query.offset)")]
        if let tenant = query.tenant { parameters.append(("tenant", tenant)) }
        return try Page(json: await send(.models, query: parameters))
    }

    public func model(_ name: String) async throws(XalorraError) -> ModelDetail {
        try ModelDetail(json: await send(.model, name).member("data"))
    }

    public func modelVersion(_ reference: String) async throws(XalorraError) -> ModelVersion {
        try ModelVersion(json: await send(.modelVersion, try Self.versionParameters(reference)).member("data"))
    }

    public func exportModel(_ reference: String) async throws(XalorraError) -> [UInt8] {
        try await exchange(.exportModelVersion, try Self.versionParameters(reference)).bytes
    }

    public func importModel(_ name: String, document: [UInt8]) async throws(XalorraError) -> ModelVersion {
        let json = try await send(.importModel, name, raw: RawBody(bytes: document, contentType: "application/json"))
        return try ModelVersion(json: json.member("data"))
    }

    public func deleteModel(_ reference: String) async throws(XalorraError) {
        let parsed = try ModelReference(reference)
        if let version = parsed.version {
            _ = try await send(.deleteModelVersion, [parsed.name, String(version)])
        } else {
            _ = try await send(.deleteModel, parsed.name)
        }
    }

    public func inferenceMetadata(
        model name: String, version: String?
    ) async throws(XalorraError) -> InferenceModelMetadata {
        let json =
            if let version { try await send(.inferenceVersion, name, version) } else { try await send(.inferenceModel, name) }
        return try InferenceModelMetadata(json: json)
    }

    /// `{name}` and `{version}` for `name@version`, `latest` for `name`. The reference is checked here with the
    /// rule `LocalAPI` applies, so a bad one is refused with the same words either way.
    static func versionParameters(_ reference: String) throws(XalorraError) -> [String] {
        let parsed = try ModelReference(reference)
        return [parsed.name, parsed.version.map(String.init) ?? "latest"]
    }
}
