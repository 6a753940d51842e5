import GRDB

extension ChatRepository {
    /// Saves a whole transcript (a chat completion's user and assistant messages, in order) as a new conversation of
    /// `owner` titled `title`, in one transaction.
    func appendTranscript(
        owner: ChatOwner, title: String, messages: [(sender: Sender, content: String)], now: Timestamp
    ) async throws(XalorraError) -> Int64 {
        try await database.writing { db in
            if let account = owner.account,
                try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [account]) == nil
            {
                // Deleted since the request was authenticated: nothing may be written in its name any more.
                throw XalorraError(.authenticationFailed, "This account was deleted")
            }
            try db.execute(
                sql: """
                    INSERT INTO conversations (owner, account_id, title, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [owner.name, owner.account, title, now.microseconds, now.microseconds])
            let id = db.lastInsertedRowID
            let insert = try db.makeStatement(
                sql: "INSERT INTO messages (conversation_id, sender, content, created_at) VALUES (?, ?, ?, ?)")
            for message in messages {
                try insert.execute(arguments: [id, message.sender.rawValue, message.content, now.microseconds])
            }
            return id
        }
    }
}
