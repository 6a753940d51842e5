/// Reads a `text/event-stream` incrementally, as the WHATWG HTML standard's "interpreting an event stream" says:
/// lines end with CRLF, LF or CR (a CRLF may be split between two buffers); a line starting with `:` is a comment;
/// `field:value` loses one space after the colon (`data:x` and `data: x` are the same); several `data:` lines join
/// with line feeds; `event:` names the type (`message` otherwise); `id:` sets the last event ID unless it holds NUL;
/// `retry:` with digits only sets the reconnection time; an empty line dispatches the event, unless it has no data
/// line; unknown fields are ignored; a leading byte-order mark is skipped. An event the stream ends in the middle of
/// is never dispatched. The one reader behind ``RemoteAPI``'s streams and ``OpenAIResponder``.
///
/// One event may hold at most `maximumEventBytes`, so that a peer that never ends a line cannot fill the memory.
public struct ServerSentEventReader: Sendable {
    /// The default limit for one event: as much as a whole non-streamed answer may hold.
    public static let defaultMaximumEventBytes = 16 << 20

    /// The most bytes one event (its data so far and the line being read) may hold.
    public let maximumEventBytes: Int
    /// The last event ID seen, carried from event to event as the standard says; empty when none.
    public private(set) var lastEventID = ""
    /// The reconnection time in milliseconds the stream asked for with `retry:`, if any.
    public private(set) var reconnectionTime: Int?

    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var eventType: [UInt8] = []
    private var lastEventIDBuffer = ""
    /// The last buffer ended with CR: a LF starting the next one belongs to the same line end.
    private var afterCarriageReturn = false
    private var atStartOfStream = true

    /// Creates a reader for one stream.
    public init(maximumEventBytes: Int = defaultMaximumEventBytes) {
        self.maximumEventBytes = maximumEventBytes
    }

    /// Reads the next bytes of the stream and returns the events they complete, in order.
    /// - Throws: ``ServerSentEventError/eventTooLarge(limit:)`` when one event passes `maximumEventBytes`.
    public mutating func feed<Bytes: Sequence>(
        _ bytes: Bytes
    ) throws(ServerSentEventError) -> [ServerSentEvent] where Bytes.Element == UInt8 {
        let chunk = Array(bytes)
        var events: [ServerSentEvent] = []
        var start = 0
        if afterCarriageReturn, let first = chunk.first {
            afterCarriageReturn = false
            if first == Self.lineFeed { start = 1 }
        }
        var index = start
        while index < chunk.count {
            let byte = chunk[index]
            if byte == Self.lineFeed || byte == Self.carriageReturn {
                try append(chunk[start..<index])
                if let event = processLine() { events.append(event) }
                if byte == Self.carriageReturn {
                    if index + 1 == chunk.count {
                        afterCarriageReturn = true
                    } else if chunk[index + 1] == Self.lineFeed {
                        index += 1
                    }
                }
                start = index + 1
            }
            index += 1
        }
        try append(chunk[start...])
        return events
    }

    private mutating func append(_ bytes: ArraySlice<UInt8>) throws(ServerSentEventError) {
        guard !bytes.isEmpty else { return }
        guard line.count + data.count + bytes.count <= maximumEventBytes else {
            throw .eventTooLarge(limit: maximumEventBytes)
        }
        line += bytes
    }

    /// Applies one complete line; returns the event an empty line dispatches.
    private mutating func processLine() -> ServerSentEvent? {
        var content = line[...]
        line = []
        if atStartOfStream {
            atStartOfStream = false
            if content.starts(with: Self.byteOrderMark) { content = content.dropFirst(Self.byteOrderMark.count) }
        }
        guard let first = content.first else { return dispatch() }
        if first == Self.colon { return nil }
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8> = []
        if let colon = content.firstIndex(of: Self.colon) {
            field = content[..<colon]
            value = content[(colon + 1)...]
            if value.first == Self.space { value = value.dropFirst() }
        } else {
            field = content
        }
        if field.elementsEqual("data".utf8) {
            data += value
            data.append(Self.lineFeed)
        } else if field.elementsEqual("event".utf8) {
            eventType = Array(value)
        } else if field.elementsEqual("id".utf8) {
            if !value.contains(0) { lastEventIDBuffer = String(decoding: value, as: UTF8.self) }
        } else if field.elementsEqual("retry".utf8) {
            if !value.isEmpty, value.allSatisfy({ (0x30...0x39).contains($0) }),
                let milliseconds = Int(String(decoding: value, as: UTF8.self))
            {
                reconnectionTime = milliseconds
            }
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        lastEventID = lastEventIDBuffer
        defer {
            data.removeAll(keepingCapacity: true)
            eventType = []
        }
        guard !data.isEmpty else { return nil }
        data.removeLast()  // the line feed after the last `data:` line
        return ServerSentEvent(
            event: eventType.isEmpty ? "message" : String(decoding: eventType, as: UTF8.self),
            data: String(decoding: data, as: UTF8.self), id: lastEventID)
    }

    private static let lineFeed: UInt8 = 0x0A
    private static let carriageReturn: UInt8 = 0x0D
    private static let colon: UInt8 = 0x3A
    private static let space: UInt8 = 0x20
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]
}
