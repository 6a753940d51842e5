import XalorraCore

/// What a controller gets: the matched route, its parameters, the query, the body and the caller's API.
public struct HTTPInput: Sendable {
    /// The matched route.
    public let route: Route
    /// Path parameters by name (`model` for `/predict/{model}`), percent-decoded.
    public let parameters: [String: String]
    /// Query parameters; a repeated name keeps its last value.
    public let query: [String: String]
    /// The request body (empty for methods without one).
    public let body: [UInt8]
    /// The authenticated caller, for routes that need one.
    public let caller: Caller?
    /// The same API on the server's store, for what is no operation of ``XalorraAPI`` (yet): a live feed's access
    /// re-checks and closing reports (``PredictionController/liveEvents(_:query:after:caller:route:)``).
    let local: LocalAPI
    /// The request's `Last-Event-ID` (a reconnecting `EventSource` sends the id of the last event it saw).
    public let lastEventID: String?
    /// The request's `If-None-Match` (the dashboard's assets answer 304 when it names their ETag).
    public let ifNoneMatch: String?
    /// The request's `Inference-Header-Content-Length` (the inference protocol's binary tensor extension: the body is
    /// that many bytes of JSON, then the tensors' raw bytes), as sent: the infer handler checks it.
    public let inferenceHeaderLength: String?
    /// Most rows one prediction call may carry over HTTP (`XALORRA_MAX_BATCH_ROWS`; offline batches have no limit).
    public let maxBatchRows: Int

    /// The API acting for the caller: all a controller translates to. (Made when asked for: most handlers ask
    /// once, some never, and `LocalAPI` is a large value to box.)
    public var api: any XalorraAPI { local }

    /// The path parameter `name`.
    public func parameter(_ name: String) -> String { parameters[name] ?? "" }

    /// The caller, which every non-public route has.
    public func requireCaller() throws(XalorraError) -> Caller {
        guard let caller else { throw XalorraError(.authenticationFailed, "Not authenticated") }
        return caller
    }

    /// The body as JSON: 400 when it is not parseable at all, or has an object with a key twice. The message says
    /// why, so the inference protocol's `{"error": "…"}`, which has no details, says it too.
    public func json() throws(XalorraError) -> JSONValue {
        do {
            return try JSONParser.parse(body)
        } catch {
            throw error.badRequest(bodyIsEmpty: body.isEmpty)
        }
    }
}

/// What a controller answers: a status and a body, whole or streamed.
public struct HTTPOutput: Sendable {
    public let status: Int
    public let body: [UInt8]
    public let contentType: String
    /// Chunks to send as they come, after `body` (Server-Sent Events).
    public var stream: AsyncStream<[UInt8]>?
    /// Fields a protocol adds to the response (the inference protocol's `Inference-Header-Content-Length`).
    public var fields: [(name: String, value: String)] = []

    init(status: Int, body: [UInt8], contentType: String, stream: AsyncStream<[UInt8]>? = nil) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.stream = stream
    }

    /// Chunks pulled one at a time as the client takes them (a download, e.g. an export): no relay, each write waits
    /// for the socket; an error ends the response without the terminating chunk, so the client sees a broken
    /// transfer rather than a short file that looks whole.
    public var download: AsyncThrowingStream<[UInt8], any Error>?

    /// A streamed download of `contentType`.
    public static func download(_ chunks: AsyncThrowingStream<[UInt8], any Error>, contentType: String) -> HTTPOutput {
        var output = HTTPOutput(status: 200, body: [], contentType: contentType)
        output.download = chunks
        return output
    }

    /// A `text/event-stream` response whose events are `chunks`.
    public static func eventStream(_ chunks: AsyncStream<[UInt8]>) -> HTTPOutput {
        HTTPOutput(status: 200, body: Array(": stream open\n\n".utf8), contentType: "text/event-stream", stream: chunks)
    }

    /// A JSON body.
    public static func json(_ value: JSONValue, status: Int = 200) -> HTTPOutput {
        var bytes: [UInt8] = []
        JSONWriter.write(value, into: &bytes)
        return HTTPOutput(status: status, body: bytes, contentType: "application/json")
    }

    /// 204: done, nothing to say.
    public static let noContent = HTTPOutput(status: 204, body: [], contentType: "application/json")

    /// Raw bytes with a content type.
    public static func raw(_ bytes: [UInt8], contentType: String, status: Int = 200) -> HTTPOutput {
        HTTPOutput(status: status, body: bytes, contentType: contentType)
    }

    /// The error envelope for `error` (or the inference protocol's `{"error": "…"}`, or the OpenAI API's error
    /// object); internal errors never carry their message.
    public static func failure(_ error: XalorraError, format: Route.ErrorFormat = .envelope) -> HTTPOutput {
        let shown =
            error.code == .internal ? XalorraError(.internal, "Internal server error") : error
        var output: HTTPOutput
        switch format {
        case .envelope: output = json(Envelope.failure(shown), status: error.code.httpStatus)
        case .inference: output = json(.object([("error", .string(shown.message))]), status: error.code.httpStatus)
        case .openAI: output = json(shown.openAIJSON, status: error.code.httpStatus)
        }
        // A store that cannot be reached says when to try again (the rate limiter sets its own Retry-After).
        if error.code == .serviceUnavailable, let retryAfter = error.retryAfter {
            output.fields.append((name: "Retry-After", value: "\(retryAfter)"))
        }
        return output
    }
}

/// A controller's handler for one route. It throws ``XalorraError``; anything else becomes a 500 without internals.
public typealias RouteHandler = @Sendable (HTTPInput) async throws -> HTTPOutput

/// Typed query parameters (`?limit=20&sort=updated_at`): every route reads them here, so a bad one is the same
/// 422 everywhere.
extension Dictionary where Key == String, Value == String {
    /// The whole number `name`, or `fallback` when it is absent. One a JSON number cannot carry exactly (beyond
    /// 2^53 - 1, the bound every published integer schema stays within) is refused here, whatever the parameter.
    func integer(_ name: String, default fallback: Int) throws(XalorraError) -> Int {
        guard let text = self[name] else { return fallback }
        guard let number = Int(text) else { throw XalorraError.invalid(name, "'\(text)' is not a whole number") }
        let exact = IntegerRule(-IntegerRule.largestExact...IntegerRule.largestExact)
        if let problem = exact.problem(number) { throw XalorraError.invalid(name, "\(problem), got \(text)") }
        return number
    }

    /// One of `T`'s cases by raw value, or `fallback` when absent.
    func choice<T: RawRepresentable & CaseIterable>(
        _ name: String, default fallback: T
    ) throws(XalorraError) -> T where T.RawValue == String {
        guard let text = self[name] else { return fallback }
        guard let chosen = T(rawValue: text) else {
            throw XalorraError.invalid(
                name, "'\(text)' is not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return chosen
    }
}
