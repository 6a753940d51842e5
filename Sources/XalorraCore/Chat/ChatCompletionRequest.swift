/// A `POST /v1/chat/completions` body, as the OpenAI API defines it and as far as xalorra relays it: the model, the
/// messages (text only), whether to stream, whether a streamed answer ends with a usage chunk, and the sampling
/// options an upstream server is given as sent. Fields it does not know are ignored; fields it cannot honour
/// (`n` above 1, `tools`, non-text content parts, the `tool` role) are refused with a 400 naming them.
public struct ChatCompletionRequest: Sendable, Equatable {
    /// Who wrote a message of the prompt.
    public enum Role: String, Sendable, CaseIterable {
        case system, developer, user, assistant
    }

    /// One message of the prompt, its content as text (text parts joined by a newline).
    public struct Message: Sendable, Equatable {
        /// Who wrote it.
        public let role: Role
        /// Its text.
        public let content: String

        public init(_ role: Role, _ content: String) {
            self.role = role
            self.content = content
        }

        /// Who it is in a stored conversation: system and developer messages are instructions, not turns, and are
        /// not stored.
        public var sender: Sender? {
            switch role {
            case .user: .user
            case .assistant: .ai
            case .system, .developer: nil
            }
        }
    }

    /// The requested model: one of `GET /v1/models`.
    public let model: String
    /// The prompt, oldest first.
    public let messages: [Message]
    /// Whether the answer streams as `chat.completion.chunk` events.
    public let stream: Bool
    /// `stream_options.include_usage`: a streamed answer ends with a chunk carrying `usage`.
    public let includeUsage: Bool
    /// The sampling options an upstream is given as sent (``relayedOptions``); the built-in responder ignores them.
    public let options: [(String, JSONValue)]

    public init(
        model: String, messages: [Message], stream: Bool = false, includeUsage: Bool = false,
        options: [(String, JSONValue)] = []
    ) {
        self.model = model
        self.messages = messages
        self.stream = stream
        self.includeUsage = includeUsage
        self.options = options
    }

    /// Equal members, the options compared as a JSON object (in order).
    public static func == (lhs: ChatCompletionRequest, rhs: ChatCompletionRequest) -> Bool {
        lhs.model == rhs.model && lhs.messages == rhs.messages && lhs.stream == rhs.stream
            && lhs.includeUsage == rhs.includeUsage && JSONValue.object(lhs.options) == JSONValue.object(rhs.options)
    }

    /// A message's text (each text part's): any length the body limit allows, without NUL (the store's text ends at
    /// it, so the message would be saved cut short).
    public static let contentRule = TextRule(characters: .text)

    /// Options passed to an upstream server unchanged: they shape its sampling, and mean nothing to xalorra.
    public static let relayedOptions: Set<String> = [
        "temperature", "top_p", "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty",
        "frequency_penalty",
    ]
}

extension ChatCompletionRequest {
    /// Reads a request body; every refusal is a 400 whose one detail names the member at fault (the OpenAI error's
    /// `param`), as the OpenAI API answers an invalid request.
    public init(json: JSONValue) throws(XalorraError) {
        guard case .object(let members) = json else {
            throw XalorraError(.badRequest, "The body must be a JSON object, got \(json.typeName)")
        }
        guard case .string(let model)? = json["model"], !model.isEmpty else {
            throw Self.refused("model", "you must provide a model name (a string; GET /v1/models lists them)")
        }
        guard case .array(let items)? = json["messages"], !items.isEmpty else {
            throw Self.refused("messages", "must be a non-empty array of messages")
        }
        var messages: [Message] = []
        for (index, item) in items.enumerated() {
            messages.append(try Self.message(item, at: "messages[\(index)]"))
        }
        guard messages.contains(where: { $0.role == .user }) else {
            throw Self.refused("messages", "must include at least one message with role 'user'")
        }
        var stream = false
        switch json["stream"] {
        case nil, .null?: break
        case .bool(let value)?: stream = value
        case let other?: throw Self.refused("stream", "must be a boolean, got \(other.typeName)")
        }
        var includeUsage = false
        switch json["stream_options"] {
        case nil, .null?: break
        case .object?:
            switch json["stream_options"]?["include_usage"] {
            case nil, .null?: break
            case .bool(let value)?: includeUsage = value
            case let other?:
                throw Self.refused("stream_options.include_usage", "must be a boolean, got \(other.typeName)")
            }
        case let other?: throw Self.refused("stream_options", "must be an object, got \(other.typeName)")
        }
        switch json["n"] {
        case nil, .null?: break
        case .number(let count)? where count.doubleValue == 1: break
        default: throw Self.refused("n", "only one choice is supported (n must be 1)")
        }
        if case .array(let tools)? = json["tools"], !tools.isEmpty {
            throw Self.refused("tools", "tool calls are not supported: xalorra relays text conversations")
        }
        self.init(
            model: model, messages: messages, stream: stream, includeUsage: includeUsage,
            options: members.filter { Self.relayedOptions.contains($0.0) && $0.1 != .null })
    }

    /// The body as an OpenAI client sends it.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("model", .string(model)),
            ("messages", .array(messages.map {
                .object([("role", .string($0.role.rawValue)), ("content", .string($0.content))])
            })),
        ]
        if stream { members.append(("stream", true)) }
        if includeUsage { members.append(("stream_options", .object([("include_usage", true)]))) }
        return .object(members + options)
    }

    private static func message(_ item: JSONValue, at path: String) throws(XalorraError) -> Message {
        guard case .object = item else { throw refused(path, "must be an object, got \(item.typeName)") }
        guard case .string(let name)? = item["role"] else { throw refused("\(path).role", "must be a string") }
        guard let role = Role(rawValue: name) else {
            let known = Role.allCases.map(\.rawValue).joined(separator: ", ")
            throw refused("\(path).role", "'\(name)' is not supported: the roles are \(known) (no tool calls)")
        }
        let content: String
        switch item["content"] {
        case .string(let text)?:
            content = text
        case .array(let parts)?:
            var texts: [String] = []
            for (index, part) in parts.enumerated() {
                let partPath = "\(path).content[\(index)]"
                guard case .string(let type)? = part["type"] else {
                    throw refused("\(partPath).type", "must be a string")
                }
                guard type == "text" else {
                    throw refused("\(partPath).type", "content parts of type '\(type)' are not supported: only 'text'")
                }
                guard case .string(let text)? = part["text"] else {
                    throw refused("\(partPath).text", "must be a string")
                }
                texts.append(text)
            }
            content = texts.joined(separator: "\n")
        default:
            throw refused(
                "\(path).content", "must be a string or an array of text parts (tool calls are not supported)")
        }
        guard contentRule.problem(content) == nil else {
            throw refused("\(path).content", "must not contain NUL characters")
        }
        return Message(role, content)
    }

    private static func refused(_ field: String, _ message: String) -> XalorraError {
        XalorraError(.badRequest, "\(field): \(message)", details: [.init(field: field, message: message)])
    }
}
