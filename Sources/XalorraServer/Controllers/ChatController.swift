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
        let (events, sink) = AsyncStream.makeStream(of: JSONValue.self, bufferingPolicy: .unbounded)
        let (failures, failureSink) = AsyncStream.makeStream(of: XalorraError?.self, bufferingPolicy: .unbounded)
        Task {
            do {
                let reply = try await api.sendMessage(message ?? "", conversation: conversation) { delta in
                    // The first piece tells the handler to answer 200; later ones find the sink finished.
                    failureSink.yield(nil)
                    failureSink.finish()
                    sink.yield(.object([("delta", .string(delta))]))
                }
                failureSink.yield(nil)
                guard case .object(let members) = reply.json else { return }
                sink.yield(.object([("done", true)] + members))
            } catch {
                let failure = error as? XalorraError ?? XalorraError(.internal, "\(error)")
                failureSink.yield(failure)
                let shown = failure.code == .internal ? XalorraError(.internal, "Internal server error") : failure
                sink.yield(.object([("error", shown.json)]))
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
                JSONWriter.write(event, into: &bytes)
                bytes += Array("\n\n".utf8)
                output.yield(bytes)
            }
            output.finish()
        }
        return .eventStream(chunks)
    }
}
