import XalorraCore

extension RemoteAPI {
    public func createKey(_ request: APIKeyRequest) async throws(XalorraError) -> CreatedAPIKey {
        try CreatedAPIKey(json: await send(.createKey, body: request.json).member("data"))
    }

    public func keys(_ query: APIKeyQuery) async throws(XalorraError) -> Page<APIKey> {
        var parameters = [("limit", "\(query.limit)"), ("offset", "\(query.offset)")]
        switch query.owner {
        case .own: return try Page(json: await send(.keys, query: parameters))
        case .all: return try Page(json: await send(.adminKeys, query: parameters))
        case .user(let name):
            parameters.append(("user", name))
            return try Page(json: await send(.adminKeys, query: parameters))
        }
    }

    public func key(_ id: String) async throws(XalorraError) -> APIKey {
        try APIKey(json: await send(.key, id).member("data"))
    }

    public func revokeKey(_ id: String) async throws(XalorraError) -> APIKey {
        try APIKey(json: await send(.revokeKey, id).member("data"))
    }
}
