import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing
import XalorraClient
import XalorraCore

/// The one Server-Sent Events reader (WHATWG HTML "interpreting an event stream"), and the two clients that use it:
/// `RemoteAPI`'s streams and the `openai` chat responder.
struct ServerSentEventTests {
    /// Every event `chunks` complete, fed to one reader in order.
    private func read(_ chunks: [[UInt8]], limit: Int = ServerSentEventReader.defaultMaximumEventBytes) throws
        -> [ServerSentEvent]
    {
        var reader = ServerSentEventReader(maximumEventBytes: limit)
        return try chunks.flatMap { chunk throws(ServerSentEventError) in try reader.feed(chunk) }
    }

    private func read(_ text: String) throws -> [ServerSentEvent] { try read([Array(text.utf8)]) }

    /// `data:x` and `data: x` are the same value; only one space after the colon is dropped.
    @Test func oneSpaceAfterTheColon() throws {
        #expect(try read("data:x\n\ndata: x\n\ndata:  x\n\n").map(\.data) == ["x", "x", " x"])
    }

    /// LF, CR and CRLF each end a line, also mixed in one stream, and give the same events.
    @Test func everyLineEnd() throws {
        let expected = [ServerSentEvent(data: "a\nb"), ServerSentEvent(event: "tick", data: "c")]
        for end in ["\n", "\r", "\r\n"] {
            let text = "data: a" + end + "data: b" + end + end + "event: tick" + end + "data: c" + end + end
            #expect(try read(text) == expected, "line end \(Array(end.utf8))")
        }
        #expect(try read("data: a\rdata: b\r\n\nevent: tick\r\ndata: c\n\r") == expected)
    }

    /// A CRLF split between two buffers is one line end, not a CR line and an empty line that dispatches early.
    @Test func lineEndSplitAcrossBuffers() throws {
        let chunks = ["data: a\r", "\ndata: b\r", "\n\r", "\n"].map { Array($0.utf8) }
        #expect(try read(chunks) == [ServerSentEvent(data: "a\nb")])
    }

