import XalorraCore

/// `GET /`, `/health`, `/health/detailed`, `/routes`, `/openapi.json`, `/docs`, `/metrics`.
enum ServiceController {
    /// `GET /metrics`: the server's `metrics` in Prometheus' text format.
    static func metrics(_ metrics: ServerMetrics) -> RouteHandler {
        { _ in .raw(Array(metrics.render().utf8), contentType: Endpoint.metrics.route.response.contentType) }
    }

    /// `/openapi.json` and `/docs` never change while the server runs.
    private static let openAPIDocument: [UInt8] = {
        var bytes: [UInt8] = []
        JSONWriter.write(OpenAPIDocument.render(routes: RouteTable.all), into: &bytes)
        return bytes
    }()

    /// Swagger UI rendering `/openapi.json`; the page loads its assets from a CDN, as FastAPI's `/docs` does.
    private static let docsPage = Array("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>xalorra API</title>
        <link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
        <body><p><a href="/ui">Open the dashboard</a>; its <a href="/ui#/api">API reference</a> renders /openapi.json
        itself and works offline (this page's Swagger UI loads from a CDN).</p>
        <div id="ui"></div>
        <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
        <script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
        </body></html>
        """.utf8)

    /// `GET /openapi.json`.
    static let openAPI: RouteHandler = { _ in .raw(openAPIDocument, contentType: "application/json") }

    /// `GET /docs`.
    static let docs: RouteHandler = { _ in .raw(docsPage, contentType: Endpoint.docs.route.response.contentType) }

    /// `GET /`.
    static let root: RouteHandler = { _ in
        .json(.object([("message", "Xalorra API is running"), ("version", .string(XalorraVersion.current))]))
    }

    /// `GET /health`: answered without waiting for the store; 503 `unhealthy` while it is known to be unreachable.
    static let health: RouteHandler = { input in
        let outage = input.local.storeOutage()
        return .json(HealthReport.liveness(healthy: outage == nil), status: outage == nil ? 200 : 503)
    }

    /// `GET /health/detailed`.
    static let healthDetailed: RouteHandler = { input in
        let report = try await input.api.health()
        return .json(report.json, status: report.databaseUp ? 200 : 503)
    }

    /// `GET /routes`.
    static let routes: RouteHandler = { input in
        .json(Envelope.success(.array(try await input.api.routes().map(\.json)), message: "Route table"))
    }
}
