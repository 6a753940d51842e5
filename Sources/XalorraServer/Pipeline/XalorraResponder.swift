import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization
import XalorraCore

/// Answers every request from the route table: match, authenticate, rate-limit, read the body, call the route's
/// controller, and turn every failure, anywhere, into the one error envelope.
struct XalorraResponder: HTTPResponder {
    typealias Context = ServerContext

    let api: LocalAPI
    let tokens: TokenService
    let matcher: RouteMatcher
    let handlers: [Endpoint: RouteHandler]
    let limiter: RateLimiter?
    let metrics: ServerMetrics
    let maxBody: Int
    let maxUpload: Int
    let cors: CORSPolicy?
    let metricsAccess: ServerMetrics.Access
    let streams: OpenStreams
    let logger: Logger
    let requestCount = RequestCounter()
    private let verified = TokenCache()

    init(
        api: LocalAPI, tokens: TokenService, handlers: [Endpoint: RouteHandler], metrics: ServerMetrics,
        rateLimit: Bool, maxBody: Int, maxUpload: Int, corsOrigins: [String], metricsAccess: ServerMetrics.Access,
        maxStreamsPerUser: Int, logger: Logger
    ) {
        self.metricsAccess = metricsAccess
        self.streams = OpenStreams(limit: maxStreamsPerUser)
        self.maxUpload = maxUpload
        self.cors = CORSPolicy(origins: corsOrigins)
        self.metrics = metrics
        self.api = api
        self.tokens = tokens
        self.matcher = RouteMatcher(routes: RouteTable.all)
        self.handlers = handlers
        self.limiter = rateLimit ? RateLimiter() : nil
        self.maxBody = maxBody
        self.logger = logger
    }

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        let started = ContinuousClock.now
        let id = requestCount.next()
        var headers = HTTPFields()
        var routeKey = "unmatched"
        var errorFormat = Route.ErrorFormat.envelope
        let output: HTTPOutput
        var lease: OpenStreams.Lease?
        let origin = cors?.allowedOrigin(request.headers[.origin])
        cors?.addVary(to: &headers)
        do {
            if let origin, let cors {
                cors.addHeaders(for: origin, to: &headers)
                if request.method == .options, request.headers[.accessControlRequestMethod] != nil,
                    case .methodNotAllowed(let methods) = matcher.match(method: "OPTIONS", path: request.uri.path)
                {
                    // A preflight is a request too: it spends the client's default budget.
                    try spend(.default, key: Self.addressKey(context.remoteAddress?.ipAddress), headers: &headers)
                    cors.preflight(origin: origin, methods: methods, headers: &headers)
                    return Response(status: .noContent, headers: headers)
                }
            }
            output = try await handle(
                request, context: context, headers: &headers, routeKey: &routeKey, errorFormat: &errorFormat,
                lease: &lease)
        } catch {
            if error.code == .internal {
                logger.error("request failed", metadata: ["request-id": "\(id)", "error": "\(error.message)"])
            }
            output = .failure(error, format: errorFormat)
        }
        headers[.contentType] = output.contentType
        let elapsed = ContinuousClock.now - started
        metrics.recordRequest(route: routeKey, status: output.status, seconds: elapsed.seconds)
        logger.info(
            "\(request.method.rawValue) \(request.uri.path) \(output.status)",
            metadata: ["request-id": "\(id)", "ms": "\(Self.milliseconds(elapsed))"])
        if let stream = output.stream {
            headers[.cacheControl] = "no-store"
            let first = output.body
            let held = lease
            let closed = context.closed
            return Response(
                status: HTTPResponse.Status(code: output.status), headers: headers,
                body: ResponseBody { writer in
                    defer { held?.release() }
                    try await writer.write(ByteBuffer(bytes: first))
                    let relay = Self.relay(stream, until: closed)
                    for await chunk in relay.chunks {
                        relay.pending.subtract(chunk.count)
                        try await writer.write(ByteBuffer(bytes: chunk))
                    }
                    try await writer.finish(nil)
                })
        }
        return Response(
            status: HTTPResponse.Status(code: output.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: output.body)))
    }

    /// A request that passed the checks every route shares, ready for its handler.
    struct Admission: Sendable {
        let route: Route
        let parameters: [String: String]
        let query: [String: String]
        let caller: Caller?

        /// The API acting for the caller (anonymous on public routes).
        func api(_ base: LocalAPI) -> LocalAPI { caller.map { base.acting(as: $0) } ?? base }
    }

    /// Matches the route, authenticates, spends the rate limit and checks access: everything but the body and the
    /// handler, shared by plain requests and WebSocket upgrades.
    func admit(
        method: String, uri: URI, authorization: String?, remoteAddress: String?, headers: inout HTTPFields,
        routeKey: inout String
    ) async throws(XalorraError) -> Admission {
        let path = uri.path
        let route: Route
        let parameters: [String: String]
        switch matcher.match(method: method, path: path) {
        case .notFound, .methodNotAllowed:
            // Unmatched requests spend the default budget too (by the token's user when one is valid, else by
            // address): otherwise probing unknown paths would cost a client nothing.
            try await spendUnmatched(authorization: authorization, remoteAddress: remoteAddress, headers: &headers)
            guard case .methodNotAllowed(let methods) = matcher.match(method: method, path: path) else {
                throw XalorraError(.notFound, "Not found: \(method) \(path)")
            }
            headers[.allow] = methods.joined(separator: ", ")
            throw XalorraError(.methodNotAllowed, "Method \(method) not allowed; use \(methods.joined(separator: ", "))")
        case .found(let matched, let found):
            route = matched
            parameters = found
            routeKey = matched.key
        }
        if route.carriesCredentials { headers[.cacheControl] = "no-store" }
        var query: [String: String] = [:]
        for (name, value) in uri.queryParameters {
            query[String(name)] = String(value)
        }
        var token = authorization
        if token == nil, route.transport.acceptsQueryToken, let given = query.removeValue(forKey: "access_token") {
            token = "Bearer " + given
        }
        var access = route.access
        if route.accessSetting == .metricsAccess, metricsAccess.admits(remoteAddress) { access = .public }

        // Authenticate first when a token is given, so the rate limit counts by user rather than by address.
        var caller: Caller?
        var authError: XalorraError?
        if let token {
            do {
                caller = try await authenticate(token)
            } catch {
                authError = error
            }
        }
        // Public routes (login, register, refresh) count by address even when a token comes along: keyed by the
        // token's user, any valid token (one's own account's) would buy a fresh login budget for guessing someone
        // else's password.
        let user = access == .public ? nil : caller
        try spend(route.rateLimit, key: user.map { "user:" + $0.user } ?? Self.addressKey(remoteAddress), headers: &headers)
        if access != .public {
            if let authError { throw authError }
            guard let caller else {
                throw XalorraError(.authenticationFailed, "Not authenticated: send Authorization: Bearer <token>")
            }
            if access == .admin, caller.role != .admin {
                throw XalorraError(.insufficientPermissions, "This endpoint needs the admin role")
            }
        }
        return Admission(route: route, parameters: parameters, query: query, caller: caller)
    }

    /// - Parameters:
    ///   - lease: set to the stream's place when the route streams (released when the response ends).
    private func handle(
        _ request: Request, context: ServerContext, headers: inout HTTPFields, routeKey: inout String,
        errorFormat: inout Route.ErrorFormat, lease: inout OpenStreams.Lease?
    ) async throws(XalorraError) -> HTTPOutput {
        if request.uri.path.hasPrefix("/v2/") || request.uri.path == "/v2" { errorFormat = .inference }
        let admission = try await admit(
            method: request.method.rawValue, uri: request.uri, authorization: request.headers[.authorization], remoteAddress: context.remoteAddress?.ipAddress,
            headers: &headers, routeKey: &routeKey)
        let route = admission.route
        guard let handler = handlers[route.endpoint] else {
            throw XalorraError(.internal, "no handler for \(route.key)")
        }
        if route.transport == .eventStream, let caller = admission.caller {
            guard let place = streams.acquire(OpenStreams.key(caller)) else { throw streams.refusal }
            lease = place
        }
        let body = try await readBody(request, limit: route.bodyLimit == .upload ? maxUpload : maxBody)
        let input = HTTPInput(
            route: route, parameters: admission.parameters, query: admission.query, body: body,
            caller: admission.caller, api: admission.api(api))
        do {
            return try await handler(input)
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "\(route.key): \(error)")
        }
    }

    /// Verifies `Bearer <token>` as an access token and resolves its caller: account and expiry filled.
    private func authenticate(_ header: String) async throws(XalorraError) -> Caller {
        // Before any work on it (trimming, hashing for the cache): no token of ours is this long.
        guard header.utf8.count <= TokenService.maxTokenBytes + 32 else {
            throw XalorraError(.authenticationFailed, "The Authorization header is longer than 8 KiB")
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw XalorraError(.authenticationFailed, "The Authorization header must be `Bearer <token>`")
        }
        let token = Settings.stripBearer(header)
        let claims: TokenClaims
        if let cached = verified.claims(for: token, now: Timestamp.now().seconds) {
            claims = cached
        } else {
            claims = try await tokens.verify(token, expecting: .access)
            verified.store(claims, for: token)
        }
        // The store resolves whom the token stands for (its account, or its name alone), or refuses it.
        return try await api.caller(for: claims)
    }

    /// Counts a request against `budget` for `key`, adds the rate-limit headers (every response carries them), and
    /// refuses it with 429 past the budget. Nothing happens with rate limiting off.
    private func spend(_ budget: RateLimitClass, key: String, headers: inout HTTPFields) throws(XalorraError) {
        guard let limiter else { return }
        let decision = limiter.count(budget, key: key, now: Timestamp.now().seconds)
        Self.addRateLimitHeaders(decision, to: &headers)
        guard decision.allowed else {
            headers[.retryAfter] = "\(decision.retryAfter)"
            throw XalorraError(.rateLimited, "Too many requests. Please try again later.", retryAfter: decision.retryAfter)
        }
    }

    /// Spends the default budget for a request that matched no route: by the token's user when it carries a valid
    /// one, else by address. A bad token is not an error here: the answer stays 404 or 405.
    private func spendUnmatched(
        authorization: String?, remoteAddress: String?, headers: inout HTTPFields
    ) async throws(XalorraError) {
        guard limiter != nil else { return }
        var key = Self.addressKey(remoteAddress)
        if let authorization, let caller = try? await authenticate(authorization) { key = "user:" + caller.user }
        try spend(.default, key: key, headers: &headers)
    }

    /// The rate-limit key of an anonymous client: its address (an IPv6 client's /64, see ``ClientAddress``).
    static func addressKey(_ remoteAddress: String?) -> String { "ip:" + ClientAddress.limitKey(remoteAddress) }

    /// The whole body, refusing more than `limit` bytes with 413 (by `Content-Length` before reading, if given).
    private func readBody(_ request: Request, limit: Int) async throws(XalorraError) -> [UInt8] {
        let tooLarge = XalorraError(.payloadTooLarge, "The request body is larger than \(limit) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit { throw tooLarge }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw tooLarge
        } catch {
            throw XalorraError(.badRequest, "The request body could not be read")
        }
    }

    /// `X-RateLimit-*` (the seed's) and the IETF `RateLimit-Policy` / `RateLimit` fields.
    private static func addRateLimitHeaders(_ decision: RateLimiter.Decision, to headers: inout HTTPFields) {
        let secondsLeft = max(0, decision.reset - Timestamp.now().seconds)
        headers[HTTPField.Name("X-RateLimit-Limit")!] = "\(decision.limit)"
        headers[HTTPField.Name("X-RateLimit-Remaining")!] = "\(decision.remaining)"
        headers[HTTPField.Name("X-RateLimit-Reset")!] = "\(decision.reset)"
        headers[HTTPField.Name("RateLimit-Policy")!] =
            "\"\(decision.className)\";q=\(decision.limit);w=\(decision.windowSeconds)"
        headers[HTTPField.Name("RateLimit")!] = "\"\(decision.className)\";r=\(decision.remaining);t=\(secondsLeft)"
    }

    /// The most bytes a stream may hold for a client that reads slower than events come; past it the stream ends (a
    /// client that falls this far behind reconnects). Without it, a client that stops reading while a user predicts
    /// large rows would have the server buffer without bound.
    static let maxPendingStreamBytes = 4 << 20

    /// Bytes relayed but not yet taken by the response writer.
    final class PendingBytes: Sendable {
        private let value = Atomic<Int>(0)

        /// Adds `count`; the new total.
        func add(_ count: Int) -> Int { value.wrappingAdd(count, ordering: .relaxed).newValue }

        /// Takes `count` away.
        func subtract(_ count: Int) { value.wrappingSubtract(count, ordering: .relaxed) }
    }

    /// `stream`'s chunks until it ends, the connection closes, or more than ``maxPendingStreamBytes`` wait for the
    /// writer (the reader of `chunks` subtracts each chunk it takes from `pending`). Without the relay, a stream whose
    /// client went away would keep its subscription (and its place, see ``OpenStreams``) until its next write failed.
    static func relay(
        _ stream: AsyncStream<[UInt8]>, until closed: EventLoopFuture<Void>
    ) -> (chunks: AsyncStream<[UInt8]>, pending: PendingBytes) {
        let pending = PendingBytes()
        let (relay, sink) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        let pump = Task {
            for await chunk in stream {
                guard pending.add(chunk.count) <= maxPendingStreamBytes else { break }
                if case .terminated = sink.yield(chunk) { break }
            }
            sink.finish()
        }
        sink.onTermination = { _ in pump.cancel() }
        closed.whenComplete { _ in sink.finish() }
        return (relay, pending)
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return "\(micros / 1000).\(String(micros % 1000 + 1000).dropFirst())"
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// Numbers requests for the access log.
final class RequestCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next request id.
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
}

