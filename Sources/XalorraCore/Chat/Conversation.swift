/// Who wrote a message.
public enum Sender: String, Sendable, Equatable {
    case user
    case ai
}

/// One message of a conversation (`msg_…`).
public struct ChatMessage: Sendable, Equatable {
    public let id: Int64
    public let sender: Sender
    public let content: String
    public let timestamp: Timestamp

    public init(id: Int64, sender: Sender, content: String, timestamp: Timestamp) {
        self.id = id
        self.sender = sender
        self.content = content
        self.timestamp = timestamp
    }

    /// `msg_42`.
    public var publicID: String { ChatID.message(id) }
}

extension ChatMessage: JSONRepresentable {
    /// `{"id","content","sender","timestamp"}`, as the Aksara API lists a conversation's messages.
    public var json: JSONValue {
        .object([
            ("id", .string(publicID)), ("content", .string(content)), ("sender", .string(sender.rawValue)),
            ("timestamp", .string(timestamp.iso8601)),
        ])
    }
}

extension ChatMessage: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            id: try json.chatID("id", prefix: "msg_"), sender: try json.sender("sender"), content: try json.text("content"),
            timestamp: try json.time("timestamp"))
    }
}

/// A conversation as `GET /chat/histories` lists it.
public struct Conversation: Sendable, Equatable {
    public let id: Int64
    public let title: String
    public let createdAt: Timestamp
    public let updatedAt: Timestamp
    public let messageCount: Int
    public let lastMessage: MessagePreview?

    /// The newest message as a list shows it: no id.
    public struct MessagePreview: Sendable, Equatable {
        public let sender: Sender
        public let content: String
        public let timestamp: Timestamp

        public init(sender: Sender, content: String, timestamp: Timestamp) {
            self.sender = sender
            self.content = content
            self.timestamp = timestamp
        }
    }

    public init(
        id: Int64, title: String, createdAt: Timestamp, updatedAt: Timestamp, messageCount: Int,
        lastMessage: MessagePreview?
    ) {
        self.id = id
        self.title = title
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.messageCount = messageCount
        self.lastMessage = lastMessage
    }

    /// `conv_7`.
    public var publicID: String { ChatID.conversation(id) }
}

extension Conversation: JSONRepresentable {
    /// `{"id","title","created_at","updated_at","message_count","last_message": {content, sender, timestamp}|null}`.
    public var json: JSONValue {
        .object([
            ("id", .string(publicID)), ("title", .string(title)), ("created_at", .string(createdAt.iso8601)),
            ("updated_at", .string(updatedAt.iso8601)), ("message_count", .int(messageCount)),
            ("last_message", lastMessage.map { message in
                .object([
                    ("content", .string(message.content)), ("sender", .string(message.sender.rawValue)),
                    ("timestamp", .string(message.timestamp.iso8601)),
                ])
            } ?? .null),
        ])
    }
}

extension Conversation: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        var last: MessagePreview?
        if let preview = json["last_message"], preview != .null {
            last = MessagePreview(
                sender: try preview.sender("sender"), content: try preview.text("content"),
                timestamp: try preview.time("timestamp"))
        }
        self.init(
            id: try json.chatID("id", prefix: "conv_"), title: try json.text("title"), createdAt: try json.time("created_at"),
            updatedAt: try json.time("updated_at"), messageCount: Int(try json.integer("message_count")), lastMessage: last)
    }
}

/// One conversation with a page of its messages, oldest first (`GET /chat/histories/{conversation_id}`).
public struct ConversationDetail: Sendable, Equatable {
    public let conversation: Conversation
    public let messages: [ChatMessage]

    public init(conversation: Conversation, messages: [ChatMessage]) {
        self.conversation = conversation
        self.messages = messages
    }
}

extension ConversationDetail: JSONRepresentable {
    /// `{"id","title","created_at","updated_at","messages":[…],"message_count"}`; the count is the total.
    public var json: JSONValue {
        .object([
            ("id", .string(conversation.publicID)), ("title", .string(conversation.title)),
            ("created_at", .string(conversation.createdAt.iso8601)),
            ("updated_at", .string(conversation.updatedAt.iso8601)), ("messages", .array(messages.map(\.json))),
            ("message_count", .int(conversation.messageCount)),
        ])
    }
}

