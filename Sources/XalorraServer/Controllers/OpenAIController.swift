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
        let (events, sink) = AsyncStream.makeStream(of: JSONValue.self, bufferingPolicy: .unbounded)
        let (failures, failureSink) = AsyncStream.makeStream(of: XalorraError?.self, bufferingPolicy: .unbounded)
        Task {
            let opened = Flag()
            do {
                let completion = try await api.chatCompletion(request) { delta in
                    if opened.set() {
                        // The first piece tells the handler to answer 200.
                        failureSink.yield(nil)
                        failureSink.finish()
                        sink.yield(ChatCompletion.chunk(
                            id: delta.id, created: delta.created, model: delta.model,
                            delta: [("role", "assistant"), ("content", "")],
                            extra: [("conversation_id", .string(ChatID.conversation(delta.conversationID)))]))
                    }
                    sink.yield(ChatCompletion.chunk(
                        id: delta.id, created: delta.created, model: delta.model,
                        delta: [("content", .string(delta.content))]))
                }
                failureSink.yield(nil)
                sink.yield(ChatCompletion.chunk(
                    id: completion.id, created: completion.created, model: completion.model, delta: [],
                    finishReason: completion.finishReason))
                if request.includeUsage { sink.yield(completion.usageChunk) }
                sink.yield("[DONE]")
            } catch {
                let failure = error as? XalorraError ?? XalorraError(.internal, "\(error)")
                failureSink.yield(failure)
                let shown = failure.code == .internal ? XalorraError(.internal, "Internal server error") : failure
                sink.yield(shown.openAIJSON)
            }
            sink.finish()
            failureSink.finish()
        }
        // Wait for the first sign of life: a failure before any text is an ordinary error response.
        var firstOutcome: XalorraError??
        for await outcome in failures {
            firstOutcome = outcome
            break
        }
        if case .some(.some(let error)) = firstOutcome { throw error }
        let (chunks, output) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
        Task {
            for await event in events {
                var bytes = Array("data: ".utf8)
                if case .string(let marker) = event {
                    bytes += Array(marker.utf8)
                } else {
                    JSONWriter.write(event, into: &bytes)
                }
                bytes += Array("\n\n".utf8)
                output.yield(bytes)
            }
            output.finish()
        }
        return .eventStream(chunks)
    }
}

/// Set once, from any task: whether a stream has opened.
private final class Flag: Sendable {
    private let state = Mutex(false)

    /// Sets it; whether this call was the one that did.
    func set() -> Bool { state.withLock { old in defer { old = true }; return !old } }
}
