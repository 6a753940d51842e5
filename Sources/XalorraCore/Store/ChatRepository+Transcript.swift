import GRDB

extension SQLiteChatRepository {
    /// Saves a whole transcript (a chat completion's user and assistant messages, in order) as a new conversation of
    /// `owner` titled `title`, in one transaction.
    func appendTranscript(
        owner: ChatOwner, title: String, messages: [(sender: Sender, content: String)], now: Timestamp
    ) async throws(XalorraError) -> Int64 {
        try await database.writing { db in
            let id = try Self.createConversation(db, owner: owner, title: title, now: now)
            for message in messages {
                _ = try Self.insert(db, conversation: id, sender: message.sender, content: message.content, now: now)
            }
            return id
        }
    }
}
