import XalorraML

/// Writes the AI's side of a conversation. The built-in one answers offline; ``ChatResponder`` implementations
/// for real models live where their HTTP client does (XalorraClient's `OpenAIResponder`).
public protocol ChatResponder: Sendable {
    /// `builtin`, `openai`: shown by `/health/detailed`.
    var name: String { get }

    /// The reply to the last message of `history` (oldest first), handing each piece of text to `onDelta` as it is
    /// produced; throws 503 `AI_SERVICE_UNAVAILABLE` when the backend cannot answer.
    /// - Parameter api: the API acting for the conversation's user, for responders that run operations.
    func reply(
        to history: [ChatMessage], api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> String

    /// Whether the backend answers, and how fast.
    func health() async -> ResponderHealth

    /// The model a `/v1/chat/completions` request names to be answered by this responder (`GET /v1/models`).
    var model: String { get }

    /// The reply to a whole OpenAI-style prompt (system and developer messages included, in their places), handing
    /// each piece of text to `onDelta`; with the usage when the backend counts it. By default the user and
    /// assistant messages are ``reply(to:api:onDelta:)``'s history and the usage is unknown.
    func complete(
        _ request: ChatCompletionRequest, api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> ChatAnswer
}

/// What a responder answered to a whole prompt.
public struct ChatAnswer: Sendable, Equatable {
    /// The reply.
    public let text: String
    /// Why it ended (OpenAI's `finish_reason`): `stop`, or `length` when an upstream hit its token limit.
    public let finishReason: String
    /// The backend's count, when it has one.
    public let usage: ChatUsage?

    public init(text: String, finishReason: String = "stop", usage: ChatUsage? = nil) {
        self.text = text
        self.finishReason = finishReason
        self.usage = usage
    }
}

extension ChatResponder {
    /// `xalorra-<name>`.
    public var model: String { "xalorra-\(name)" }

    public func complete(
        _ request: ChatCompletionRequest, api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> ChatAnswer {
        ChatAnswer(text: try await reply(to: Self.history(request), api: api, onDelta: onDelta))
    }

    /// The user and assistant messages of a prompt as a conversation's history (unsaved: id 0).
    public static func history(_ request: ChatCompletionRequest) -> [ChatMessage] {
        let now = Timestamp.now()
        return request.messages.compactMap { message in
            message.sender.map { ChatMessage(id: 0, sender: $0, content: message.content, timestamp: now) }
        }
    }
}

/// A responder's status for `/health/detailed`.
public struct ResponderHealth: Sendable, Equatable {
    public let available: Bool
    public let milliseconds: Double
    public let detail: String?

    public init(available: Bool, milliseconds: Double, detail: String? = nil) {
        self.available = available
        self.milliseconds = milliseconds
        self.detail = detail
    }
}

/// The offline, deterministic responder. It is not a language model and says so: it runs a few toolkit requests
/// (`predict MODEL 1 2 3`, `models`, `help`) with the user's identity, and otherwise answers from the conversation.
public struct BuiltinResponder: ChatResponder {
    public let name = "builtin"

    public init() {}

    public static let helpText = """
        I am xalorra's built-in responder, not a language model: I answer the same way every time and work offline. \
        I understand: `predict MODEL 1 2 3` (runs a prediction as you, and logs it), `models` (what can predict), \
        `help` (this). Anything else I answer from this conversation. Set XALORRA_CHAT_URL to an OpenAI-compatible \
        server (Ollama, llama.cpp, vLLM) for real replies.
        """

    public func reply(
        to history: [ChatMessage], api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> String {
        let text = try await answer(history, api: api)
        // Stream it a word at a time, as a model would.
        var start = text.startIndex
        while start < text.endIndex {
            var end = text[start...].firstIndex(of: " ").map { text.index(after: $0) } ?? text.endIndex
            if end == start { end = text.index(after: start) }
            await onDelta(String(text[start..<end]))
            start = end
        }
        return text
    }

    public func health() async -> ResponderHealth { ResponderHealth(available: true, milliseconds: 0) }

    /// System and developer messages mean nothing to it (it is no language model); its usage counts words, the unit
    /// it writes in: the prompt's (every message's) and the reply's.
    public func complete(
        _ request: ChatCompletionRequest, api: LocalAPI, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> ChatAnswer {
        let text = try await reply(to: Self.history(request), api: api, onDelta: onDelta)
        let prompt = request.messages.reduce(0) { $0 + ChatUsage.words($1.content) }
        return ChatAnswer(text: text, usage: ChatUsage(promptTokens: prompt, completionTokens: ChatUsage.words(text)))
    }

    private func answer(_ history: [ChatMessage], api: LocalAPI) async throws(XalorraError) -> String {
        let question = history.last?.content ?? ""
        let words = question.split(whereSeparator: \.isWhitespace).map(String.init)
        switch words.first?.lowercased() {
        case "help"?, "/help"?:
            return Self.helpText
        case "models"? where api.caller.key?.refusal(scope: .modelsRead) != nil:
            return "This API key may not read models (it lacks the models:read scope)."
        case "models"?:
            return "Every model name answers with the built-in baseline (the sum of the features) until a trained "
                + "version exists; try `predict xgb-v2 1 2 3`."
        case "predict"? where words.count >= 2:
            var features: [Number] = []
            for word in words.dropFirst(2) {
                guard let number = Number(text: word) else {
                    return "`\(word)` is not a number. Usage: predict MODEL 1 2 3"
                }
                features.append(number)
            }
            // A key acts within its scopes and models here too: the chat routes need only `chat`.
            if let key = api.caller.key, let refusal = key.refusal(scope: .predict) ?? key.refusal(model: words[1]) {
                return "That prediction failed: \(refusal.message)"
            }
            let prediction: Prediction
            do {
                prediction = try await api.predict(model: words[1], features: features)
            } catch {
                return "That prediction failed: \(error.message)"
            }
            return "\(prediction.model) predicts \(prediction.prediction) for \(Self.quoted("\(prediction.input)")) "
                + "(version \(prediction.version); logged for \(api.caller.user) in tenant \(api.caller.tenant))."
        default:
            let earlier = history.dropLast().filter { $0.sender == .user }
            guard let first = earlier.first else {
                return "You said: \"\(Self.quoted(question))\". I am the built-in responder, not a language model; "
                    + "say `help` to see what I can do."
            }
            return "You said: \"\(Self.quoted(question))\". This conversation has \(earlier.count + 1) messages from "
                + "you; the first was \"\(Self.quoted(first.content))\". Say `help` to see what I can do."
        }
    }

    /// `text` as the replies quote it: its first 200 characters, then `…`. A reply streams a word at a time, and a
    /// long message echoed whole would make a reply many times its size in events.
    static func quoted(_ text: String) -> String {
        text.count > 200 ? text.prefix(200) + "…" : text
    }
}
