import XalorraCore

extension RemoteAPI {
    public func audit(_ query: AuditQuery) async throws(XalorraError) -> Page<AuditEntry> {
        var parameters = [("limit", "\(query.limit)"), ("offset", "\(query.offset)")]
        if let user = query.user { parameters.append(("user", user)) }
        if let action = query.action { parameters.append(("action", action)) }
        if let since = query.since { parameters.append(("since", since.iso8601)) }
        return try Page(json: await send(.audit, query: parameters))
    }
}
