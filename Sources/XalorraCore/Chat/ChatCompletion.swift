/// The answer to a chat completion request, stored as a conversation of the caller: the OpenAI API's
/// `chat.completion` object, and the pieces of its `chat.completion.chunk` stream.
public struct ChatCompletion: Sendable, Equatable {
    /// `chatcmpl-conv_N`: the id names the stored conversation.
    public let id: String
    /// Seconds since the Unix epoch.
    public let created: Int64
    /// The model that answered.
    public let model: String
    /// The assistant's reply.
    public let content: String
    /// Why the reply ended: `stop`, or what the upstream said (`length`).
    public let finishReason: String
    /// What the answer cost, when the responder counts it (see ``ChatUsage``).
    public let usage: ChatUsage?
    /// The conversation it is stored as (`conv_N` in `/chat/histories`).
    public let conversationID: Int64

    public init(
        id: String, created: Int64, model: String, content: String, finishReason: String, usage: ChatUsage?,
        conversationID: Int64
    ) {
        self.id = id
        self.created = created
        self.model = model
        self.content = content
        self.finishReason = finishReason
        self.usage = usage
        self.conversationID = conversationID
    }

    /// The completion id of a stored conversation.
    public static func id(conversation: Int64) -> String { "chatcmpl-\(ChatID.conversation(conversation))" }
}

/// Tokens, as the responder counts them: an upstream's own `usage` when it sends one; the built-in responder's unit
/// is the whitespace-separated word (it writes a word at a time), so its counts are words. Absent when unknown.
public struct ChatUsage: Sendable, Equatable {
    /// What the prompt (every message of the request) counts.
    public let promptTokens: Int
    /// What the reply counts.
    public let completionTokens: Int

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    /// Both together.
    public var totalTokens: Int { promptTokens + completionTokens }

    /// The whitespace-separated words of `text`: the built-in responder's token.
    public static func words(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }
}

/// A piece of a streamed reply, with what every chunk of the stream repeats.
public struct ChatCompletionDelta: Sendable, Equatable {
    /// The completion's id (``ChatCompletion/id``).
    public let id: String
    /// When the completion began, in seconds since the Unix epoch.
    public let created: Int64
    /// The model answering.
    public let model: String
    /// The stored conversation.
    public let conversationID: Int64
    /// The text of this piece.
    public let content: String

    public init(id: String, created: Int64, model: String, conversationID: Int64, content: String) {
        self.id = id
        self.created = created
        self.model = model
        self.conversationID = conversationID
        self.content = content
    }
}

/// A model `GET /v1/models` lists: what a request's `model` may name.
public struct ChatModel: Sendable, Equatable {
    /// The name a request's `model` gives.
    public let id: String
    /// Who serves it: `xalorra` for the built-in responder, `openai` (the responder's name) for an upstream.
    public let ownedBy: String

    public init(id: String, ownedBy: String) {
        self.id = id
        self.ownedBy = ownedBy
    }
}

extension ChatUsage: JSONRepresentable, JSONDecodable {
    /// `{"prompt_tokens","completion_tokens","total_tokens"}`.
    public var json: JSONValue {
        .object([
            ("prompt_tokens", .int(promptTokens)), ("completion_tokens", .int(completionTokens)),
            ("total_tokens", .int(totalTokens)),
        ])
    }

    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            promptTokens: Int(try json.integer("prompt_tokens")),
            completionTokens: Int(try json.integer("completion_tokens")))
    }
}

extension ChatCompletion: JSONRepresentable, JSONDecodable {
    /// The `chat.completion` object, with the stored conversation's id as `conversation_id` (an extra member, which
    /// OpenAI clients keep and ignore); `usage` only when known.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(id)), ("object", "chat.completion"), ("created", .int(created)), ("model", .string(model)),
            ("choices", .array([.object([
                ("index", 0), ("message", .object([("role", "assistant"), ("content", .string(content))])),
                ("finish_reason", .string(finishReason)),
            ])])),
        ]
        if let usage { members.append(("usage", usage.json)) }
        members.append(("conversation_id", .string(ChatID.conversation(conversationID))))
        return .object(members)
    }

    public init(json: JSONValue) throws(XalorraError) {
        let choice = try json.list("choices").first ?? .null
        guard case .string(let content)? = choice["message"]?["content"] else {
            throw JSONValue.unexpectedResponse("'choices[0].message.content' is not a string")
        }
        self.init(
            id: try json.text("id"), created: try json.integer("created"), model: try json.text("model"),
            content: content, finishReason: choice["finish_reason"]?.stringValue ?? "stop",
            usage: try json["usage"].flatMap { usage throws(XalorraError) in
                usage == .null ? nil : try ChatUsage(json: usage)
            },
            conversationID: try json.chatID("conversation_id", prefix: "conv_"))
    }

    /// The `chat.completion.chunk` that carries `delta` (`{"role":"assistant","content":""}` opens a stream,
    /// `{}` with a finish reason closes it).
    public static func chunk(
        id: String, created: Int64, model: String, delta: [(String, JSONValue)], finishReason: String? = nil,
        extra: [(String, JSONValue)] = []
    ) -> JSONValue {
        .object([
            ("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
            ("model", .string(model)),
            ("choices", .array([.object([
                ("index", 0), ("delta", .object(delta)), ("finish_reason", .string(finishReason)),
            ])])),
        ] + extra)
    }

    /// The last chunk of a stream that asked for usage: no choices, and `usage` (null when unknown).
    public var usageChunk: JSONValue {
        .object([
            ("id", .string(id)), ("object", "chat.completion.chunk"), ("created", .int(created)),
            ("model", .string(model)), ("choices", .array([])), ("usage", usage?.json ?? .null),
        ])
    }
}

extension ChatModel {
    /// The model of `models` named `name`: 404 `model_not_found` (the error names `model`) for any other name.
    public static func named(_ name: String, in models: [ChatModel]) throws(XalorraError) -> ChatModel {
        if let model = models.first(where: { $0.id == name }) { return model }
        let known = models.map(\.id).joined(separator: ", ")
        // A name is quoted up to 100 characters, as every other refusal quotes what it was sent.
        let shown = name.count > 100 ? name.prefix(100) + "…" : Substring(name)
        throw XalorraError(
            .notFound, "The model '\(shown)' does not exist; this server answers with: \(known)",
            details: [.init(field: "model", message: "'\(shown)' is not one of: \(known)")])
    }
}

extension ChatModel: JSONRepresentable {
    /// `{"id","object":"model","created","owned_by"}`; `created` is 0: xalorra does not know when a model was made.
    public var json: JSONValue {
        .object([("id", .string(id)), ("object", "model"), ("created", 0), ("owned_by", .string(ownedBy))])
    }

    /// The `GET /v1/models` body: `{"object":"list","data":[…]}`.
    public static func list(_ models: [ChatModel]) -> JSONValue {
        .object([("object", "list"), ("data", .array(models.map(\.json)))])
    }
}

extension ChatModel: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(id: try json.text("id"), ownedBy: json["owned_by"]?.stringValue ?? "")
    }
}
