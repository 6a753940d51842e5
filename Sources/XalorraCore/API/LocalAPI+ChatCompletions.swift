extension LocalAPI {
    /// The responder's one model, owned by `xalorra` for the built-in responder, else by the responder's name.
    public func chatModels() async throws(XalorraError) -> [ChatModel] {
        [ChatModel(id: responder.model, ownedBy: responder.name == "builtin" ? "xalorra" : responder.name)]
    }

    /// The request's `model` must be the responder's (404 `model_not_found` otherwise: a gateway that answered any
    /// name with its one model would hide a client's typo). The user and assistant messages are saved as a new
    /// conversation of the caller before the responder runs (so a request the AI fails on stays visible, as
    /// `sendMessage`'s message does), the reply after it.
    public func chatCompletion(
        _ request: ChatCompletionRequest, onDelta: @escaping @Sendable (ChatCompletionDelta) async -> Void
    ) async throws(XalorraError) -> ChatCompletion {
        _ = try ChatModel.named(request.model, in: try await chatModels())
        let transcript = request.messages.compactMap { message in
            message.sender.map { (sender: $0, content: message.content) }
        }
        let firstUser = request.messages.first { $0.role == .user }?.content ?? ""
        var title = ChatRules.title(fromFirstMessage: firstUser)
        if title.isEmpty { title = "Chat completion" }
        let store = try store().chats
        let owner = try await completionOwner()
        let now = Timestamp.now()
        let conversation = try await store.appendTranscript(owner: owner, title: title, messages: transcript, now: now)
        let id = ChatCompletion.id(conversation: conversation)
        let created = now.seconds
        let model = request.model
        let answer = try await responder.complete(request, api: self) { text in
            await onDelta(ChatCompletionDelta(
                id: id, created: created, model: model, conversationID: conversation, content: text))
        }
        _ = try await store.appendReply(owner: owner, conversationID: conversation, content: answer.text, now: .now())
        return ChatCompletion(
            id: id, created: created, model: model, content: answer.text, finishReason: answer.finishReason,
            usage: answer.usage, conversationID: conversation)
    }

    /// The caller as a conversation's owner (as `sendMessage` resolves it).
    private func completionOwner() async throws(XalorraError) -> ChatOwner {
        if callerResolved { return ChatOwner(name: caller.user, account: caller.account) }
        let account = try await localAccount()
        return ChatOwner(name: account?.username ?? caller.user, account: account?.id)
    }
}
