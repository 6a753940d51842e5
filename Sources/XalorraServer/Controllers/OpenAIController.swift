import Synchronization
import XalorraCore

/// The OpenAI API's chat (`/v1/*`), so that OpenAI clients and tools talk to the configured responder through
/// xalorra's tokens, rate limits, logs and metrics. Errors are OpenAI's error object (the routes' error format).
enum OpenAIController {
    /// `GET /v1/models`.
    static let models: RouteHandler = { input in .json(ChatModel.list(try await input.api.chatModels())) }

    /// `GET /v1/models/{model}` (the SDKs' `models.retrieve`): one of those, or 404 `model_not_found`.
    static let model: RouteHandler = { input in
        .json(try ChatModel.named(input.parameter("model"), in: try await input.api.chatModels()).json)
    }

    /// `POST /v1/chat/completions`. Streamed, the answer is Server-Sent Events: a chunk with the role (and the
    /// stored conversation's id), one per piece of the reply, one with the finish reason, the usage chunk when
    /// `stream_options.include_usage` asks for it, then `data: [DONE]`. A failure before the first piece is an
    /// ordinary error response; after it, an event `{"error": {…}}` (which OpenAI clients raise) and no `[DONE]`.
    static let chatCompletions: RouteHandler = { input in
        let request = try ChatCompletionRequest(json: try input.json())
        let api = input.api
        guard request.stream else {
            return .json(try await api.chatCompletion(request, onDelta: { _ in }).json)
        }
        return try await ReplyStream.events(failureEvent: { $0.openAIJSON }) { emit in
            let opened = Flag()
            let completion = try await api.chatCompletion(request) { delta in
                if opened.set() {
                    emit(ChatCompletion.chunk(
                        id: delta.id, created: delta.created, model: delta.model,
                        delta: [("role", "assistant"), ("content", "")],
                        extra: [("conversation_id", .string(ChatID.conversation(delta.conversationID)))]))
                }
                emit(ChatCompletion.chunk(
                    id: delta.id, created: delta.created, model: delta.model,
                    delta: [("content", .string(delta.content))]))
            }
            emit(ChatCompletion.chunk(
                id: completion.id, created: completion.created, model: completion.model, delta: [],
                finishReason: completion.finishReason))
            if request.includeUsage { emit(completion.usageChunk) }
            emit("[DONE]")
        }
    }
}

/// Set once, from any task: whether a stream has opened.
private final class Flag: Sendable {
    private let state = Mutex(false)

    /// Sets it; whether this call was the one that did.
    func set() -> Bool { state.withLock { old in defer { old = true }; return !old } }
}
