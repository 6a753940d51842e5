import Logging
import PostgresNIO
import XalorraCore

/// Conversations and their messages in PostgreSQL, with SQLite's rules: the owner is a name compared without case
/// and an account (`nil` matches only `nil`); another owner's conversation is 403, an unknown one 404.
struct PostgresChatRepository: ChatRepository {
    let database: PostgresDatabase

    init(database: PostgresDatabase) { self.database = database }

    func appendUserMessage(
        owner: ChatOwner, conversationID: Int64?, title: String, content: String, now: Timestamp
    ) async throws(XalorraError) -> (conversationID: Int64, message: ChatMessage) {
        let logger = database.logger
        let (id, message) = try await database.inTransaction { connection in
            let id: Int64
            if let conversationID {
                try await Self.checkOwner(connection, logger, conversationID, owner, lock: true)
                id = conversationID
            } else {
                id = try await Self.createConversation(connection, logger, owner: owner, title: title, now: now)
            }
            return (id, try await Self.insert(connection, logger, conversation: id, sender: .user, content: content, now: now))
        }
        return (id, message)
    }

    func appendReply(
        owner: ChatOwner, conversationID: Int64, content: String, now: Timestamp
    ) async throws(XalorraError) -> ChatMessage {
        let logger = database.logger
        return try await database.inTransaction { connection in
            try await Self.checkOwner(connection, logger, conversationID, owner, lock: true)
            return try await Self.insert(connection, logger, conversation: conversationID, sender: .ai, content: content, now: now)
        }
    }

