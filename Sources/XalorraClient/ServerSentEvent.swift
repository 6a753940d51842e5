/// One dispatched Server-Sent Event, as the WHATWG HTML standard's "interpreting an event stream" builds it.
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` field, `message` when the event has none.
    public var event: String
    /// The `data:` lines joined by line feeds, without the last one.
    public var data: String
    /// The last event ID (`id:`) seen so far in the stream, this event's or an earlier one's; empty when none.
    public var id: String

    /// Creates an event.
    public init(event: String = "message", data: String, id: String = "") {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// Why a stream of Server-Sent Events cannot be read on.
public enum ServerSentEventError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One event (its pending line and data together) passed the reader's limit of this many bytes.
    case eventTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .eventTooLarge(let limit): "an event is larger than \(limit) bytes"
        }
    }
}
