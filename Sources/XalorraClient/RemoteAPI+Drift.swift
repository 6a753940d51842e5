import XalorraCore

extension RemoteAPI {
    /// `GET /models/{name}/drift?version=…&since=…`: the window's start goes as an ISO time, so the server compares
    /// the same window the caller asked for.
    public func drift(model: String, since: Timestamp?) async throws(XalorraError) -> DriftReport {
        let reference = try ModelReference(model)
        var query: [(String, String)] = []
        if let version = reference.version { query.append(("version", String(version))) }
        if let since { query.append(("since", since.iso8601)) }
        return try DriftReport(json: await send(.modelDrift, reference.name, query: query).member("data"))
    }
}
