/// Conversations and their messages. Every method takes the caller's identity (``ChatOwner``) and refuses another
/// owner's conversation with 403, an unknown one with 404. SQLite: ``SQLiteChatRepository``.
package protocol ChatRepository: Sendable {
    /// Saves the user's message, into `conversationID` or a new conversation titled `title`, in one transaction.
    func appendUserMessage(
        owner: ChatOwner, conversationID: Int64?, title: String, content: String, now: Timestamp
    ) async throws(XalorraError) -> (conversationID: Int64, message: ChatMessage)
    /// Saves the AI's reply; 404 when the conversation went away meanwhile.
    func appendReply(owner: ChatOwner, conversationID: Int64, content: String, now: Timestamp) async throws(XalorraError) -> ChatMessage
    /// The newest `limit` messages of one of the owner's conversations, oldest first.
    func recentMessages(_ conversationID: Int64, owner: ChatOwner, limit: Int) async throws(XalorraError) -> [ChatMessage]
    /// A page of the owner's conversations with their message counts and last messages.
    func list(owner: ChatOwner, _ query: ConversationQuery) async throws(XalorraError) -> Page<Conversation>
    /// One of the owner's conversations with a page of its messages, oldest first.
    func detail(_ id: Int64, owner: ChatOwner, limit: Int, offset: Int) async throws(XalorraError) -> ConversationDetail
    /// Renames one of the owner's conversations.
    func rename(_ id: Int64, owner: ChatOwner, title: String, now: Timestamp) async throws(XalorraError) -> ConversationTitle
    /// Deletes one of the owner's conversations and its messages.
    func delete(_ id: Int64, owner: ChatOwner) async throws(XalorraError)
    /// Saves a whole transcript as a new conversation of `owner` titled `title`, in one transaction.
    func appendTranscript(
        owner: ChatOwner, title: String, messages: [(sender: Sender, content: String)], now: Timestamp
    ) async throws(XalorraError) -> Int64
}
