import XalorraCore

/// `GET /logs/export`: the whole prediction log of the caller's tenant (any tenant, or all, for admins), filtered as
/// `GET /logs`, streamed as NDJSON or CSV: the bytes `xalorra logs export` prints offline.
enum LogExportController {
    /// Reads the query, checks the caller's access (refusals are answered before the first byte, in the error
    /// envelope) and streams the export as the client reads it.
    static let export: RouteHandler = { input in
        let request = try LogExportRequest(parameters: input.query)
        let chunks = try await input.api.exportLogs(request)
        return .download(chunks, contentType: request.format.contentType)
    }
}