extension ConversationDetail: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let messages = try json.list("messages").map { item throws(XalorraError) in try ChatMessage(json: item) }
        self.init(
            conversation: Conversation(
                id: try json.chatID("id", prefix: "conv_"), title: try json.text("title"),
                createdAt: try json.time("created_at"), updatedAt: try json.time("updated_at"),
                messageCount: Int(try json.integer("message_count")), lastMessage: nil),
            messages: messages)
    }
}

/// What `POST /chat/message` answers.
public struct ChatReply: Sendable, Equatable {
    public let conversationID: Int64
    public let userMessage: ChatMessage
    public let aiMessage: ChatMessage

    public init(conversationID: Int64, userMessage: ChatMessage, aiMessage: ChatMessage) {
        self.conversationID = conversationID
        self.userMessage = userMessage
        self.aiMessage = aiMessage
    }
}

extension ChatReply: JSONRepresentable {
    /// `{"response","conversation_id","message_id","user_message":{id,content,timestamp},"ai_message":{…}}`.
    public var json: JSONValue {
        func short(_ message: ChatMessage) -> JSONValue {
            .object([
                ("id", .string(message.publicID)), ("content", .string(message.content)),
                ("timestamp", .string(message.timestamp.iso8601)),
            ])
        }
        return .object([
            ("response", .string(aiMessage.content)), ("conversation_id", .string(ChatID.conversation(conversationID))),
            ("message_id", .string(aiMessage.publicID)), ("user_message", short(userMessage)),
            ("ai_message", short(aiMessage)),
        ])
    }
}

extension ChatReply: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        func message(_ key: String, _ sender: Sender) throws(XalorraError) -> ChatMessage {
            let item = try json.member(key)
            return ChatMessage(
                id: try item.chatID("id", prefix: "msg_"), sender: sender, content: try item.text("content"),
                timestamp: try item.time("timestamp"))
        }
        self.init(
            conversationID: try json.chatID("conversation_id", prefix: "conv_"), userMessage: try message("user_message", .user),
            aiMessage: try message("ai_message", .ai))
    }
}

/// A conversation's new title (`PUT /chat/histories/{conversation_id}/title`).
public struct ConversationTitle: Sendable, Equatable {
    public let id: Int64
    public let title: String
    public let updatedAt: Timestamp

    public init(id: Int64, title: String, updatedAt: Timestamp) {
        self.id = id
        self.title = title
        self.updatedAt = updatedAt
    }
}

extension ConversationTitle: JSONRepresentable {
    public var json: JSONValue {
        .object([
            ("id", .string(ChatID.conversation(id))), ("title", .string(title)), ("updated_at", .string(updatedAt.iso8601)),
        ])
    }
}

extension ConversationTitle: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(id: try json.chatID("id", prefix: "conv_"), title: try json.text("title"), updatedAt: try json.time("updated_at"))
    }
}

/// The public ids `conv_N` and `msg_N`, and the rule that an id that is not one of ours is simply not found.
public enum ChatID {
    public static func conversation(_ id: Int64) -> String { "conv_\(id)" }
    public static func message(_ id: Int64) -> String { "msg_\(id)" }

    /// The row id of `conv_N`; anything else is 404 `Conversation not found`.
    public static func parseConversation(_ text: String) throws(XalorraError) -> Int64 {
        guard text.hasPrefix("conv_"), let id = Int64(text.dropFirst(5)), id > 0, text.count <= 23 else {
            throw notFound
        }
        return id
    }

    static let notFound = XalorraError(.notFound, "Conversation not found")
}

/// The success messages of the chat operations, shared by the server and the CLI's `--json`.
public enum ChatMessageText {
    public static let sent = "Message sent successfully"
    public static let retrieved = "Conversation retrieved successfully"
    public static let renamed = "Conversation title updated successfully"
}

/// `GET /chat/histories` filters: out-of-range values are refused, not clamped.
public struct ConversationQuery: Sendable, Equatable {
    public enum Sort: String, Sendable, CaseIterable { case createdAt = "created_at", updatedAt = "updated_at" }
    public enum Order: String, Sendable, CaseIterable { case asc, desc }

