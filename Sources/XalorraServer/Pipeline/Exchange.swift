import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import XalorraCore

/// One request on its way through the pipeline (see ``XalorraResponder``): what the stages have learnt about it so
/// far, and the response headers they have set. Plain requests and WebSocket upgrades both travel in one.
struct Exchange {
    /// The request's method and header fields.
    let head: HTTPRequest
    /// Its path and query.
    let uri: URI
    /// The client's socket address, when known (not in router tests).
    let peer: SocketAddress?
    /// How errors are written: the Open Inference Protocol's own form under `/v2`, the OpenAI API's under `/v1`,
    /// even for a path that matches nothing.
    let errorFormat: Route.ErrorFormat
    /// Fields every answer to this request carries, error or not: CORS, rate limits, `Allow`, `Cache-Control`.
    var headers = HTTPFields()
    /// The matched route (set by ``RouteMatching``).
    var route: Route?
    /// The route's path parameters, percent-decoded.
    var parameters: [String: String] = [:]
    /// The query; a repeated name keeps its last value. `access_token` is taken out on streaming routes.
    var query: [String: String] = [:]
    /// Who may call the matched route, the deployment's settings applied (`XALORRA_METRICS` opens `/metrics`).
    var access = Route.Access.public
    /// The caller a valid token names (set by ``Authentication``).
    var caller: Caller?
    /// Why the token that came along was refused; an error only where the route needs a caller.
    var authenticationError: XalorraError?
    /// The rate limiter refused this request, the first in its window for this client.
    var firstRefusal = false

    init(head: HTTPRequest, uri: URI, peer: SocketAddress?) {
        self.head = head
        self.uri = uri
        self.peer = peer
        errorFormat = Self.errorFormat(path: uri.path)
    }

    /// How errors are written for a request to `path`, matched or not: the inference protocol's under `/v2`, the
    /// OpenAI API's under `/v1`, else the envelope.
    static func errorFormat(path: String) -> Route.ErrorFormat {
        if path.hasPrefix("/v2/") || path == "/v2" { return .inference }
        if path.hasPrefix("/v1/") || path == "/v1" { return .openAI }
        return .envelope
    }

    /// The client's address as text, made when a stage needs it (with rate limiting off, none does).
    var remoteAddress: String? { peer?.ipAddress }

    /// How metrics name the request: its route, or `unmatched`.
    var routeKey: String { route?.key ?? "unmatched" }

    /// The API acting for the caller (anonymous on public routes).
    func api(_ base: LocalAPI) -> LocalAPI { caller.map { base.acting(as: $0) } ?? base }
}
