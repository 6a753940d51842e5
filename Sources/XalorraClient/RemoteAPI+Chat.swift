import XalorraCore

extension RemoteAPI {
    /// Always asks for the streamed answer, so that the reply's text arrives as the server produces it.
    public func sendMessage(
        _ message: String, conversation: String?, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> ChatReply {
        var members: [(String, JSONValue)] = [("message", .string(message)), ("stream", true)]
        if let conversation { members.append(("conversation_id", .string(conversation))) }
        let events = eventStream(makeRequest(.sendMessage, query: [], body: .object(members)))
        do {
            for try await event in events {
                if case .string(let delta)? = event["delta"] {
                    await onDelta(delta)
                } else if event["done"] == .bool(true) {
                    return try ChatReply(json: event)
                } else if let error = event["error"] {
                    throw XalorraError(envelope: .object([("error", error)]), status: 0)
                }
            }
        } catch let error as XalorraError {
            throw error
        } catch {
            throw XalorraError(.internal, "the reply from \(baseURL) broke off: \(error)")
        }
        throw XalorraError(.internal, "the reply from \(baseURL) ended before its last event")
    }

    public func conversations(_ query: ConversationQuery) async throws(XalorraError) -> Page<Conversation> {
        var parameters = [
            ("limit", "\(query.limit)"), ("offset", "\(query.offset)"), ("sort", query.sort.rawValue),
            ("order", query.order.rawValue),
        ]
        if let search = query.search { parameters.append(("search", search)) }
        return try Page(json: await send(.conversations, query: parameters))
    }

    public func conversation(_ id: String, limit: Int, offset: Int) async throws(XalorraError) -> ConversationDetail {
        let json = try await send(.conversation, id, query: [("limit", "\(limit)"), ("offset", "\(offset)")])
        return try ConversationDetail(json: json.member("data"))
    }

    public func renameConversation(_ id: String, title: String) async throws(XalorraError) -> ConversationTitle {
        let json = try await send(.renameConversation, id, body: .object([("title", .string(title))]))
        return try ConversationTitle(json: json.member("data"))
    }

    public func deleteConversation(_ id: String) async throws(XalorraError) {
        _ = try await send(.deleteConversation, id)
    }
}
