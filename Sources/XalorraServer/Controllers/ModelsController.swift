import XalorraCore

/// The model registry: `/models[/{name}[/versions/{version}]]`, export and import.
enum ModelsController {
    /// `GET /models`.
    static let models: RouteHandler = { input in
        let query = ModelQuery(
            tenant: input.query["tenant"], limit: try input.query.integer("limit", default: Paging.defaultLimit),
            offset: try input.query.integer("offset", default: 0))
        return .json(try await input.api.models(query).json)
    }

    /// `GET /models/{name}`.
    static let model: RouteHandler = { input in
        let detail = try await input.api.model(input.parameter("name"))
        return .json(Envelope.success(detail.json, message: ModelMessageText.modelRetrieved))
    }

    /// `DELETE /models/{name}`.
    static let deleteModel: RouteHandler = { input in
        try await input.api.deleteModel(input.parameter("name"))
        return .noContent
    }

    /// `GET /models/{name}/versions/{version}`.
    static let modelVersion: RouteHandler = { input in
        let version = try await input.api.modelVersion(try reference(input))
        return .json(Envelope.success(version.json, message: ModelMessageText.versionRetrieved))
    }

    /// `GET /models/{name}/versions/{version}/export`.
    static let exportModelVersion: RouteHandler = { input in
        .raw(try await input.api.exportModel(try reference(input)), contentType: "application/json")
    }

    /// `DELETE /models/{name}/versions/{version}`.
    static let deleteModelVersion: RouteHandler = { input in
        guard input.parameter("version") != "latest" else {
            throw XalorraError.invalid("version", "name the version to delete; `latest` is not accepted here")
        }
        try await input.api.deleteModel(try reference(input))
        return .noContent
    }

    /// `POST /models/{name}/import`.
    static let importModel: RouteHandler = { input in
        let version = try await input.api.importModel(input.parameter("name"), document: input.body)
        return .json(Envelope.success(version.json, message: ModelMessageText.imported), status: 201)
    }

    /// `name@version` from the path, or `name` for `latest`.
    static func reference(_ input: HTTPInput) throws(XalorraError) -> String {
        try ModelReference(name: input.parameter("name"), version: input.parameter("version")).description
    }
}