    func recentMessages(_ conversationID: Int64, owner: ChatOwner, limit: Int) async throws(XalorraError) -> [ChatMessage] {
        let logger = database.logger
        return try await database.inTransaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            try await Self.checkOwner(connection, logger, conversationID, owner)
            return try await connection.rows(
                """
                SELECT * FROM (SELECT id, sender, content, created_at FROM messages WHERE conversation_id = \(conversationID)
                ORDER BY id DESC LIMIT \(Int64(limit))) recent ORDER BY id
                """, logger
            ).map(Self.message)
        }
    }

    func list(owner: ChatOwner, _ query: ConversationQuery) async throws(XalorraError) -> Page<Conversation> {
        var sql = SQLBuilder()
        var filter = Self.ownedBy(owner, &sql)
        if let search = query.search {
            // SQLite's LIKE ignores the case of ASCII letters; ILIKE does too.
            let pattern = sql.bind(StoreRules.likePattern(containing: search))
            filter += " AND title COLLATE \"C\" ILIKE \(pattern) ESCAPE '\\'"
        }
        let direction = query.order == .asc ? "ASC" : "DESC"
        let sort = query.sort.rawValue
        let logger = database.logger
        return try await database.inTransaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            let total = try await connection.rows(sql.statement("SELECT count(*) FROM conversations WHERE \(filter)"), logger)
                .first?.decode(Int64.self) ?? 0
            var page = sql
            let limit = page.bind(Int64(query.limit)), offset = page.bind(Int64(query.offset))
            let rows = try await connection.rows(
                page.statement("""
                    SELECT c.id, c.title, c.created_at, c.updated_at,
                        (SELECT count(*) FROM messages WHERE conversation_id = c.id) AS message_count,
                        m.id AS m_id, m.sender AS m_sender, m.content AS m_content, m.created_at AS m_created
                    FROM (SELECT * FROM conversations WHERE \(filter)
                        ORDER BY \(sort) \(direction), id \(direction) LIMIT \(limit) OFFSET \(offset)) AS c
                    LEFT JOIN messages m
                        ON m.id = (SELECT max(id) FROM messages WHERE conversation_id = c.id)
                    ORDER BY c.\(sort) \(direction), c.id \(direction)
                    """), logger)
            return Page(items: try rows.map(Self.conversation), total: Int(total), limit: query.limit, offset: query.offset)
        }
    }

    func detail(_ id: Int64, owner: ChatOwner, limit: Int, offset: Int) async throws(XalorraError) -> ConversationDetail {
        let logger = database.logger
        return try await database.inTransaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection in
            try await Self.checkOwner(connection, logger, id, owner)
            let rows = try await connection.rows(
                """
                SELECT c.id, c.title, c.created_at, c.updated_at,
                    (SELECT count(*) FROM messages WHERE conversation_id = c.id) AS message_count,
                    NULL::bigint AS m_id, NULL::text AS m_sender, NULL::text AS m_content, NULL::bigint AS m_created
                FROM conversations c WHERE c.id = \(id)
                """, logger)
            guard let row = rows.first else { throw StoreRules.conversationNotFound }
            let messages = try await connection.rows(
                """
                SELECT id, sender, content, created_at FROM messages WHERE conversation_id = \(id)
                ORDER BY id LIMIT \(Int64(limit)) OFFSET \(Int64(offset))
                """, logger
            ).map(Self.message)
            return ConversationDetail(conversation: try Self.conversation(row), messages: messages)
        }
    }

    func rename(_ id: Int64, owner: ChatOwner, title: String, now: Timestamp) async throws(XalorraError) -> ConversationTitle {
        let logger = database.logger
        return try await database.inTransaction { connection in
            try await Self.checkOwner(connection, logger, id, owner, lock: true)
            try await connection.run(
                "UPDATE conversations SET title = \(title), updated_at = \(now.microseconds) WHERE id = \(id)", logger)
            return ConversationTitle(id: id, title: title, updatedAt: now)
        }
    }

    func delete(_ id: Int64, owner: ChatOwner) async throws(XalorraError) {
        let logger = database.logger
        try await database.inTransaction { connection in
            try await Self.checkOwner(connection, logger, id, owner, lock: true)
            try await connection.run("DELETE FROM conversations WHERE id = \(id)", logger)
        }
    }

    func appendTranscript(
        owner: ChatOwner, title: String, messages: [(sender: Sender, content: String)], now: Timestamp
    ) async throws(XalorraError) -> Int64 {
        let logger = database.logger
        let messages = messages.map { ($0.sender, $0.content) }
        return try await database.inTransaction { connection in
            let id = try await Self.createConversation(connection, logger, owner: owner, title: title, now: now)
            for (sender, content) in messages {
                _ = try await Self.insert(connection, logger, conversation: id, sender: sender, content: content, now: now)
            }
            return id
        }
    }

    // MARK: Helpers

    /// The condition on a `conversations` row that it is `owner`'s: the name without case, and the same account or
    /// both none.
    private static func ownedBy(_ owner: ChatOwner, _ sql: inout SQLBuilder) -> String {
        "lower(owner COLLATE \"C\") = lower(\(sql.bind(owner.name)) COLLATE \"C\") "
            + "AND account_id IS NOT DISTINCT FROM \(sql.bind(owner.account))"
    }

    /// 404 when the conversation is not there, 403 when it is someone else's.
    /// - Parameter lock: lock the row until the transaction ends (it is written to, or deleted, next).
    private static func checkOwner(
        _ connection: PostgresConnection, _ logger: Logger, _ id: Int64, _ owner: ChatOwner, lock: Bool = false
    ) async throws {
        var sql = SQLBuilder()
        let mine = ownedBy(owner, &sql)
        let conversation = sql.bind(id)
        let rows = try await connection.rows(
            sql.statement("SELECT \(mine) FROM conversations WHERE id = \(conversation)\(lock ? " FOR UPDATE" : "")"), logger)
        guard let row = rows.first else { throw StoreRules.conversationNotFound }
        guard try row.decode(Bool.self) else { throw StoreRules.conversationAccessDenied }
    }

    /// A new, empty conversation of `owner`; 401 when the owner's account was deleted since the request was
    /// authenticated. The account's row is locked (`FOR KEY SHARE`) until the commit, so a deletion cannot slip in
    /// between the check and the insert (the foreign key would refuse the insert anyway, less clearly).
    private static func createConversation(
        _ connection: PostgresConnection, _ logger: Logger, owner: ChatOwner, title: String, now: Timestamp
    ) async throws -> Int64 {
        if let account = owner.account {
            let rows = try await connection.rows("SELECT 1 FROM users WHERE id = \(account) FOR KEY SHARE", logger)
            guard !rows.isEmpty else { throw StoreRules.accountDeleted }
        }
        let rows = try await connection.rows(
            """
            INSERT INTO conversations (owner, account_id, title, created_at, updated_at)
            VALUES (\(owner.name), \(owner.account), \(title), \(now.microseconds), \(now.microseconds))
            RETURNING id
            """, logger)
        guard let row = rows.first else { throw XalorraError(.internal, "store: the conversation was not stored") }
        return try row.decode(Int64.self)
    }

    private static func insert(
        _ connection: PostgresConnection, _ logger: Logger, conversation: Int64, sender: Sender, content: String,
        now: Timestamp
    ) async throws -> ChatMessage {
        let rows = try await connection.rows(
            """
            INSERT INTO messages (conversation_id, sender, content, created_at)
            VALUES (\(conversation), \(sender.rawValue), \(content), \(now.microseconds))
            RETURNING id
            """, logger)
        guard let row = rows.first else { throw XalorraError(.internal, "store: the message was not stored") }
        let message = ChatMessage(id: try row.decode(Int64.self), sender: sender, content: content, timestamp: now)
        try await connection.run(
            "UPDATE conversations SET updated_at = \(now.microseconds) WHERE id = \(conversation)", logger)
        return message
    }

    private static func message(_ row: PostgresRow) throws -> ChatMessage {
        let (id, sender, content, created) = try row.decode((Int64, String, String, Int64).self)
        return ChatMessage(
            id: id, sender: Sender(rawValue: sender) ?? .user, content: content, timestamp: Timestamp(microseconds: created))
    }

    private static func conversation(_ row: PostgresRow) throws -> Conversation {
        let cells = row.makeRandomAccess()
        var last: Conversation.MessagePreview?
        if try cells.value("m_id", as: Int64?.self) != nil {
            last = Conversation.MessagePreview(
                sender: Sender(rawValue: try cells.value("m_sender")) ?? .user, content: try cells.value("m_content"),
                timestamp: Timestamp(microseconds: try cells.value("m_created")))
        }
        return Conversation(
            id: try cells.value("id"), title: try cells.value("title"),
            createdAt: Timestamp(microseconds: try cells.value("created_at")),
            updatedAt: Timestamp(microseconds: try cells.value("updated_at")),
            messageCount: Int(try cells.value("message_count", as: Int64.self)), lastMessage: last)
    }
}
