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

    /// The model the settings name (`XALORRA_CHAT_MODEL`).
    public var model: String { backend.model }

    public func reply(
        to history: [ChatMessage], api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> String {
        let messages = history.map { message in
            ChatCompletionRequest.Message(message.sender == .user ? .user : .assistant, message.content)
        }
        return try await complete(
            ChatCompletionRequest(model: backend.model, messages: messages), api: api, onDelta: onDelta
        ).text
    }

    /// The operator's system prompt (`XALORRA_CHAT_SYSTEM_PROMPT`) goes first, as a system message of its own; the
    /// request's messages follow in their order, a `developer` message sent as `system` (servers such as Ollama
    /// know no other); the request's sampling options are passed on as sent. The backend's `usage` is asked for
    /// (`stream_options.include_usage`) and returned when it sends one.
    public func complete(
        _ completion: ChatCompletionRequest, api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> ChatAnswer {
        var messages: [JSONValue] = []
        if !backend.systemPrompt.isEmpty {
            messages.append(.object([("role", "system"), ("content", .string(backend.systemPrompt))]))
        }
        for message in completion.messages {
            let role = message.role == .developer ? "system" : message.role.rawValue
            messages.append(.object([("role", .string(role)), ("content", .string(message.content))]))
        }
        var request = HTTPClientRequest(url: baseURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream, application/json")
        if let key = backend.apiKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        var body: [UInt8] = []
        JSONWriter.write(
            .object([
                ("model", .string(backend.model)), ("messages", .array(messages)), ("stream", true),
                ("stream_options", .object([("include_usage", true)])),
            ] + completion.options),
            into: &body)
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
                let answer = try? JSONParser.parse(bytes)
                guard case .string(let text)? = answer?["choices"]?.first?["message"]?["content"]
                else { throw Self.unavailable("the backend's answer has no choices[0].message.content") }
                await onDelta(text)
                return ChatAnswer(
                    text: try Self.nonEmpty(text),
                    finishReason: answer?["choices"]?.first?["finish_reason"]?.stringValue ?? "stop",
                    usage: Self.usage(answer?["usage"]))
            }
            var text = ""
            var finishReason = "stop"
            var usage: ChatUsage?
            var reader = ServerSentEventReader()
            var done = false
            for try await buffer in response.body where !done {
                for event in try reader.feed(buffer.readableBytesView) where event.event == "message" {
                    if event.data == "[DONE]" {
                        done = true
                        break
                    }
                    guard let chunk = try? JSONParser.parse(Array(event.data.utf8)),
                        case .array(let choices)? = chunk["choices"]
                    else { throw Self.unavailable("the backend sent a chunk that is not a completion") }
                    // The usage chunk that ends a stream has no choices.
                    usage = Self.usage(chunk["usage"]) ?? usage
                    guard let choice = choices.first else { continue }
                    if case .string(let delta)? = choice["delta"]?["content"], !delta.isEmpty {
                        text += delta
                        await onDelta(delta)
                    }
                    if case .string(let reason)? = choice["finish_reason"] { finishReason = reason }
                }
            }
            return ChatAnswer(text: try Self.nonEmpty(text), finishReason: finishReason, usage: usage)
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

    /// An upstream's `usage`, when it is one.
    private static func usage(_ json: JSONValue?) -> ChatUsage? {
        guard let json, json != .null else { return nil }
        return try? ChatUsage(json: json)
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
