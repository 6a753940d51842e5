import HTTPTypes
import NIOCore
import NIOHTTPTypes

extension RequestHeadTimeout {
    /// After the HTTP decoder: tells ``RequestHeadTimeout`` when a head arrives, when its body has been read and when
    /// a request has been both read and answered; and gives every response head the fields every response carries.
    ///
    /// A response written while its request's body is still arriving (an early error: 404, 401, 413, 429, ...) says
    /// `Connection: close`, and the connection closes once it is written, rather than reading, and so waiting for, a
    /// body nobody needs: otherwise any client could hold a connection open by announcing a large body and
    /// trickling it. A request with no body, or a small one that had arrived in full, keeps its connection.
    ///
    /// A response that did not come through the responder (Hummingbird's own: a redirect for an upgrade on a
    /// connection already in use, a 400 for a request it could not parse) gets the rate-limit fields here, where the
    /// client's address stands.
    final class Tracker: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPRequestPart
        typealias InboundOut = HTTPRequestPart
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart

        private let rateLimit: RateLimiting

        init(rateLimit: RateLimiting) { self.rateLimit = rateLimit }

        /// Requests whose response has not ended.
        private var unanswered = 0
        /// Whether a request's body is still being read.
        private var reading = false
        /// Whether the current request asked to close the connection after its response.
        private var closeRequested = false
        /// Whether the response being written said `Connection: close`.
        private var closing = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                unanswered += 1
                reading = true
                closeRequested = Self.saysClose(head.headerFields)
                let path = head.path.map { $0.prefix { $0 != "?" } } ?? ""
                context.triggerUserOutboundEvent(
                    Event.headReceived(Exchange.errorFormat(path: String(path))), promise: nil)
            case .body: break
            case .end:
                reading = false
                context.triggerUserOutboundEvent(Event.bodyReceived, promise: nil)
                if unanswered == 0, !closing { context.triggerUserOutboundEvent(Event.awaitingHead, promise: nil) }
            }
            context.fireChannelRead(data)
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            switch unwrapOutboundIn(data) {
            case .head(var head):
                // Only a response that needs a field added is written anew: the responder's have them all. Looking
                // fields up by name with `contains` finds them without building their values.
                var changed = false
                // `nosniff` on every response, whoever wrote it (the responder, Hummingbird's own 400s and
                // redirects): a browser never reads a JSON error or an event stream as a script or a page.
                if !head.headerFields.contains(.xContentTypeOptions) {
                    head.headerFields.append(HTTPField(name: .xContentTypeOptions, value: "nosniff"))
                    changed = true
                }
                if rateLimit.isOn, !head.headerFields.contains(RateLimiting.limitField) {
                    let address = context.channel.remoteAddress?.ipAddress
                    head.headerFields.append(contentsOf: rateLimit.earlyHeaders(address: address, counting: false))
                    changed = true
                }
                if reading || closeRequested || Self.saysClose(head.headerFields) {
                    if head.headerFields[.connection] != "close" {
                        head.headerFields[.connection] = "close"
                        changed = true
                    }
                    closing = true
                }
                if Self.isEventStream(head.headerFields) {
                    context.triggerUserOutboundEvent(Event.streaming, promise: nil)
                }
                context.write(changed ? wrapOutboundOut(.head(head)) : data, promise: promise)
            case .body:
                context.write(data, promise: promise)
            case .end:
                unanswered = max(0, unanswered - 1)
                guard closing else {
                    if unanswered == 0, !reading { context.triggerUserOutboundEvent(Event.awaitingHead, promise: nil) }
                    context.write(data, promise: promise)
                    return
                }
                let written = promise ?? context.eventLoop.makePromise()
                written.futureResult.assumeIsolated().whenComplete { _ in
                    context.triggerUserOutboundEvent(Event.closeAfterResponse, promise: nil)
                }
                context.writeAndFlush(data, promise: written)
            }
        }

        /// Whether `fields` have a `Connection` field with the `close` option (`close`, `Close`, `keep-alive, close`).
        private static func saysClose(_ fields: HTTPFields) -> Bool {
            guard fields.contains(.connection) else { return false }
            return fields[values: .connection].contains { value in
                value.split(separator: ",").contains { $0.filter { $0 != " " && $0 != "\t" }.lowercased() == "close" }
            }
        }

        /// Whether `fields` say `Content-Type: text/event-stream`.
        private static func isEventStream(_ fields: HTTPFields) -> Bool {
            guard let index = fields.firstIndex(where: { $0.name == .contentType }) else { return false }
            return fields[index].value.hasPrefix("text/event-stream")
        }
    }
}
