import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the peer address, which rate limiting keys on, and the
/// connection's end, which streams stop at.
public struct ServerContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connected client's address.
    public let remoteAddress: SocketAddress?
    /// Completes when the connection closes: a stream stops then, not at its next write.
    public let closed: EventLoopFuture<Void>

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.closed = source.channel.closeFuture
    }
}
