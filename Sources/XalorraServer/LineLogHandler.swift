import Logging
import XalorraCore

/// swift-log's handler for `serve`: one line per event on stderr, written with a single `write(2)`, as
/// `2026-11-23T23:51:07.123456Z info GET /predict/m 200 ms=0.301 request-id=5`. StreamLogHandler formatted the
/// same line for 6 % of the server's CPU under load (sorting and prettifying metadata, a locked stdio stream).
/// Messages and metadata values can quote what clients sent (names in error messages): they are written through
/// ``TerminalText`` so that nothing in them reaches the operator's terminal as a control sequence or forges a line.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let fd: Int32

    /// A handler writing to `fd` (stderr by default).
    public init(fd: Int32 = 2) { self.fd = fd }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line: [UInt8] = []
        line.reserveCapacity(128)
        Timestamp.now().appendLogText(into: &line)
        line.append(UInt8(ascii: "Z"))
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: event.level.rawValue.utf8)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: TerminalText.escaped("\(event.message)").utf8)
        let extra = event.metadata ?? [:]
        let all = metadata.isEmpty ? extra : metadata.merging(extra) { $1 }
        for key in all.keys.sorted() {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: key.utf8)
            line.append(UInt8(ascii: "="))
            line.append(contentsOf: TerminalText.escaped("\(all[key]!)").utf8)
        }
        line.append(0x0A)
        try? FileSystem.writeAll(fd: fd, bytes: line, name: "standard error")
    }
}
