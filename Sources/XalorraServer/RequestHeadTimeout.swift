import Logging
import NIOCore
import NIOHTTPTypes
import XalorraCore

/// Times what a client owes the server on a connection, and closes the connection when the client does not deliver:
/// * a request head: silent for `idleTimeout`, or a head still incomplete `headerTimeout` after the connection opened
///   or the previous response ended (slowloris);
/// * a request body: slower than `minBodyRate` bytes per second on average, measured once the body has been
///   awaited for `headerTimeout` (answered 408 if nothing was answered yet). Hummingbird's idle timer alone lets a
///   byte every few seconds hold a connection for as long as the client likes;
/// * reading the responses: a connection whose writes stay blocked for `idleTimeout` (a client that stopped reading);
/// * after a response that says `Connection: close` (see ``Tracker``: an answer given before the request's body was
///   read, typically an error): the output is closed at once and the rest of the body discarded unread, for at most
///   ``lingerTime``, so that the client can read the answer before the connection goes. The body is never drained.
///
/// It sits first in the pipeline, on raw bytes, because that is the only place that sees a connection's first
/// request: `HTTP1WebSocketUpgradeChannel` adds Hummingbird's idle timer and the `additionalChannelHandlers` only
/// once the first head has been parsed, so before that nothing would ever close the connection. It does not parse
/// HTTP itself; ``Tracker``, after the HTTP decoder, and the WebSocket upgrade tell it what the connection is doing.
/// While a request is answered it times nothing but blocked writes: a Server-Sent Events stream or an upgraded
/// WebSocket is never cut for being long. Being first, it also answers a head the HTTP parser refused (see
/// ``MalformedRequestCatcher``) and a refused WebSocket upgrade (see ``Event/answer(_:)``): every answer it writes
/// carries the rate-limit fields, as every response does.
final class RequestHeadTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What the HTTP side tells this handler, as a user outbound event travelling towards it.
    enum Event: Sendable {
        /// A WebSocket upgrade was asked for: the head is complete, and a socket's frames are not a body to time.
        case upgradeRequested
        /// A request head arrived, for a path whose refusals take `format`: its body (if any) is timed until
        /// ``bodyReceived``.
        case headReceived(Route.ErrorFormat)
        /// The request's body has been read to its end.
        case bodyReceived
        /// An event stream (`text/event-stream`) is being answered: the client closing its side ends it.
        case streaming
        /// The last request was read and answered: the next head is due.
        case awaitingHead
        /// A response saying `Connection: close` has been written: close the output and linger.
        case closeAfterResponse
        /// The HTTP parser refused the input: answered with 400 and closed if no request is in progress (the event's
        /// promise succeeds), else left to the request's handler (it fails).
        case malformed(reason: String)
        /// A request refused before the HTTP side could answer it (a WebSocket upgrade): written as it is, and the
        /// connection closed; whatever the HTTP side writes after it is discarded. (Indirect: the events sent for
        /// every request stay small enough to travel as `Any` without an allocation.)
        indirect case answer(RawResponse)
    }

    /// How long a connection that is closing after its response discards what the client still sends, so that the
    /// client reads the response rather than a reset.
    static let lingerTime = TimeAmount.seconds(2)

    /// A request body being read.
    private struct Body {
        /// When its head arrived.
        let since: NIODeadline
        /// Bytes received since then.
        var bytes = 0
        /// Time spent waiting for the client: while the server did not ask for more (its buffers were full), the
        /// client is not the one being slow.
        var clientTime = TimeAmount.zero
        /// Whether any response bytes were written since the head (then a refusal cannot be answered any more).
        var answered = false
        /// The form of a refusal on the request's path (the inference protocol's and OpenAI's routes have their own).
        var format = Route.ErrorFormat.envelope
    }

    private enum Phase {
        /// Waiting for a request head since `since`.
        case awaitingHead(since: NIODeadline)
        /// Reading a request's body.
        case readingBody(Body)
        /// Answering, or a WebSocket: nothing but blocked writes is timed.
        case busy
        /// Answering an event stream: as `busy`, and the client's end of input means it has gone.
        case streaming
        /// The output is closed; what arrives is discarded until the client closes or `until`.
        case lingering(until: NIODeadline)
    }

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let minBodyRate: Int
    private let rateLimit: RateLimiting
    private let logger: Logger
    private var phase = Phase.busy
    private var lastRead = NIODeadline.now()
    private var bytesWhileWaiting = 0
    /// Since when the server has been asking for bytes that have not come yet.
    private var readPendingSince: NIODeadline?
    /// Since when writes have been blocked by a client that does not read.
    private var unwritableSince: NIODeadline?
    private var check: Scheduled<Void>?
    private var checkDeadline = NIODeadline.distantFuture

    /// - Parameter rateLimit: gives this handler's own answers their rate-limit fields.
    init(
        headerTimeout: TimeAmount, idleTimeout: TimeAmount, minBodyRate: Int, rateLimit: RateLimiting, logger: Logger
    ) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.minBodyRate = minBodyRate
        self.rateLimit = rateLimit
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startWaiting(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelCheck() }

    func channelActive(context: ChannelHandlerContext) {
        if case .busy = phase, check == nil { startWaiting(context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelCheck()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        switch phase {
        case .lingering: return
        case .awaitingHead:
            lastRead = .now()
            bytesWhileWaiting += count
        case .readingBody, .busy, .streaming: break
        }
        context.fireChannelRead(data)
        // Counted after the HTTP side has seen the bytes: the head that starts a body counts as part of it, in the
        // client's favour.
        if case .readingBody(var body) = phase {
            body.bytes += count
            phase = .readingBody(body)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let since = readPendingSince, case .readingBody(var body) = phase {
            body.clientTime = body.clientTime + (NIODeadline.now() - max(since, body.since))
            phase = .readingBody(body)
        }
        readPendingSince = nil
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if readPendingSince == nil { readPendingSince = .now() }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .lingering = phase {
            // This handler answered and closed the output: nothing more is said on this connection.
            promise?.fail(ChannelError.outputClosed)
            return
        }
        if case .readingBody(var body) = phase, !body.answered {
            body.answered = true
            phase = .readingBody(body)
        }
        context.write(data, promise: promise)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            unwritableSince = nil
        } else if unwritableSince == nil {
            let now = NIODeadline.now()
            unwritableSince = now
            ensureCheck(context, by: now + idleTimeout)
        }
        context.fireChannelWritabilityChanged()
    }

    /// At graceful shutdown, a connection waiting for a head has nothing to finish: close it now rather than when a
    /// timeout fires (before its first head, nothing else in the pipeline would). The client closing its side of a
    /// lingering connection, or of an event stream (a browser's `EventSource` closing sends exactly that), ends it:
    /// else the stream and its subscription would last until a write failed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            switch phase {
            case .lingering, .streaming:
                cancelCheck()
                context.close(promise: nil)
                return
            case .awaitingHead, .readingBody, .busy: break
            }
        }
        context.fireUserInboundEventTriggered(event)
        if event is ChannelShouldQuiesceEvent, case .awaitingHead = phase {
            cancelCheck()
            context.close(promise: nil)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? Event else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        if case .lingering = phase {
            // Closing already: whatever the HTTP side still reports changes nothing.
            promise?.succeed()
            return
        }
        switch event {
        case .upgradeRequested: phase = .busy
        case .headReceived(let format):
            let now = NIODeadline.now()
            phase = .readingBody(Body(since: now, format: format))
            ensureCheck(context, by: now + headerTimeout)
        case .bodyReceived:
            if case .readingBody = phase { phase = .busy }
        case .streaming:
            if case .busy = phase { phase = .streaming }
        case .awaitingHead: startWaiting(context)
        case .closeAfterResponse: linger(context)
        case .malformed(let reason):
            guard case .awaitingHead = phase else {
                promise?.fail(ChannelError.inappropriateOperationForState)
                return
            }
            // A request the responder never saw: it counts against the client's budget.
            refuse(
                context, status: 400, XalorraError(.badRequest, "The request is not valid HTTP/1.1 (\(reason))"),
                counting: true, log: "malformed request (\(reason))")
        case .answer(let response): answer(context, response)
        }
        promise?.succeed()
    }

    /// Answers with the error envelope and closes, logging why.
    /// - Parameter counting: whether the request still has to be counted against the client's rate limit (the
    ///   responder has counted those it admitted).
    /// - Parameter format: the form of the refusal, by the request's path when a head arrived.
    private func refuse(
        _ context: ChannelHandlerContext, status: Int, _ error: XalorraError, counting: Bool, log reason: String,
        format: Route.ErrorFormat = .envelope
    ) {
        let address = context.channel.remoteAddress?.ipAddress
        logger.info("connection closed: \(reason)", metadata: ["remote": "\(address ?? "unknown")"])
        let headers = rateLimit.earlyHeaders(address: address, counting: counting)
        answer(context, RawResponse(error, status: status, format: format, headers: headers))
    }

    /// Writes `response` straight onto the socket (nothing else can write a response before a head was parsed, or
    /// while a body is awaited, or once an upgrade is declined) and closes the output after it.
    private func answer(_ context: ChannelHandlerContext, _ response: RawResponse) {
        context.writeAndFlush(wrapOutboundOut(response.bytes(allocator: context.channel.allocator)), promise: nil)
        linger(context)
    }

    /// Closes the output once what was written has gone (the client sees the end of the response) and discards
    /// whatever still arrives, until the client closes its side or ``lingerTime`` has passed.
    private func linger(_ context: ChannelHandlerContext) {
        if case .lingering = phase { return }
        let until = NIODeadline.now() + Self.lingerTime
        phase = .lingering(until: until)
        context.close(mode: .output, promise: nil)
        ensureCheck(context, by: until)
    }

    /// Starts timing the wait for a head.
    private func startWaiting(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        phase = .awaitingHead(since: now)
        lastRead = now
        bytesWhileWaiting = 0
        ensureCheck(context, by: now + min(headerTimeout, idleTimeout))
    }

    private func cancelCheck() {
        phase = .busy
        unwritableSince = nil
        check?.cancel()
        check = nil
        checkDeadline = .distantFuture
    }

    /// Makes sure a check runs no later than `deadline`. A check already due sooner is kept: it looks again when it
    /// fires, so a busy keep-alive connection costs no new timer per request.
    private func ensureCheck(_ context: ChannelHandlerContext, by deadline: NIODeadline) {
        if check != nil, checkDeadline <= deadline { return }
        check?.cancel()
        checkDeadline = deadline
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            checkDeadline = .distantFuture
            expire(context)
        }
    }

    /// Closes the connection when a limit has passed, else looks again when the nearest one is due.
    private func expire(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        if let since = unwritableSince, now >= since + idleTimeout {
            logger.info(
                "connection closed: the client read nothing for \(Self.text(idleTimeout))",
                metadata: ["remote": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")"])
            cancelCheck()
            context.close(promise: nil)
            return
        }
        var next = unwritableSince.map { $0 + idleTimeout }
        switch phase {
        case .busy, .streaming: break
        case .lingering(let until):
            guard now < until else {
                cancelCheck()
                context.close(promise: nil)
                return
            }
            next = min(next ?? until, until)
        case .awaitingHead(let since):
            let headDeadline = since + headerTimeout
            let idleDeadline = lastRead + idleTimeout
            guard now >= headDeadline || now >= idleDeadline else {
                next = min(next ?? .distantFuture, min(headDeadline, idleDeadline))
                break
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
            return
        case .readingBody(let body):
            var clientTime = body.clientTime
            if let since = readPendingSince { clientTime = clientTime + (now - max(since, body.since)) }
            // Bytes the client owes at the minimum rate for the time it has been given; once it has been given the
            // header timeout, it must have delivered them.
            let owed = Double(minBodyRate) * Double(clientTime.nanoseconds) / 1e9
            if clientTime >= headerTimeout, Double(body.bytes) < owed {
                cancelCheck()
                let reason = "request body slower than \(minBodyRate) bytes/s (XALORRA_MIN_BODY_RATE)"
                guard !body.answered else {
                    logger.info(
                        "connection closed: \(reason)",
                        metadata: ["remote": "\(context.channel.remoteAddress?.ipAddress ?? "unknown")"])
                    context.close(promise: nil)
                    return
                }
                refuse(
                    context, status: 408,
                    XalorraError(.badRequest, "The request body arrived slower than \(minBodyRate) bytes per second"),
                    counting: false, log: reason, format: body.format)
                return
            }
            // Next look: when the header timeout has been given, then when the bytes received so far stop covering
            // the minimum rate (at least a second apart).
            let covered = TimeAmount.nanoseconds(Int64(min(Double(body.bytes) / Double(minBodyRate), 1e9) * 1e9))
            let wait =
                clientTime < headerTimeout
                ? headerTimeout - clientTime : max(covered - clientTime, .seconds(1))
            next = min(next ?? .distantFuture, now + max(wait, .milliseconds(20)))
        }
        if let next { ensureCheck(context, by: next) }
    }

    private static func text(_ amount: TimeAmount) -> String {
        let milliseconds = amount.nanoseconds / 1_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}
