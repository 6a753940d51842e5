import Logging
import NIOCore
import NIOHTTPTypes
import XalorraCore

/// Closes a connection that is not sending a request: silent for `idleTimeout`, or with a request head still
/// incomplete `headerTimeout` after the connection opened or the previous response ended (slowloris).
///
/// It sits first in the pipeline, on raw bytes, because that is the only place that sees a connection's first
/// request: `HTTP1WebSocketUpgradeChannel` adds Hummingbird's idle timer and the `additionalChannelHandlers` only
/// once the first head has been parsed, so before that nothing would ever close the connection. It does not parse
/// HTTP itself; ``Tracker``, after the HTTP decoder, and the WebSocket upgrade tell it when a head has arrived and
/// when the connection waits for the next one. While a request is read or answered it does nothing: a slow body is
/// bounded by Hummingbird's idle timer and the body limits, a Server-Sent Events stream or an upgraded WebSocket is
/// never cut by it. Being first, it also answers a head the HTTP parser refused (see ``MalformedRequestCatcher``).
final class RequestHeadTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the HTTP side tells this handler, as a user outbound event travelling towards it.
    enum Event: Sendable {
        /// A request head arrived (or a WebSocket upgrade was asked for): stop timing.
        case headReceived
        /// The last request was read and answered: the next head is due.
        case awaitingHead
        /// The HTTP parser refused the input: answered with 400 and closed if no request is in progress (the event's
        /// promise succeeds), else left to the request's handler (it fails).
        case malformed(reason: String)
    }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let logger: Logger
    /// When the wait for the current head began; `nil` while a request is in progress or after an upgrade.
    private var waitingSince: NIODeadline?
    private var lastRead = NIODeadline.now()
    private var bytesWhileWaiting = 0
    private var check: Scheduled<Void>?

    init(headerTimeout: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startWaiting(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelCheck() }

    func channelActive(context: ChannelHandlerContext) {
        if waitingSince == nil, check == nil { startWaiting(context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelCheck()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if waitingSince != nil {
            lastRead = .now()
            bytesWhileWaiting += unwrapInboundIn(data).readableBytes
        }
        context.fireChannelRead(data)
    }

    /// At graceful shutdown, a connection waiting for a head has nothing to finish: close it now rather than when a
    /// timeout fires (before its first head, nothing else in the pipeline would).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if event is ChannelShouldQuiesceEvent, waitingSince != nil {
            cancelCheck()
            context.close(promise: nil)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? Event else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch event {
        case .headReceived: stopWaiting()
        case .awaitingHead: startWaiting(context)
        case .malformed(let reason):
            guard waitingSince != nil else {
                promise?.fail(ChannelError.inappropriateOperationForState)
                return
            }
            refuse(context, reason: reason)
        }
        promise?.succeed()
    }

    /// Answers 400 with the error envelope, straight onto the socket (nothing else can write a response before a
    /// head was parsed), and closes.
    private func refuse(_ context: ChannelHandlerContext, reason: String) {
        logger.info(
            "connection closed: malformed request (\(reason))",
            metadata: ["remote": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")"])
        stopWaiting()
        let output = HTTPOutput.failure(XalorraError(.badRequest, "The request is not valid HTTP/1.1 (\(reason))"))
        var buffer = context.channel.allocator.buffer(capacity: 160 + output.body.count)
        buffer.writeString(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: \(output.contentType)\r\nContent-Length: \(output.body.count)\r\n"
                + "Connection: close\r\n\r\n")
        buffer.writeBytes(output.body)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Starts timing. A check still pending from an earlier wait is kept: it is due no later than this wait's
    /// deadline and looks again when it fires, so a busy keep-alive connection costs no timer per request.
    private func startWaiting(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        waitingSince = now
        lastRead = now
        bytesWhileWaiting = 0
        if check == nil { schedule(context, at: min(now + headerTimeout, now + idleTimeout)) }
    }

    private func stopWaiting() { waitingSince = nil }

    private func cancelCheck() {
        waitingSince = nil
        check?.cancel()
        check = nil
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            expire(context)
        }
    }

    /// Closes the connection when a limit has passed, else looks again at the nearer of the two.
    private func expire(_ context: ChannelHandlerContext) {
        guard let since = waitingSince else { return }
        let now = NIODeadline.now()
        let headDeadline = since + headerTimeout
        let idleDeadline = lastRead + idleTimeout
        guard now >= headDeadline || now >= idleDeadline else {
            schedule(context, at: min(headDeadline, idleDeadline))
            return
        }
        if bytesWhileWaiting > 0, now >= headDeadline {
            // A client that started a request and did not finish its head: worth a line. A silent keep-alive
            // connection closing is routine and is not logged.
            logger.info(
                "connection closed: request head incomplete after \(Self.text(headerTimeout))",
                metadata: ["remote": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")"])
        }
        cancelCheck()
        context.close(promise: nil)
    }

    private static func text(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

extension RequestHeadTimeout {
    /// After the HTTP decoder: tells ``RequestHeadTimeout`` when a head arrives and when a request has been both
    /// read and answered, so that the wait for the next head begins.
    final class Tracker: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart

        /// Requests whose response has not ended.
        private var unanswered = 0
        /// Whether a request's body is still being read.
        private var reading = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head:
                unanswered += 1
                reading = true
                context.triggerUserOutboundEvent(Event.headReceived, promise: nil)
            case .body: break
            case .end:
                reading = false
                if unanswered == 0 { context.triggerUserOutboundEvent(Event.awaitingHead, promise: nil) }
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) {
                unanswered = max(0, unanswered - 1)
                if unanswered == 0, !reading { context.triggerUserOutboundEvent(Event.awaitingHead, promise: nil) }
            }
            context.write(data, promise: promise)
        }
    }
}
