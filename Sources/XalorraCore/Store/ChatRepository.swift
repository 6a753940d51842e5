import GRDB

/// Conversations and their messages. Every method takes the caller's identity (``ChatOwner``: name and account) and
/// refuses another owner's conversation with 403, an unknown one with 404.
struct SQLiteChatRepository: ChatRepository {
    let database: AppDatabase

    private static let accessDenied = XalorraError(.insufficientPermissions, "Access denied to this conversation")

    /// Saves the user's message, into `conversationID` or a new conversation titled `title`, in one transaction.
    func appendUserMessage(
        owner: ChatOwner, conversationID: Int64?, title: String, content: String, now: Timestamp
    ) async throws(XalorraError) -> (conversationID: Int64, message: ChatMessage) {
        try await database.writing { db in
            let id: Int64
            if let conversationID {
                try Self.checkOwner(db, conversationID, owner)
                id = conversationID
            } else {
                id = try Self.createConversation(db, owner: owner, title: title, now: now)
            }
            return (id, try Self.insert(db, conversation: id, sender: .user, content: content, now: now))
        }
    }

    /// A new, empty conversation of `owner`; 401 when the owner's account was deleted since the request was
    /// authenticated (nothing may be written in its name any more).
    static func createConversation(_ db: Database, owner: ChatOwner, title: String, now: Timestamp) throws -> Int64 {
        if let account = owner.account,
            try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [account]) == nil
        {
            throw XalorraError(.authenticationFailed, "This account was deleted")
        }
        try db.execute(
            sql: """
                INSERT INTO conversations (owner, account_id, title, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [owner.name, owner.account, title, now.microseconds, now.microseconds])
        return db.lastInsertedRowID
    }

    /// Saves the AI's reply; 404 when the conversation went away while the AI was answering (deleted, or its
    /// owner's account deleted).
    func appendReply(
        owner: ChatOwner, conversationID: Int64, content: String, now: Timestamp
    ) async throws(XalorraError) -> ChatMessage {
        try await database.writing { db in
            try Self.checkOwner(db, conversationID, owner)
            return try Self.insert(db, conversation: conversationID, sender: .ai, content: content, now: now)
        }
    }

    /// The newest `limit` messages of one of the owner's conversations, oldest first: what a responder sees.
    func recentMessages(_ conversationID: Int64, owner: ChatOwner, limit: Int) async throws(XalorraError) -> [ChatMessage] {
        try await database.reading { db in
            try Self.checkOwner(db, conversationID, owner)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT id, sender, content, created_at FROM messages WHERE conversation_id = ?
                    ORDER BY id DESC LIMIT ?) ORDER BY id
                    """,
                arguments: [conversationID, limit]
            ).map(Self.message)
        }
    }

    /// A page of the owner's conversations with their message counts and last messages, in one query.
    func list(owner: ChatOwner, _ query: ConversationQuery) async throws(XalorraError) -> Page<Conversation> {
        try await database.reading { db in
            var filter = Self.ownedBy
            var arguments: StatementArguments = [owner.name, owner.account]
            if let search = query.search {
                filter += " AND title LIKE ? ESCAPE '\\'"
                arguments += [ StoreRules.likePattern(containing: search) ]
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM conversations WHERE \(filter)", arguments: arguments) ?? 0
            let direction = query.order == .asc ? "ASC" : "DESC"
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.id, c.title, c.created_at, c.updated_at,
                        (SELECT count(*) FROM messages WHERE conversation_id = c.id) AS message_count,
                        m.id AS m_id, m.sender AS m_sender, m.content AS m_content, m.created_at AS m_created
                    FROM (SELECT * FROM conversations WHERE \(filter)
                        ORDER BY \(query.sort.rawValue) \(direction), id \(direction) LIMIT ? OFFSET ?) AS c
                    LEFT JOIN messages m
                        ON m.id = (SELECT max(id) FROM messages WHERE conversation_id = c.id)
                    ORDER BY c.\(query.sort.rawValue) \(direction), c.id \(direction)
                    """,
                arguments: arguments + [query.limit, query.offset])
            return Page(items: rows.map(Self.conversation), total: total, limit: query.limit, offset: query.offset)
        }
    }

    /// One of the owner's conversations with a page of its messages, oldest first.
    func detail(
        _ id: Int64, owner: ChatOwner, limit: Int, offset: Int
    ) async throws(XalorraError) -> ConversationDetail {
        try await database.reading { db in
            try Self.checkOwner(db, id, owner)
            guard let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT c.id, c.title, c.created_at, c.updated_at,
                        (SELECT count(*) FROM messages WHERE conversation_id = c.id) AS message_count,
                        NULL AS m_id, NULL AS m_sender, NULL AS m_content, NULL AS m_created
                    FROM conversations c WHERE c.id = ?
                    """,
                arguments: [id])
            else { throw ChatID.notFound }
            let messages = try Row.fetchAll(
                db,
                sql: "SELECT id, sender, content, created_at FROM messages WHERE conversation_id = ? ORDER BY id LIMIT ? OFFSET ?",
                arguments: [id, limit, offset]
            ).map(Self.message)
            return ConversationDetail(conversation: Self.conversation(row), messages: messages)
        }
    }

    /// Renames one of the owner's conversations.
    func rename(_ id: Int64, owner: ChatOwner, title: String, now: Timestamp) async throws(XalorraError) -> ConversationTitle {
        try await database.writing { db in
            try Self.checkOwner(db, id, owner)
            try db.execute(
                sql: "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ?",
                arguments: [title, now.microseconds, id])
            return ConversationTitle(id: id, title: title, updatedAt: now)
        }
    }

    /// Deletes one of the owner's conversations and, by cascade, its messages.
    func delete(_ id: Int64, owner: ChatOwner) async throws(XalorraError) {
        try await database.writing { db in
            try Self.checkOwner(db, id, owner)
            try db.execute(sql: "DELETE FROM conversations WHERE id = ?", arguments: [id])
        }
    }

    // MARK: Helpers

    /// The condition on a `conversations` row that it is the owner's (arguments: the name, then the account). The
    /// name compares without case, as usernames do; `IS` matches a missing account with a missing account only.
    private static let ownedBy = "owner = ? COLLATE NOCASE AND account_id IS ?"

    private static func checkOwner(_ db: Database, _ id: Int64, _ owner: ChatOwner) throws {
        guard let mine = try Bool.fetchOne(
            db, sql: "SELECT \(ownedBy) FROM conversations WHERE id = ?", arguments: [owner.name, owner.account, id])
        else { throw ChatID.notFound }
        guard mine else { throw accessDenied }
    }

    static func insert(
        _ db: Database, conversation: Int64, sender: Sender, content: String, now: Timestamp
    ) throws -> ChatMessage {
        try db.execute(
            sql: "INSERT INTO messages (conversation_id, sender, content, created_at) VALUES (?, ?, ?, ?)",
            arguments: [conversation, sender.rawValue, content, now.microseconds])
        let message = ChatMessage(id: db.lastInsertedRowID, sender: sender, content: content, timestamp: now)
        try db.execute(
            sql: "UPDATE conversations SET updated_at = ? WHERE id = ?", arguments: [now.microseconds, conversation])
        return message
    }

    private static func message(_ row: Row) -> ChatMessage {
        ChatMessage(
            id: row["id"], sender: Sender(rawValue: row["sender"]) ?? .user, content: row["content"],
            timestamp: Timestamp(microseconds: row["created_at"]))
    }

    private static func conversation(_ row: Row) -> Conversation {
        var last: Conversation.MessagePreview?
        if row["m_id"] as Int64? != nil {
            last = Conversation.MessagePreview(
                sender: Sender(rawValue: row["m_sender"]) ?? .user, content: row["m_content"],
                timestamp: Timestamp(microseconds: row["m_created"]))
        }
        return Conversation(
            id: row["id"], title: row["title"], createdAt: Timestamp(microseconds: row["created_at"]),
            updatedAt: Timestamp(microseconds: row["updated_at"]), messageCount: row["message_count"], lastMessage: last)
    }
}
