extension LocalAPI {
    /// Messages a responder sees: the newest of the conversation.
    static let chatContextMessages = 40

    private func chatStore() throws(XalorraError) -> any ChatRepository { try store().chats }

    public func sendMessage(
        _ message: String, conversation: String?, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> ChatReply {
        try ChatRules.message(message)
        let existing = try conversation.flatMap { text throws(XalorraError) in
            text.isEmpty ? nil : try ChatID.parseConversation(text)
        }
        let store = try chatStore()
        let owner = try await chatOwner()
        let saved = try await store.appendUserMessage(
            owner: owner, conversationID: existing, title: ChatRules.title(fromFirstMessage: message),
            content: message, now: .now())
        let history = try await store.recentMessages(saved.conversationID, owner: owner, limit: Self.chatContextMessages)
        let text = try await responder.reply(to: history, api: self, onDelta: onDelta)
        let reply = try await store.appendReply(
            owner: owner, conversationID: saved.conversationID, content: text, now: .now())
        return ChatReply(conversationID: saved.conversationID, userMessage: saved.message, aiMessage: reply)
    }

    public func conversations(_ query: ConversationQuery) async throws(XalorraError) -> Page<Conversation> {
        try await chatStore().list(owner: chatOwner(), query)
    }

    public func conversation(_ id: String, limit: Int, offset: Int) async throws(XalorraError) -> ConversationDetail {
        try XalorraError.check(Paging.problems(limit: limit, offset: offset, max: ChatRules.maxMessagesPage))
        return try await chatStore().detail(
            try ChatID.parseConversation(id), owner: chatOwner(), limit: limit, offset: offset)
    }

    public func renameConversation(_ id: String, title: String) async throws(XalorraError) -> ConversationTitle {
        let title = try ChatRules.title(title)
        return try await chatStore().rename(
            try ChatID.parseConversation(id), owner: chatOwner(), title: title, now: .now())
    }

    public func deleteConversation(_ id: String) async throws(XalorraError) {
        try await chatStore().delete(try ChatID.parseConversation(id), owner: chatOwner())
    }

    /// Whose conversations the caller's are: the account the server resolved with the token, or in local mode the
    /// operator's account of that name (see ``localAccount()``), else that name without an account.
    private func chatOwner() async throws(XalorraError) -> ChatOwner {
        if callerResolved { return ChatOwner(name: caller.user, account: caller.account) }
        let account = try await localAccount()
        return ChatOwner(name: account?.username ?? caller.user, account: account?.id)
    }
}
