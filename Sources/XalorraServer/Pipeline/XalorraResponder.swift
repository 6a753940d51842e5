import Hummingbird
import HummingbirdCore
import Logging
import XalorraCore

/// Answers every request with a pipeline of small stages, in the order a request meets them:
///
/// 1. ``RequestLog``: a request id, then (whatever happens below) one access log line and the metrics;
/// 2. ``CORSPolicy``: the CORS fields, and the answer to a preflight;
/// 3. ``RouteMatching``: the route, its parameters and query (404, 405);
/// 4. ``Authentication``: the caller a token names, checked against the store;
/// 5. ``RateLimiting``: the route's budget (429), and the rate-limit fields of every answer;
/// 6. ``AccessCheck``: public, user or admin (401, 403);
/// 7. ``BodyReading``: the body, within its limit (413);
/// 8. ``Dispatch``: the route's controller.
///
/// Any stage may refuse with an ``XalorraError``; the answer is then the error envelope with the fields the stages
/// before it set. WebSocket upgrades go through stages 1 to 6 as well (see `XalorraResponder+WebSocket.swift`).
/// The stages are plain values called in order: no allocation or dynamic dispatch between them.
struct XalorraResponder: HTTPResponder {
    typealias Context = ServerContext

    let log: RequestLog
    let cors: CORSPolicy?
    let routes: RouteMatching
    let authentication: Authentication
    let rateLimit: RateLimiting
    let access = AccessCheck()
    let body: BodyReading
    let dispatch: Dispatch
    /// The API that anonymous requests use, and that callers' APIs are made from.
    let api: LocalAPI

    init(
        api: LocalAPI, tokens: TokenService, handlers: [Endpoint: RouteHandler], metrics: ServerMetrics,
        rateLimit: RateLimiting, settings: Settings, logger: Logger
    ) {
        self.api = api
        log = RequestLog(logger: logger, metrics: metrics, accessLog: settings.accessLog)
        cors = CORSPolicy(origins: settings.corsOrigins)
        routes = RouteMatching(routes: RouteTable.all, metricsAccess: ServerMetrics.Access(settings.metricsAccess))
        authentication = Authentication(tokens: tokens, api: api, sharedCounters: rateLimit.shared)
        self.rateLimit = rateLimit
        body = BodyReading(maxBody: settings.maxBody, maxUpload: settings.maxUpload)
        dispatch = Dispatch(
            handlers: handlers, api: api,
            streams: OpenStreams(limit: min(settings.maxConnectionsPerClient, OpenStreams.perUser)),
            maxBatchRows: settings.maxBatchRows)
    }

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        let entry = log.begin()
        var exchange = Exchange(head: request.head, uri: request.uri, peer: context.remoteAddress)
        var lease: OpenStreams.Lease?
        let output: HTTPOutput
        do throws(XalorraError) {
            output = try await answer(request, &exchange, lease: &lease)
        } catch {
            if error.code == .internal { log.failed(entry, error) }
            output = .failure(error, format: exchange.errorFormat)
        }
        log.finish(entry, exchange, status: output.status)
        return output.response(
            headers: exchange.headers, lease: lease, closed: context.closed, headOnly: request.method == .head)
    }

    /// Stages 2 to 8.
    private func answer(
        _ request: Request, _ exchange: inout Exchange, lease: inout OpenStreams.Lease?
    ) async throws(XalorraError) -> HTTPOutput {
        if let preflight = try cors?.admit(&exchange, routes: routes, rateLimit: rateLimit) { return preflight }
        try await admit(&exchange)
        let body = try await body.read(request, limit: exchange.route?.bodyLimit ?? .standard)
        return try await dispatch.run(exchange, body: body, lease: &lease)
    }

    /// Stages 3 to 6, which plain requests and WebSocket upgrades share: on return, `exchange` has its route and,
    /// where the route needs one, its caller.
    func admit(_ exchange: inout Exchange) async throws(XalorraError) {
        try await routes.match(&exchange, authentication: authentication, rateLimit: rateLimit)
        await authentication.authenticate(&exchange)
        do {
            try await rateLimit.spend(&exchange)
        } catch {
            // A login refused beyond its limit is someone guessing passwords: audited once per client and window
            // (the body, and so the account aimed at, is never read for a refused request).
            if exchange.firstRefusal, exchange.route?.endpoint == .login {
                await api.auditRefusedLogin(origin: exchange.remoteAddress ?? "unknown")
            }
            throw error
        }
        try access.check(exchange)
    }
}
