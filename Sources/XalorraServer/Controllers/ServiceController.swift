import XalorraCore

/// `GET /`, `/health`, `/health/detailed`, `/routes`.
enum ServiceController {
    static let handlers: [String: RouteHandler] = [
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
