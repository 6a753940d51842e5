import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import XalorraCore
import XalorraML

/// The process's HTTP client. AsyncHTTPClient's shared one retries a refused connection for up to 90 s; a CLI
/// pointed at a server that is not running should say so within a few seconds.
private let remoteClient = HTTPClient(
    eventLoopGroup: HTTPClient.defaultEventLoopGroup,
    configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(3), read: .seconds(60))))

/// ``XalorraAPI`` over HTTP against `xalorra serve`: each operation is its route, and error envelopes come back as
/// the same ``XalorraError`` that `LocalAPI` throws.
public struct RemoteAPI: XalorraAPI {
    /// The server's base URL, without a trailing slash.
    public let baseURL: String
    /// The bearer token, if any.
    public let token: String?
    /// How long one request may take.
    public let timeout: TimeAmount

    /// Creates a client for `baseURL`.
    public init(baseURL: String, token: String?, timeout: TimeAmount = .seconds(60)) throws(XalorraError) {
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw XalorraError(.validation, "--url must start with http:// or https://, got '\(baseURL)'")
        }
        var trimmed = baseURL
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        self.baseURL = trimmed
        self.token = token
        self.timeout = timeout
    }

    public func predict(model: String, features: [Number]) async throws(XalorraError) -> Prediction {
        let body = RawBody(bytes: PredictRequest.single(features).body, contentType: "application/json")
        return try Prediction(json: await send(.predict, model, raw: body))
    }

    /// Predicts the rows in parts no larger than the server accepts: at most its `XALORRA_MAX_BATCH_ROWS` rows (the
    /// default until a 413 names the server's own) and a body under its `XALORRA_MAX_BODY` (the default 1 MiB, halved
    /// on a 413 about the body). The answers come back in order, as one batch. Each part is its own transaction on
    /// the server: when a part fails, the parts before it stay logged, and the error says how far it got. Parts after
    /// the first are pinned to the version that answered it, so every row is predicted by the same version. Each
    /// part carries the rows' column names (a CSV header), which the server matches to the model's features as
    /// `LocalAPI` does offline.
    public func predictBatch(model: String, rows: FeatureMatrix) async throws(XalorraError) -> BatchPrediction {
        var rowLimit = Self.defaultBatchRows
        var byteLimit = Self.defaultBodyBytes
        var reference = model
        var answered: (model: String, version: String)?
        var predictions: [Number] = []
        predictions.reserveCapacity(rows.rowCount)
        var probabilities: [ClassProbabilities] = []
        var start = 0
        repeat {
            let (body, end) = PredictRequest.batchPart(rows, from: start, maxRows: rowLimit, maxBytes: byteLimit)
            let part: BatchPrediction
            do {
                part = try BatchPrediction(
                    json: await send(.predict, reference, raw: RawBody(bytes: body, contentType: "application/json")))
            } catch where error.code == .payloadTooLarge && end - start > 1 {
                // Too many rows for this server (it says how many it takes), or too many bytes: smaller parts.
                if let limit = BatchLimit.limit(in: error), limit > 0, limit < end - start {
                    rowLimit = limit
                } else {
                    byteLimit = body.count / 2
                }
                continue
            } catch {
                guard start > 0 else { throw error }
                let counted = Self.rowsCounted(from: start, error)
                throw XalorraError(
                    counted.code,
                    "\(counted.message) (rows \(start + 1)-\(end); the \(start) rows before them were predicted and logged "
                        + "in earlier requests)", details: counted.details, hint: counted.hint, retryAfter: counted.retryAfter)
            }
            guard part.predictions.count == end - start else {
                throw JSONValue.unexpectedResponse("\(part.predictions.count) predictions for \(end - start) rows")
            }
            predictions += part.predictions
            probabilities += part.probabilities ?? []
            if answered == nil {
                answered = (part.model, part.version)
                if Int(part.version) != nil, let parsed = try? ModelReference(model), parsed.version == nil {
                    reference = "\(parsed.name)@\(part.version)"
                }
            }
            start = end
        } while start < rows.rowCount
        // A multi-class model answers every part's probabilities; any other, none.
        return BatchPrediction(
            model: answered?.model ?? model, version: answered?.version ?? "", predictions: predictions,
            probabilities: probabilities.isEmpty || probabilities.count != predictions.count ? nil : probabilities)
    }

    /// `error`, about a part whose first row is the batch's row `offset`, with its rows counted from the batch's first
    /// row as offline counts them: the server numbers a part's rows from 0 (`rows[1]: row 2 …` in the part starting
    /// at row 3 is `rows[3]: row 4 …` of the file).
    static func rowsCounted(from offset: Int, _ error: XalorraError) -> XalorraError {
        let details = error.details.map { detail -> XalorraError.FieldError in
            guard let match = detail.field.wholeMatch(of: /rows\[(\d+)\](.*)/), let index = Int(match.1) else { return detail }
            let ordinal = "row \(index + 1) "
            let message =
                detail.message.hasPrefix(ordinal)
                ? "row \(index + offset + 1) " + detail.message.dropFirst(ordinal.count) : detail.message
            return XalorraError.FieldError(field: "rows[\(index + offset)]\(match.2)", message: message)
        }
        guard details != error.details else { return error }
        // A one-field 422 says `field: message` (XalorraError.invalid); a longer one keeps its summary.
        let single = error.details.count == 1 && error.message == "\(error.details[0].field): \(error.details[0].message)"
        return XalorraError(
            error.code, single ? "\(details[0].field): \(details[0].message)" : error.message, details: details,
            hint: error.hint, retryAfter: error.retryAfter)
    }

    /// The rows a server takes in one call when it does not say otherwise (`XALORRA_MAX_BATCH_ROWS`' default).
    static let defaultBatchRows = Int(SettingKey.maxBatchRows.defaultValue ?? "") ?? 100_000
    /// The body a part may have: under the default `XALORRA_MAX_BODY` of 1 MiB, with room for the envelope.
    static let defaultBodyBytes = 1_000_000

    public func logs(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord> {
        try Page(json: await send(.logs, query: Self.parameters(query)))
    }

    /// Follows `GET /logs/stream` (Server-Sent Events): each `data:` event is one log item. With `id`, the server
    /// first replays what was logged after it, as `LocalAPI` does.
    public func followLogs(_ query: LogQuery, after id: Int64?) -> AsyncThrowingStream<PredictionRecord, any Error> {
        // The stream sends what commits from now on (after `id` when given): only the model and tenant filters apply.
        let filters = [("model", query.model), ("tenant", query.tenant), ("after", id.map(String.init))]
            .compactMap { name, value in value.map { (name, $0) } }
        let events = eventStream(makeRequest(.logStream, query: filters, body: nil))
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    for try await event in events {
                        // The server cuts a feed whose access ended (token expired, account disabled or moved) with
                        // a last `event: error` holding the envelope, which `eventStream` throws; an envelope sent
                        // as a plain event is reported the same way, not as a decoding failure.
                        if event["error"] != nil { throw XalorraError(envelope: event, status: 401) }
                        let record = try PredictionRecord(json: event)
                        if record.id > (id ?? 0) { continuation.yield(record) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Task.isCancelled ? nil : error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Sends `request` and yields the JSON data of each `message` event of its Server-Sent Events (read by
    /// ``ServerSentEventReader``); events of other types are skipped, except `event: error`, whose data is the
    /// server's error envelope: it ends the stream as that error. A non-200 answer throws its error envelope.
    func eventStream(_ request: HTTPClientRequest) -> AsyncThrowingStream<JSONValue, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let response = try await execute(request, deadline: .distantFuture)
                    guard response.status.code == 200 else { throw await Self.failure(response, format: .envelope) }
                    var reader = ServerSentEventReader()
                    for try await buffer in response.body {
                        for event in try reader.feed(buffer.readableBytesView) {
                            guard event.event == "message" || event.event == "error" else { continue }
                            guard let json = try? JSONParser.parse(Array(event.data.utf8)) else {
                                throw JSONValue.unexpectedResponse("an event's data is not JSON")
                            }
                            if event.event == "error" { throw XalorraError(envelope: json, status: 401) }
                            continuation.yield(json)
                        }
                    }
                    continuation.finish()
                } catch let error as ServerSentEventError {
                    continuation.finish(throwing: XalorraError(.internal, "the event stream from \(baseURL) broke off: \(error)"))
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: Task.isCancelled ? nil : error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func routes() async throws(XalorraError) -> [RouteListing] {
        try await send(.routes).list("data").map { item throws(XalorraError) in try RouteListing(json: item) }
    }

    public func mintToken(_ request: TokenRequest) async throws(XalorraError) -> IssuedToken {
        let body = JSONValue.object([
            ("user", .string(request.user)), ("role", .string(request.role.rawValue)),
            ("tenant", .string(request.tenant)), ("ttl", .int(request.ttl.seconds)),
        ])
        return try IssuedToken(json: await send(.mintToken, body: body))
    }

    public func verifyToken(_ token: String) async throws(XalorraError) -> TokenClaims {
        throw XalorraError(
            .unsupported, "`token verify` checks the signature with the deployment's secret, which stays on the server",
            hint: "run it without --url on the server's host, or call GET /whoami with the token")
    }

    public func health() async throws(XalorraError) -> HealthReport {
        try HealthReport(json: await send(.healthDetailed, acceptStatus: [503]))
    }

    /// A request body that is not JSON built here: bytes as they are, with their media type (a CSV training set,
    /// an imported model document).
    struct RawBody: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    /// Sends one request to `endpoint` (its path filled with `parameters`) and returns its JSON body (`null` for
    /// 204); error envelopes become ``XalorraError``.
    func send(
        _ endpoint: Endpoint, _ parameters: String..., query: [(String, String)] = [], body: JSONValue? = nil,
        raw: RawBody? = nil, acceptStatus: Set<Int> = []
    ) async throws(XalorraError) -> JSONValue {
        try await send(endpoint, parameters, query: query, body: body, raw: raw, acceptStatus: acceptStatus)
    }

    /// ``send(_:_:query:body:raw:acceptStatus:)`` with the path parameters as an array.
    func send(
        _ endpoint: Endpoint, _ parameters: [String], query: [(String, String)] = [], body: JSONValue? = nil,
        raw: RawBody? = nil, acceptStatus: Set<Int> = []
    ) async throws(XalorraError) -> JSONValue {
        let (status, bytes) = try await exchange(
            endpoint, parameters, query: query, body: body, raw: raw, acceptStatus: acceptStatus)
        if status == 204 { return .null }
        guard let json = try? JSONParser.parse(bytes) else {
            throw JSONValue.unexpectedResponse("the body is not JSON (status \(status))")
        }
        return json
    }

    /// Sends one request and returns its status and body bytes as received; error envelopes become
    /// ``XalorraError``.
    func exchange(
        _ endpoint: Endpoint, _ parameters: [String], query: [(String, String)] = [], body: JSONValue? = nil,
        raw: RawBody? = nil, acceptStatus: Set<Int> = []
    ) async throws(XalorraError) -> (status: Int, bytes: [UInt8]) {
        let request = makeRequest(endpoint, parameters, query: query, body: body, raw: raw)
        let response = try await execute(request, deadline: .now() + timeout)
        let status = Int(response.status.code)
        let bytes: [UInt8]
        do {
            bytes = Array(try await response.body.collect(upTo: 256 << 20).readableBytesView)
        } catch {
            throw XalorraError(.internal, "the response from \(baseURL) broke off: \(error)")
        }
        guard (200..<300).contains(status) || acceptStatus.contains(status) else {
            throw XalorraError(
                answer: (try? JSONParser.parse(bytes)) ?? .null, format: endpoint.route.errorFormat, status: status)
        }
        return (status, bytes)
    }

    /// The error a failed `response` carries, read in `format` (its route's); its body is read up to 1 MiB.
    static func failure(_ response: HTTPClientResponse, format: Route.ErrorFormat) async -> XalorraError {
        let bytes = (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? []
        return XalorraError(
            answer: (try? JSONParser.parse(bytes)) ?? .null, format: format, status: Int(response.status.code))
    }

    /// The request for `endpoint`: its method, its path with `parameters` filled in (percent-encoded), the query,
    /// and a JSON or raw body.
    func makeRequest(
        _ endpoint: Endpoint, _ parameters: [String] = [], query: [(String, String)], body: JSONValue?,
        raw: RawBody? = nil
    ) -> HTTPClientRequest {
        let route = endpoint.route
        var url = baseURL + route.path(parameters)
        if !query.isEmpty {
            url += "?" + query.map { "\($0)=\(Route.percentEncoded($1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: route.method)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "xalorra/\(XalorraVersion.current)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            var bytes: [UInt8] = []
            JSONWriter.write(body, into: &bytes)
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: bytes))
        } else if let raw {
            request.headers.add(name: "Content-Type", value: raw.contentType)
            request.body = .bytes(ByteBuffer(bytes: raw.bytes))
        }
        return request
    }

    func execute(_ request: HTTPClientRequest, deadline: NIODeadline) async throws(XalorraError) -> HTTPClientResponse {
        do {
            return try await remoteClient.execute(request, deadline: deadline)
        } catch {
            throw XalorraError(.internal, "cannot reach \(baseURL): \(error)", hint: "is `xalorra serve` running there?")
        }
    }

    private static func parameters(_ query: LogQuery) -> [(String, String)] {
        var items: [(String, String)] = [("limit", "\(query.limit)"), ("offset", "\(query.offset)")]
        if let model = query.model { items.append(("model", model)) }
        if let since = query.since { items.append(("since", since.iso8601)) }
        if let until = query.until { items.append(("until", until.iso8601)) }
        if let tenant = query.tenant { items.append(("tenant", tenant)) }
        return items
    }

    /// Whether two base URLs name the same server (ignoring trailing slashes and the case of scheme and host).
    public static func sameServer(_ a: String, _ b: String) -> Bool {
        func normal(_ url: String) -> String {
            var trimmed = url
            while trimmed.hasSuffix("/") { trimmed.removeLast() }
            return trimmed.lowercased()
        }
        return normal(a) == normal(b)
    }

    /// `text` percent-encoded for a path segment or query value (see ``Route/percentEncoded(_:)``).
    static func escape(_ text: String) -> String { Route.percentEncoded(text) }
}
