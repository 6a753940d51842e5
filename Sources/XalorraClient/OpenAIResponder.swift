import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import XalorraCore

/// Chat replies from any OpenAI-compatible `/v1/chat/completions` server (Ollama, llama.cpp's server, vLLM): the
/// system prompt and the conversation go as `messages`, the reply streams back as SSE `data:` chunks until
/// `[DONE]`. A backend that is down, slower than the timeout, or answers something else is 503
/// `AI_SERVICE_UNAVAILABLE`.
public struct OpenAIResponder: ChatResponder {
    public let name = "openai"
    public let backend: ChatBackend
    private let baseURL: String

    public init(_ backend: ChatBackend) {
        self.backend = backend
        var url = backend.url ?? ""
        while url.hasSuffix("/") { url.removeLast() }
        if url.hasSuffix("/v1") { url.removeLast(3) }
        baseURL = url
    }

    /// The responder the settings ask for.
    public static func responder(for settings: Settings) -> any ChatResponder {
        settings.chat.url == nil ? BuiltinResponder() : OpenAIResponder(settings.chat)
    }

    public func reply(
        to history: [ChatMessage], api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> String {
        var messages: [JSONValue] = []
        if !backend.systemPrompt.isEmpty {
            messages.append(.object([("role", "system"), ("content", .string(backend.systemPrompt))]))
        }
        for message in history {
            messages.append(.object([
                ("role", .string(message.sender == .user ? "user" : "assistant")), ("content", .string(message.content)),
            ]))
        }
        var request = HTTPClientRequest(url: baseURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream, application/json")
        if let key = backend.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        var body: [UInt8] = []
        JSONWriter.write(
            .object([("model", .string(backend.model)), ("messages", .array(messages)), ("stream", true)]), into: &body)
        request.body = .bytes(ByteBuffer(bytes: body))

        let deadline = NIODeadline.now() + .seconds(backend.timeout.seconds)
        do {
            let response = try await Self.client.execute(request, deadline: deadline)
            guard response.status == .ok else {
                throw Self.unavailable("the backend answered \(response.status.code)")
            }
            let contentType = response.headers.first(name: "Content-Type") ?? ""
            guard contentType.contains("text/event-stream") else {
                // A server that ignores `stream` answers one JSON body.
                let bytes = Array(try await response.body.collect(upTo: 16 << 20).readableBytesView)
                guard case .string(let text)? = try? JSONParser.parse(bytes)["choices"]?.first?["message"]?["content"]
                else { throw Self.unavailable("the backend's answer has no choices[0].message.content") }
                await onDelta(text)
                return try Self.nonEmpty(text)
            }
            var text = ""
            var reader = ServerSentEventReader()
            var done = false
            for try await buffer in response.body where !done {
                for event in try reader.feed(buffer.readableBytesView) where event.event == "message" {
                    if event.data == "[DONE]" {
                        done = true
                        break
                    }
                    guard let chunk = try? JSONParser.parse(Array(event.data.utf8)), let choice = chunk["choices"]?.first
                    else { throw Self.unavailable("the backend sent a chunk that is not a completion") }
                    if case .string(let delta)? = choice["delta"]?["content"], !delta.isEmpty {
                        text += delta
                        await onDelta(delta)
                    }
                }
            }
            return try Self.nonEmpty(text)
        } catch let error as XalorraError {
            throw error
        } catch let error as ServerSentEventError {
            throw Self.unavailable("the backend's stream broke off: \(error)")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Self.unavailable("no complete answer within \(backend.timeout)")
        } catch {
            throw Self.unavailable("cannot reach \(baseURL): \(error)")
        }
    }

    /// `GET /v1/models` within two seconds.
    public func health() async -> ResponderHealth {
        let started = ContinuousClock.now
        var request = HTTPClientRequest(url: baseURL + "/v1/models")
        if let key = backend.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        let response = try? await Self.client.execute(request, deadline: .now() + .seconds(2))
        _ = try? await response?.body.collect(upTo: 1 << 20)
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        guard let response else {
            return ResponderHealth(available: false, milliseconds: milliseconds, detail: "cannot reach \(baseURL)")
        }
        return ResponderHealth(
            available: response.status == .ok, milliseconds: milliseconds,
            detail: response.status == .ok ? nil : "GET /v1/models answered \(response.status.code)")
    }

    private static func nonEmpty(_ text: String) throws(XalorraError) -> String {
        guard !text.isEmpty else { throw unavailable("the backend answered no text") }
        return text
    }

    private static func unavailable(_ reason: String) -> XalorraError {
        XalorraError(.aiUnavailable, "The AI service is unavailable: \(reason). Your message was saved; try again later.")
    }

    /// Connections to the backend fail fast when it is down.
    private static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(timeout: .init(connect: .seconds(3))))
}

extension JSONValue {
    /// The first element, when this is a non-empty array.
    fileprivate var first: JSONValue? {
        if case .array(let items) = self { return items.first }
        return nil
    }
}