    public static let maxLimit = 100
    public var search: String?
    public var sort: Sort
    public var order: Order
    public var limit: Int
    public var offset: Int

    public init(
        search: String? = nil, sort: Sort = .createdAt, order: Order = .desc, limit: Int = Paging.defaultLimit, offset: Int = 0
    ) throws(XalorraError) {
        try XalorraError.check(
            Paging.problems(limit: limit, offset: offset, max: Self.maxLimit)
                + [("search", Self.searchRule.problem(search ?? "") == nil
                    ? nil : "Search must be at most \(Self.searchRule.maxLength ?? 0) characters")])
        self.search = search.flatMap { $0.isEmpty ? nil : $0 }
        self.sort = sort
        self.order = order
        self.limit = limit
        self.offset = offset
    }
}

/// The limits of chat input, with the Aksara API's messages: the rules are the one place their numbers live, and the
/// OpenAPI document publishes them.
public enum ChatRules {
    /// A message: 1-4000 characters, not only whitespace, without NUL (the store's text columns end at it, so the
    /// message would be cut silently).
    public static let messageRule = TextRule(length: 1...4000, characters: .text, nonBlank: true)
    /// A title: 1-200 characters once surrounding spaces and tabs are trimmed, without NUL (see ``messageRule``).
    public static let titleRule = TextRule(length: 1...200, characters: .text, trims: true)
    /// Characters (Unicode scalars, as JSON Schema counts them) a message may have.
    public static var maxMessage: Int { messageRule.maxLength ?? 0 }
    /// Characters a title may have.
    public static var maxTitle: Int { titleRule.maxLength ?? 0 }
    /// Messages of one conversation per page, at most.
    public static let maxMessagesPage = 500
    /// Messages of one conversation per page when the caller names no limit.
    public static let defaultMessagesPage = 50

    /// A message must follow ``messageRule``; an empty or blank one is the Aksara API's 400 `Message cannot be empty`.
    public static func message(_ text: String) throws(XalorraError) {
        switch messageRule.problem(text) {
        case nil: return
        case .length where !text.isEmpty:
            throw XalorraError.invalidFields(
                [.init(field: "message", message: "Message must be at most \(maxMessage) characters")])
        case .character:
            throw XalorraError.invalidFields([.init(field: "message", message: "Message must not contain NUL characters")])
        default: throw XalorraError(.badRequest, "Message cannot be empty")
        }
    }

    /// A title, trimmed, must follow ``titleRule``.
    public static func title(_ text: String) throws(XalorraError) -> String {
        let trimmed = titleRule.normalized(text)
        switch titleRule.problem(trimmed) {
        case nil: return trimmed
        case .character:
            throw XalorraError.invalidFields([.init(field: "title", message: "Title must not contain NUL characters")])
        default:
            throw XalorraError.invalidFields(
                [.init(field: "title", message: "Title must be \(titleRule.minLength)-\(maxTitle) characters")])
        }
    }

    /// The title of a new conversation: its first message on one line, cut to 50 characters (Unicode scalars, as
    /// ``titleRule`` and the store count them) at a whole character, so that any message makes a title the rule
    /// takes (a message of family emoji, 7 scalars each, once made a title the store refused).
    public static func title(fromFirstMessage text: String) -> String {
        let words = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        guard words.unicodeScalars.count > 50 else { return words }
        var cut = ""
        var length = 0
        for character in words {
            length += character.unicodeScalars.count
            if length > 47 { break }
            cut.append(character)
        }
        return String(Substring(cut).trimmingWhitespace()) + "..."
    }
}

extension JSONValue {
    /// The row id of a `conv_N` / `msg_N` in `key`.
    func chatID(_ key: String, prefix: String) throws(XalorraError) -> Int64 {
        let text = try self.text(key)
        guard text.hasPrefix(prefix), let id = Int64(text.dropFirst(prefix.count)) else {
            throw JSONValue.unexpectedResponse("\(key) '\(text)'")
        }
        return id
    }

    func sender(_ key: String) throws(XalorraError) -> Sender {
        let text = try self.text(key)
        guard let sender = Sender(rawValue: text) else { throw JSONValue.unexpectedResponse("\(key) '\(text)'") }
        return sender
    }
}
