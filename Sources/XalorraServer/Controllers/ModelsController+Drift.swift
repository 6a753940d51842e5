import XalorraCore

extension ModelsController {
    /// `GET /models/{name}/drift?since=…&version=…`.
    static let drift: RouteHandler = { input in
        let reference = try ModelReference(name: input.parameter("name"), version: input.query["version"] ?? "latest")
        var since: Timestamp?
        if let text = input.query["since"] {
            guard let time = Timestamp(isoOrAgo: text) else {
                throw XalorraError.invalid("since", "'\(text)' is not \(Timestamp.isoOrAgoExpectation)")
            }
            since = time
        }
        let report = try await input.api.drift(model: reference.description, since: since)
        return .json(Envelope.success(report.json, message: report.message))
    }
}
