import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// `HTTP1WebSocketUpgradeChannel` with ``ClientConnections/Guard`` and ``RequestHeadTimeout`` first in every
/// connection's pipeline and a ``MalformedRequestCatcher`` after the HTTP decoder.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let inner: HTTP1WebSocketUpgradeChannel
    let limits: ConnectionLimits
    let connections: ClientConnections
    let rateLimit: RateLimiting
    let logger: Logger

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers(
                [
                    ClientConnections.Guard(connections: connections, logger: self.logger),
                    RequestHeadTimeout(
                        headerTimeout: limits.headerTimeout, idleTimeout: limits.idleTimeout,
                        minBodyRate: limits.minBodyRate, rateLimit: rateLimit, logger: self.logger),
                ],
                position: .first)
        }.flatMap {
            inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
                try channel.pipeline.syncOperations.addHandler(MalformedRequestCatcher())
                return value
            }
        }
    }

    func handle(value: Value, logger: Logger) async {
        var quiet = logger
        quiet.handler = ClosedBeforeRequestFilter(base: logger.handler)
        await inner.handle(value: value, logger: quiet)
    }
}

/// The server's log handler without Hummingbird's error for a connection that closed before its first request
/// head was complete (silent, too slow, or malformed and answered): routine, and already reported, where worth it,
/// by ``RequestHeadTimeout``.
private struct ClosedBeforeRequestFilter: LogHandler {
    var base: any LogHandler

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level == .error, event.message.description == "Error handling upgrade result",
            event.metadata?["error.type"]?.description == "\(ChannelError.inappropriateOperationForState)"
        {
            return
        }
        base.log(event: event)
    }
}

/// Catches the HTTP parser's errors and has ``RequestHeadTimeout`` answer them with 400 and close.
///
/// Until the first head is parsed, `HTTP1WebSocketUpgradeChannel` has no handler for them (Hummingbird turns off
/// NIO's, and its own only exists after the first head): a request line or header the parser refuses left the
/// connection open and silent until the client gave up. An error in the middle of a request (a bad chunk) goes on
/// to the request's body, whose reader answers it.
final class MalformedRequestCatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        let handled = context.eventLoop.makePromise(of: Void.self)
        context.triggerUserOutboundEvent(RequestHeadTimeout.Event.malformed(reason: "\(parserError)"), promise: handled)
        handled.futureResult.assumeIsolated().whenFailure { _ in context.fireErrorCaught(error) }
    }
}

/// What a connection may take of the server's time and slots (see ``RequestHeadTimeout``, ``ClientConnections``).
struct ConnectionLimits: Sendable {
    /// Longest wait for a complete request head, from the connection's start or the last response; also how long a
    /// body is given before its rate is measured.
    var headerTimeout: TimeAmount
    /// Longest silence, and longest time writes may stay blocked by a client that does not read; Hummingbird's own
    /// idle timer uses it too, within a request and between requests.
    var idleTimeout: TimeAmount
    /// Slowest average rate, in bytes per second, at which a request body may arrive.
    var minBodyRate: Int
    /// Most connections open at once from one client.
    var connectionsPerClient: Int
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with WebSocket upgrades, where a connection that sends no request, or not fast enough, is closed
    /// (see ``RequestHeadTimeout``), a client holds at most `limits.connectionsPerClient` connections, and a
    /// malformed request is answered 400.
    /// - Parameters:
    ///   - rateLimit: gives the answers written below the responder their rate-limit fields.
    ///   - logger: where closed slow, malformed or excess clients are reported.
    static func guardedHTTP1WebSocketUpgrade(
        webSocket: WebSocketServerConfiguration, limits: ConnectionLimits, rateLimit: RateLimiting, logger: Logger,
        shouldUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws
            -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    ) -> HTTPServerBuilder {
        let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(
                additionalChannelHandlers: [RequestHeadTimeout.Tracker(rateLimit: rateLimit)],
                idleTimeout: limits.idleTimeout),
            ws: webSocket)
        let connections = ClientConnections(limit: limits.connectionsPerClient)
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder, configuration: configuration,
                    shouldUpgrade: { head, channel, logger in
                        // The head is complete; an upgraded connection is the WebSocket's to keep open.
                        channel.triggerUserOutboundEvent(RequestHeadTimeout.Event.upgradeRequested, promise: nil)
                        return try await shouldUpgrade(head, channel, logger)
                    }),
                limits: limits, connections: connections, rateLimit: rateLimit, logger: logger)
        }
    }
}
