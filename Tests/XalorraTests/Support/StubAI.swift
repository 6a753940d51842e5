import Foundation
import Hummingbird
import NIOCore
import Synchronization
import XalorraCore

/// A small OpenAI-compatible server on a loopback port, for the `openai` responder's tests. The requested model
/// name picks its behaviour: `echo` streams `Echo: <last message>` a word at a time, `plain` answers one JSON body,
/// `fail` answers 500, `garbage` streams something that is not a completion, `slow` waits 3 s, `empty` says nothing.
final class StubAI: Sendable {
    /// The JSON bodies received, in order.
    let requests = Mutex<[JSONValue]>([])
    private let portBox = Mutex<Int>(0)
    private let service = Mutex<Task<Void, any Error>?>(nil)

    var url: String { "http://127.0.0.1:\(portBox.withLock { $0 })" }

    init() async throws {
        let router = Router()
        router.get("/v1/models") { _, _ in "{\"data\":[{\"id\":\"echo\"}]}" }
        router.post("/v1/chat/completions") { [self] request, _ -> Response in
            let bytes = Array(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            let body = try JSONParser.parse(bytes)
            requests.withLock { $0.append(body) }
            guard case .array(let messages)? = body["messages"], let last = messages.last?["content"]?.stringValue else {
                return Response(status: .badRequest)
            }
            let reply = "Echo: \(last)"
            switch body["model"]?.stringValue {
            case "fail":
                return Response(status: .internalServerError)
            case "plain":
                let json = JSONWriter.compact(.object([
                    ("choices", .array([.object([("message", .object([("role", "assistant"), ("content", .string(reply))]))])])),
                ]))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
            case "garbage":
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: .init(byteBuffer: ByteBuffer(string: "data: this is not json\n\n")))
            case "slow":
                try await Task.sleep(for: .seconds(3))
                return Response(status: .internalServerError)
            case "empty":
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: .init(byteBuffer: ByteBuffer(string: "data: [DONE]\n\n")))
            default:
                var words = reply.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
                for index in words.indices.dropLast() { words[index] += " " }
                var events = ""
                for word in words {
                    let chunk = JSONWriter.compact(.object([
                        ("choices", .array([.object([("delta", .object([("content", .string(word))]))])])),
                    ]))
                    events += "data: \(chunk)\n\n"
                }
                events += "data: [DONE]\n\n"
                return Response(
                    status: .ok, headers: [.contentType: "text/event-stream"],
                    body: .init(byteBuffer: ByteBuffer(string: events)))
            }
        }
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

    /// The `messages` of the `index`th request.
    func messages(_ index: Int) -> [JSONValue] {
        guard case .array(let items)? = requests.withLock({ $0.indices.contains(index) ? $0[index] : nil })?["messages"]
        else { return [] }
        return items
    }

    func stop() { service.withLock { $0?.cancel() } }

    deinit { stop() }
}
