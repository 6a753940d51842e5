import Logging
import NIOCore
import Synchronization

/// Open connections per client (see ``ClientAddress/limitKey``), shared by every event loop: past `limit`, a new
/// connection from the same client is closed at once (`XALORRA_MAX_CONNECTIONS_PER_CLIENT`). Without it, one
/// client could hold every slot of `XALORRA_MAX_CONNECTIONS` and leave everyone else waiting in the listen queue.
final class ClientConnections: Sendable {
    private struct State {
        var open: [String: Int] = [:]
        /// Clients refused since they were last under the limit: each episode is logged once, not per connection.
        var refusing: Set<String> = []
    }

    /// What ``admit(_:)`` decided.
    enum Admission: Equatable {
        case admitted
        /// Over the limit; `firstRefusal` when this is the first refusal since the client was last under it.
        case refused(firstRefusal: Bool)
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = limit }

    /// Counts a new connection from `client`, unless it already has `limit` open.
    func admit(_ client: String) -> Admission {
        state.withLock { state in
            let open = state.open[client, default: 0]
            guard open < limit else { return .refused(firstRefusal: state.refusing.insert(client).inserted) }
            state.open[client] = open + 1
            return .admitted
        }
    }

    /// Forgets a closed connection that ``admit(_:)`` counted.
    func release(_ client: String) {
        state.withLock { state in
            let open = state.open[client, default: 1] - 1
            state.open[client] = open > 0 ? open : nil
            if open < limit { state.refusing.remove(client) }
        }
    }

    /// Connections open from `client` now.
    func count(_ client: String) -> Int { state.withLock { $0.open[client, default: 0] } }
}

extension ClientConnections {
    /// First in every connection's pipeline: counts the connection while it is open, or closes it at once when its
    /// client is over the limit.
    final class Guard: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = Any

        private let connections: ClientConnections
        private let logger: Logger
        /// The client's key while this connection is counted.
        private var counted: String?
        private var decided = false

        init(connections: ClientConnections, logger: Logger) {
            self.connections = connections
            self.logger = logger
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { decide(context) }
        }

        func handlerRemoved(context: ChannelHandlerContext) { release() }

        func channelActive(context: ChannelHandlerContext) {
            decide(context)
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            release()
            context.fireChannelInactive()
        }

        private func decide(_ context: ChannelHandlerContext) {
            guard !decided else { return }
            decided = true
            let address = context.channel.remoteAddress?.ipAddress
            let client = ClientAddress.limitKey(address)
            switch connections.admit(client) {
            case .admitted:
                counted = client
            case .refused(let firstRefusal):
                if firstRefusal {
                    let limit = connections.limit
                    logger.warning(
                        """
                        connection refused: \(limit) connections already open from this client \
                        (XALORRA_MAX_CONNECTIONS_PER_CLIENT); further ones are closed silently until one closes
                        """,
                        metadata: ["remote": "\(address ?? "unknown")"])
                }
                // Closed on the next tick: the connection's pipeline may still be being set up now.
                context.eventLoop.assumeIsolated().execute { context.close(promise: nil) }
            }
        }

        private func release() {
            guard let client = counted else { return }
            counted = nil
            connections.release(client)
        }
    }
}
