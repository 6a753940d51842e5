import XalorraCore

/// `GET /admin/audit`: the audit log, as the paginated envelope.
enum AuditController {
    /// `GET /admin/audit`.
    static let audit: RouteHandler = { input in
        let query = try AuditQuery(
            user: input.query["user"], action: input.query["action"], since: input.query["since"],
            limit: try input.query.integer("limit", default: Paging.defaultLimit),
            offset: try input.query.integer("offset", default: 0))
        return .json(try await input.api.audit(query).json)
    }
}
