import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import NIOCore
import XalorraCore

extension XalorraResponder {
    /// Decides a WebSocket upgrade with the stages every request meets (``RequestLog``, ``CORSPolicy`` and
    /// ``admit(_:)``), then the socket's own checks: the route is a WebSocket, its filters are the caller's to ask for
    /// (403 for another tenant's), and the caller has a stream place left (429).
    ///
    /// A refusal is answered as any request's error is, with the error envelope and the fields the stages set, logged
    /// and counted, and written straight onto the connection (``RequestHeadTimeout/Event/answer(_:)``), which then
    /// closes. Hummingbird's own answer to a declined upgrade, a bare 400 without a body, is discarded.
    func upgrade(
        _ head: HTTPRequest, channel: any Channel
    ) async -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let entry = log.begin()
        var exchange = Exchange(head: head, uri: URI(head.path ?? "/"), peer: channel.remoteAddress)
        do throws(XalorraError) {
            _ = try cors?.admit(&exchange, routes: routes, rateLimit: rateLimit)
            try await admit(&exchange)
            guard exchange.route?.transport == .webSocket else {
                throw XalorraError(
                    .badRequest,
                    "\(exchange.routeKey) is not a WebSocket: send the request without `Upgrade: websocket`")
            }
            let query = try PredictionController.liveQuery(exchange.query, caller: exchange.caller)
            let after = try PredictionController.resumePoint(exchange.query, lastEventID: nil)
            let streams = dispatch.streams
            guard let lease = exchange.caller.flatMap({ streams.acquire(OpenStreams.key($0)) }) else {
                throw streams.refusal
            }
            log.finish(entry, exchange, status: 101)
            let socket = PredictionController.socket(exchange.api(api), query: query, after: after)
            return .upgrade(exchange.headers) { inbound, outbound, context in
                defer { lease.release() }
                try await socket(inbound, outbound, context)
            }
        } catch {
            if error.code == .internal { log.failed(entry, error) }
            let refusal = RawResponse(error, format: exchange.errorFormat, headers: exchange.headers)
            log.finish(entry, exchange, status: refusal.status)
            let written = channel.eventLoop.makePromise(of: Void.self)
            channel.triggerUserOutboundEvent(RequestHeadTimeout.Event.answer(refusal), promise: written)
            try? await written.futureResult.get()
            return .dontUpgrade
        }
    }
}
