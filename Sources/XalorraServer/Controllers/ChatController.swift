import XalorraCore

/// The Aksara API's `/chat/*`: send (whole or streamed), list, read, rename, delete.
enum ChatController {
    /// `POST /chat/message`.
    static let sendMessage: RouteHandler = send

    /// `GET /chat/histories`.
    static let conversations: RouteHandler = { input in
        let query = try ConversationQuery(
            search: input.query["search"], sort: try input.query.choice("sort", default: .createdAt),
            order: try input.query.choice("order", default: .desc),
            limit: try input.query.integer("limit", default: Paging.defaultLimit),
            offset: try input.query.integer("offset", default: 0))
        return .json(try await input.api.conversations(query).json)
    }

    /// `GET /chat/histories/{conversation_id}`.
    static let conversation: RouteHandler = { input in
        let detail = try await input.api.conversation(
            input.parameter("conversation_id"),
            limit: try input.query.integer("limit", default: ChatRules.defaultMessagesPage),
            offset: try input.query.integer("offset", default: 0))
        return .json(Envelope.success(detail.json, message: ChatMessageText.retrieved))
    }

    /// `PUT /chat/histories/{conversation_id}/title`.
    static let renameConversation: RouteHandler = { input in
        var fields = try BodyFields(input)
        let title = fields.string("title", required: true)
        try fields.validate { () throws(XalorraError) in () }
        let renamed = try await input.api.renameConversation(input.parameter("conversation_id"), title: title ?? "")
        return .json(Envelope.success(renamed.json, message: ChatMessageText.renamed))
    }

    /// `DELETE /chat/histories/{conversation_id}`.
    static let deleteConversation: RouteHandler = { input in
        try await input.api.deleteConversation(input.parameter("conversation_id"))
        return .noContent
    }

    /// `{"message", "conversation_id"?, "stream"?}`. Streamed, the answer is Server-Sent Events: `{"delta": …}`
    /// per piece of the reply, then `{"done": true, …the reply's body}`; a failure before the first piece is the
    /// usual error response (503 when the AI is unavailable), a failure after it an `{"error": …}` event.
    static func send(_ input: HTTPInput) async throws(XalorraError) -> HTTPOutput {
        var fields = try BodyFields(input)
        // A blank message is the API's own 400 `Message cannot be empty`, not a missing field.
        let message = fields.string("message", required: true, allowBlank: true)
        let conversation = fields.string("conversation_id")
        let stream = fields.bool("stream") ?? false
        try fields.validate { () throws(XalorraError) in () }
        let api = input.api
        guard stream else {
            let reply = try await api.sendMessage(message ?? "", conversation: conversation, onDelta: { _ in })
            return .json(Envelope.success(reply.json, message: ChatMessageText.sent))
        }
        return try await ReplyStream.events(failureEvent: { .object([("error", $0.json)]) }) { emit in
            let reply = try await api.sendMessage(message ?? "", conversation: conversation) { delta in
                emit(.object([("delta", .string(delta))]))
            }
            guard case .object(let members) = reply.json else { return }
            emit(.object([("done", true)] + members))
        }
    }
}
