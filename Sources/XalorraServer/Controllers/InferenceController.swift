import XalorraCore

/// The Open Inference Protocol (KServe v2) over the same models and the same prediction log.
enum InferenceController {
    /// `GET /v2`.
    static let inferenceServer: RouteHandler = { _ in
        .json(.object([
            ("name", "xalorra"), ("version", .string(XalorraVersion.current)), ("extensions", .array([.string(binaryExtension)])),
        ]))
    }

    /// The binary tensor data extension, by the name Triton advertises it under.
    static let binaryExtension = "binary_tensor_data"

    /// `GET /v2/health/live`.
    static let inferenceLive: RouteHandler = { _ in .json(.object([("live", true)])) }

    /// `GET /v2/health/ready`.
    static let inferenceReady: RouteHandler = { input in
        let report = try await input.api.health()
        guard report.databaseUp else {
            throw XalorraError(.serviceUnavailable, report.databaseError ?? "the store does not answer", retryAfter: 1)
        }
        return .json(.object([("ready", true)]))
    }

    /// `GET /v2/models/{name}`.
    static let inferenceModel: RouteHandler = { input in .json(try await metadata(input, version: nil)) }

    /// `GET /v2/models/{name}/versions/{version}`.
    static let inferenceVersion: RouteHandler = { input in
        .json(try await metadata(input, version: input.parameter("version")))
    }

    /// `GET /v2/models/{name}/ready`.
    static let inferenceModelReady: RouteHandler = { input in
        _ = try await metadata(input, version: nil)
        return .json(.object([("name", .string(input.parameter("name"))), ("ready", true)]))
    }

    /// `GET /v2/models/{name}/versions/{version}/ready`.
    static let inferenceVersionReady: RouteHandler = { input in
        _ = try await metadata(input, version: input.parameter("version"))
        return .json(.object([("name", .string(input.parameter("name"))), ("ready", true)]))
    }

    /// `POST /v2/models/{name}/infer`.
    static let infer: RouteHandler = { input in try await infer(input, version: nil) }

    /// `POST /v2/models/{name}/versions/{version}/infer`.
    static let inferVersion: RouteHandler = { input in
        try await infer(input, version: input.parameter("version"))
    }

    private static func reference(_ input: HTTPInput, version: String?) throws(XalorraError) -> String {
        guard let version else { return input.parameter("name") }
        return try ModelReference(name: input.parameter("name"), version: version).description
    }

    private static func metadata(_ input: HTTPInput, version: String?) async throws(XalorraError) -> JSONValue {
        try await input.api.inferenceMetadata(model: input.parameter("name"), version: version).json
    }

    private static func infer(_ input: HTTPInput, version: String?) async throws(XalorraError) -> HTTPOutput {
        let request = try InferenceRequest(
            body: input.body, headerLength: input.inferenceHeaderLength, maxRows: input.maxBatchRows)
        if request.namesProbabilities {
            // An output named in the request must be one this model has: refused before anything is logged.
            try request.check(against: try await input.api.inferenceMetadata(model: input.parameter("name"), version: version))
        }
        let answer = try await input.api.predictBatch(model: try reference(input, version: version), rows: request.rows)
        guard request.binaryOutput else {
            return .json(InferenceMetadata.response(answer, id: request.id, outputs: request.outputs))
        }
        let binary = InferenceMetadata.binaryResponse(
            answer, id: request.id, fp32: request.allFP32, outputs: request.outputs)
        var output = HTTPOutput.raw(binary.body, contentType: "application/octet-stream")
        output.fields = [(InferenceRequest.headerLengthField, "\(binary.headerLength)")]
        return output
    }
}
