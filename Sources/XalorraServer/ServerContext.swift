import Hummingbird
import NIOCore

/// The request context: Hummingbird's core storage plus the peer address, which rate limiting keys on, and the
/// connection's end, which streams stop at. Both are read from the channel when asked for, not for every request.
public struct ServerContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    private let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The connected client's address.
    public var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// Completes when the connection closes: a stream stops then, not at its next write.
    public var closed: EventLoopFuture<Void> { channel.closeFuture }
}
