import XalorraCore

/// API keys: `/keys` (the caller's own) and `/admin/keys` (everyone's, admins), translated to the API's operations.
enum KeysController {
    /// `GET /keys`.
    static let keys: RouteHandler = { input in
        .json(try await input.api.keys(try query(input, owner: .own)).json)
    }

    /// `POST /keys`.
    static let createKey: RouteHandler = { input in
        let created = try await input.api.createKey(try APIKeyRequest(json: try input.json()))
        return .json(Envelope.success(created.json, message: APIKeyMessage.created), status: 201)
    }

    /// `GET /keys/{id}`.
    static let key: RouteHandler = { input in
        .json(Envelope.success(try await input.api.key(input.parameter("id")).json, message: APIKeyMessage.retrieved))
    }

    /// `DELETE /keys/{id}`.
    static let revokeKey: RouteHandler = { input in
        .json(Envelope.success(try await input.api.revokeKey(input.parameter("id")).json, message: APIKeyMessage.revoked))
    }

    /// `GET /admin/keys`.
    static let adminKeys: RouteHandler = { input in
        let owner: APIKeyQuery.Owner = input.query["user"].map { .user($0) } ?? .all
        return .json(try await input.api.keys(try query(input, owner: owner)).json)
    }

    private static func query(_ input: HTTPInput, owner: APIKeyQuery.Owner) throws(XalorraError) -> APIKeyQuery {
        try APIKeyQuery(
            owner: owner, limit: try input.query.integer("limit", default: Paging.defaultLimit),
            offset: try input.query.integer("offset", default: 0))
    }
}
