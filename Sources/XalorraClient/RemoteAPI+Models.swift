import XalorraCore

/// The model registry over HTTP: `GET|DELETE /models[/{name}[/versions/{version}]]`, the export document and
/// `POST /models/{name}/import`.
extension RemoteAPI {
    public func models(_ query: ModelQuery) async throws(XalorraError) -> Page<ModelSummary> {
        var parameters = [("limit", "\(query.limit)"), ("offset", "\(query.offset)")]
        if let tenant = query.tenant { parameters.append(("tenant", tenant)) }
        return try Page(json: await send("GET", "/models", query: parameters))
    }

    public func model(_ name: String) async throws(XalorraError) -> ModelDetail {
        try ModelDetail(json: await send("GET", "/models/\(Self.escape(name))").member("data"))
    }

    public func modelVersion(_ reference: String) async throws(XalorraError) -> ModelVersion {
        try ModelVersion(json: await send("GET", try Self.versionPath(reference)).member("data"))
    }

    public func exportModel(_ reference: String) async throws(XalorraError) -> [UInt8] {
        try await exchange("GET", try Self.versionPath(reference) + "/export").bytes
    }

    public func importModel(_ name: String, document: [UInt8]) async throws(XalorraError) -> ModelVersion {
        let json = try await send(
            "POST", "/models/\(Self.escape(name))/import", raw: RawBody(bytes: document, contentType: "application/json"))
        return try ModelVersion(json: json.member("data"))
    }

    public func deleteModel(_ reference: String) async throws(XalorraError) {
        let parsed = try ModelReference(reference)
        let path =
            parsed.version.map { "/models/\(Self.escape(parsed.name))/versions/\($0)" }
            ?? "/models/\(Self.escape(parsed.name))"
        _ = try await send("DELETE", path)
    }

    /// `/models/{name}/versions/{version}` for `name@version`, `…/versions/latest` for `name`. The reference is
    /// checked here with the rule `LocalAPI` applies, so a bad one is refused with the same words either way.
    static func versionPath(_ reference: String) throws(XalorraError) -> String {
        let parsed = try ModelReference(reference)
        return "/models/\(escape(parsed.name))/versions/\(parsed.version.map(String.init) ?? "latest")"
    }
}
