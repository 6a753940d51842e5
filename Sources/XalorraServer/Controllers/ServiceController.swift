import XalorraCore

/// `GET /`, `/health`, `/health/detailed`, `/routes`, `/openapi.json`, `/docs`, `/metrics`.
enum ServiceController {
    /// The handlers; `/metrics` reads `metrics`.
    static func handlers(metrics: ServerMetrics) -> [String: RouteHandler] {
        fixed.merging([
            "GET /metrics": { _ in
                .raw(Array(metrics.render().utf8), contentType: "text/plain; version=0.0.4; charset=utf-8")
            }
        ]) { $1 }
    }

    /// `/openapi.json` and `/docs` never change while the server runs.
    private static let openAPI: [UInt8] = {
        var bytes: [UInt8] = []
        JSONWriter.write(OpenAPIDocument.render(routes: RouteTable.all), into: &bytes)
        return bytes
    }()

    /// Swagger UI rendering `/openapi.json`; the page loads its assets from a CDN, as FastAPI's `/docs` does.
    private static let docs = Array("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>xalorra API</title>
        <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
        <body><div id="ui"></div>
        <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
        <script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
        </body></html>
        """.utf8)

    private static let fixed: [String: RouteHandler] = [
        "GET /openapi.json": { _ in .raw(openAPI, contentType: "application/json") },
        "GET /docs": { _ in .raw(docs, contentType: "text/html; charset=utf-8") },
        "GET /": { _ in
            .json(.object([("message", "Xalorra API is running"), ("version", .string(XalorraVersion.current))]))
        },
        "GET /health": { _ in .json(HealthReport.liveness()) },
        "GET /health/detailed": { input in
            let report = try await input.api.health()
            return .json(report.json, status: report.databaseUp ? 200 : 503)
        },
        "GET /routes": { input in
            .json(Envelope.success(.array(try await input.api.routes().map(\.json)), message: "Route table"))
        },
    ]
}