extension XalorraResponder {
    /// Decides a WebSocket upgrade with the same admission as every request. Anything refused is left to the plain
    /// responder, which answers the same request with the error envelope.
    func upgrade(
        _ head: HTTPRequest, remoteAddress: String?
    ) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard head.method == .get else { return .dontUpgrade }
        let started = ContinuousClock.now
        var headers = HTTPFields()
        var routeKey = "unmatched"
        let admission: Admission
        let query: LogQuery
        do {
            admission = try await admit(
                method: "GET", uri: URI(head.path ?? "/"), authorization: head.headerFields[.authorization],
                remoteAddress: remoteAddress, headers: &headers, routeKey: &routeKey)
            guard admission.route.transport == .webSocket else { return .dontUpgrade }
            query = try PredictionController.liveQuery(admission.query, caller: admission.caller)
        } catch {
            return .dontUpgrade
        }
        guard let lease = admission.caller.map({ streams.acquire(OpenStreams.key($0)) }) ?? nil else { return .dontUpgrade }
        let elapsed = ContinuousClock.now - started
        metrics.recordRequest(route: routeKey, status: 101, seconds: elapsed.seconds)
        logger.info(
            "GET \(URI(head.path ?? "/").path) 101",
            metadata: ["request-id": "\(requestCount.next())", "ms": "\(Self.milliseconds(elapsed))"])
        let socket = PredictionController.socket(admission.api(api), query: query)
        return .upgrade(headers) { inbound, outbound, context in
            defer { lease.release() }
            try await socket(inbound, outbound, context)
        }
    }
}