    /// Fed one byte at a time, a stream gives exactly the events it gives fed whole, multi-byte UTF-8 included.
    @Test func byteAtATime() throws {
        let text = "\u{FEFF}: open\r\nid: 7\r\nevent: note\r\ndata: é€😀\r\ndata:\r\n\r\ndata: x\rretry: 10\r\r:z\n"
        let whole = try read(text)
        #expect(whole == [
            ServerSentEvent(event: "note", data: "é€😀\n", id: "7"), ServerSentEvent(data: "x", id: "7"),
        ])
        #expect(try read(Array(text.utf8).map { [$0] }) == whole)
    }

    /// Several `data:` lines join with line feeds; a bare `data` line is an empty value.
    @Test func multiLineData() throws {
        #expect(try read("data: one\ndata:\ndata\ndata: four\n\n").map(\.data) == ["one\n\n\nfour"])
        #expect(try read("data\n\n") == [ServerSentEvent(data: "")])
    }

    /// `event:` names one event's type; the next event is `message` again, also after an event with no data.
    @Test func eventType() throws {
        let events = try read("event: error\ndata: {}\n\ndata: x\n\nevent: lost\n\ndata: y\n\nevent:\ndata: z\n\n")
        #expect(events.map(\.event) == ["error", "message", "message", "message"])
        #expect(events.map(\.data) == ["{}", "x", "y", "z"])
    }

    /// Comments, unknown fields and fields in another case are ignored; an event without data is not dispatched.
    @Test func commentsAndUnknownFields() throws {
        let text = ": stream open\n\n: keep-alive\ndata: y\n:data: no\nData: no\nfoo: bar\n\nevent: only\nid: 3\n\n"
        #expect(try read(text) == [ServerSentEvent(data: "y")])
    }

    /// `id:` is remembered for later events, an empty `id` clears it, one holding NUL is ignored; `retry:` takes
    /// digits only.
    @Test func idAndRetry() throws {
        var reader = ServerSentEventReader()
        let text = "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 4\ndata: d\n\nid: 5\0x\ndata: e\n\nretry: 3000\nretry: 3s\n"
        let events = try reader.feed(Array(text.utf8))
        #expect(events.map(\.id) == ["1", "1", "", "4", "4"])
        #expect(reader.lastEventID == "4" && reader.reconnectionTime == 3000)
    }

    /// An event the stream ends in the middle of is never dispatched.
    @Test func incompleteEventDiscarded() throws {
        #expect(try read("data: a\n").isEmpty)
        #expect(try read("data: a\n\ndata: b").map(\.data) == ["a"])
    }

    /// A byte-order mark is skipped at the start of the stream only.
    @Test func byteOrderMark() throws {
        #expect(try read("\u{FEFF}data: a\n\n").map(\.data) == ["a"])
        #expect(try read([[0xEF], [0xBB, 0xBF], Array("data: a\n\n".utf8)]).map(\.data) == ["a"])
        #expect(try read("data: a\n\n\u{FEFF}data: b\n\n").map(\.data) == ["a"])
    }

    /// A line that never ends, or an event of many lines, stops at the limit instead of filling the memory.
    @Test func eventSizeLimit() throws {
        let tooLarge = ServerSentEventError.eventTooLarge(limit: 16)
        #expect(throws: tooLarge) { try read([Array(repeating: 0x61, count: 17)], limit: 16) }
        #expect(throws: tooLarge) { try read(Array(repeating: Array("data: abcd\n".utf8), count: 4), limit: 16) }
        #expect(try read(Array(repeating: Array("data: abcd\n\n".utf8), count: 100), limit: 16).count == 100)
    }

    // MARK: - The clients

    /// `xalorra logs --follow`'s stream: `data:` without a space, CRLF, a record over two `data:` lines and an
    /// event of another type are read as the standard says, and a last `event: error` is thrown as its envelope.
    @Test func remoteFollowLogs() async throws {
        let records = (1...3).map { id in
            PredictionRecord(
                id: Int64(id), timestamp: Timestamp.now(), model: "m", version: "1", input: [.int(Int64(id))],
                prediction: .int(Int64(id * 2)), userID: "ann", tenant: "default", latencyMicros: 5)
        }
        let json = records.map { JSONWriter.compact($0.json) }
        let envelope = JSONWriter.compact(.object([("error", XalorraError(.tokenExpired, "the token expired").json)]))
        let splitAt = json[1].firstIndex(of: ",")!
        let stub = try await SSEStub(chunks: [
            ": stream open\r\n\r\n", "data:\(json[0])\r\n\r", "\n",
            "data: \(json[1][..<splitAt])\r\ndata: \(json[1][splitAt...])\r\n\r\n",
            "event: ping\r\ndata: {\"id\": 99}\r\n\r\n", "data: \(json[2])\r\r",
            "event: error\r\ndata: \(envelope)\r\n\r\n",
        ])
        defer { stub.stop() }
        let api = try RemoteAPI(baseURL: stub.url, token: nil)
        var received: [PredictionRecord] = []
        var failure: (any Error)?
        do {
            for try await record in api.followLogs(try LogQuery(), after: nil) { received.append(record) }
        } catch {
            failure = error
        }
        #expect(received.map(\.id) == [1, 2, 3])
        let error = try #require(failure as? XalorraError, "\(String(describing: failure))")
        #expect(error.code == .tokenExpired && error.message == "the token expired")
    }

    /// The `openai` responder reads a backend that ends lines with CR, omits the space after `data:`, sends
    /// comments and a multi-line chunk, and stops at `[DONE]`.
    @Test func openAIResponderStream() async throws {
        func chunk(_ text: String) -> String {
            JSONWriter.compact(.object([("choices", .array([.object([("delta", .object([("content", .string(text))]))])]))]))
        }
        let second = chunk(" world")
        let comma = second.index(after: try #require(second.firstIndex(of: "[")))
        let stub = try await SSEStub(chunks: [
            ": hello\r\r", "data:\(chunk("Hello"))\r", "\r", "data: \(second[..<comma])\rdata: \(second[comma...])\r\r",
            "data: [DONE]\r\r", "data: \(chunk(" ignored"))\r\r",
        ])
        defer { stub.stop() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("xalorra-sse-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let settings = try Settings.resolve(
            flags: ["--home": home.path],
            environment: [
                "HOME": home.path, "XALORRA_CHAT_URL": stub.url + "/v1", "XALORRA_CHAT_MODEL": "stub",
                "XALORRA_CHAT_TIMEOUT": "5s",
            ], dotEnv: [:])
        let api = LocalAPI(settings: settings, caller: Caller(user: "ann", role: .admin, tenant: "default"))
        let deltas = Deltas()
        let text = try await OpenAIResponder(settings.chat).reply(
            to: [ChatMessage(id: 1, sender: .user, content: "hi", timestamp: Timestamp.now())], api: api,
            onDelta: { delta in await deltas.append(delta) })
        #expect(text == "Hello world")
        #expect(await deltas.all == ["Hello", " world"])
    }
}

/// The deltas a responder reported, in order.
private actor Deltas {
    private(set) var all: [String] = []

    func append(_ delta: String) { all.append(delta) }
}

/// A loopback server that answers every GET or POST with `text/event-stream` made of `chunks`, each written as its
/// own buffer.
private final class SSEStub: Sendable {
    private let portBox = Mutex<Int>(0)
    private let service = Mutex<Task<Void, any Error>?>(nil)

    var url: String { "http://127.0.0.1:\(portBox.withLock { $0 })" }

    init(chunks: [String]) async throws {
        let router = Router()
        let respond: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            _ = try await request.body.collect(upTo: 1 << 20)
            let body = ResponseBody { writer in
                for chunk in chunks {
                    try await writer.write(ByteBuffer(string: chunk))
                    try await Task.sleep(for: .milliseconds(5))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: body)
        }
        router.get("**", use: respond)
        router.post("**", use: respond)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        service.withLock { $0 = Task { try await app.runService(gracefulShutdownSignals: []) } }
        for await port in ports {
            portBox.withLock { $0 = port }
            break
        }
    }

    func stop() { service.withLock { $0?.cancel() } }

    deinit { stop() }
}
