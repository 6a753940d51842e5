import XalorraML

/// A type that can be read back from the JSON body the API answers with: how `RemoteAPI` turns responses into
/// the same values `LocalAPI` returns, so both print the same.
public protocol JSONDecodable {
    /// Reads the value from `json`, or fails naming the field that does not fit.
    init(json: JSONValue) throws(XalorraError)
}

extension JSONValue {
    /// The member `key`, or a failure naming it.
    public func member(_ key: String) throws(XalorraError) -> JSONValue {
        guard let value = self[key] else { throw JSONValue.unexpectedResponse("no '\(key)' in the response") }
        return value
    }

    public func text(_ key: String) throws(XalorraError) -> String {
        guard case .string(let value) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not a string") }
        return value
    }

    public func numberField(_ key: String) throws(XalorraError) -> Number {
        guard case .number(let value) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not a number") }
        return value
    }

    public func integer(_ key: String) throws(XalorraError) -> Int64 {
        guard case .int(let value) = try numberField(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not an integer") }
        return value
    }

    public func numberList(_ key: String) throws(XalorraError) -> [Number] {
        guard case .array(let items) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not an array") }
        return try items.map { item throws(XalorraError) in
            guard case .number(let value) = item else { throw JSONValue.unexpectedResponse("'\(key)' holds a non-number") }
            return value
        }
    }

    public func list(_ key: String) throws(XalorraError) -> [JSONValue] {
        guard case .array(let items) = try member(key) else { throw JSONValue.unexpectedResponse("'\(key)' is not an array") }
        return items
    }

    public static func unexpectedResponse(_ message: String) -> XalorraError {
        XalorraError(.internal, "unexpected response from the server: \(message)")
    }
}

extension Page: JSONDecodable where Item: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let pagination = try json.member("pagination")
        self.init(
            items: try json.list("data").map { item throws(XalorraError) in try Item(json: item) },
            total: Int(try pagination.integer("total")), limit: Int(try pagination.integer("limit")),
            offset: Int(try pagination.integer("offset")))
    }
}

extension TokenClaims: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let roleName = try json.text("role")
        guard let role = Role(rawValue: roleName) else { throw JSONValue.unexpectedResponse("role '\(roleName)'") }
        self.init(
            user: try json.text("user_id"), role: role, tenant: try json.text("tenant"),
            kind: TokenClaims.Kind(rawValue: json["typ"]?.stringValue ?? "access") ?? .access,
            issuedAt: try json.integer("iat"), expires: try json.integer("exp"), id: try json.text("jti"))
    }
}

extension IssuedToken: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            token: try json.text("access_token"), expiresIn: try json.integer("expires_in"),
            claims: try TokenClaims(json: json.member("claims")))
    }
}

extension HealthReport: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let database = try json.member("dependencies").member("database")
        let system = try json.member("system")
        func percent(_ key: String) -> Double? {
            guard let text = system[key]?.stringValue, text.hasSuffix("%") else { return nil }
            return Double(text.dropLast())
        }
        func milliseconds(_ value: JSONValue) -> Double {
            (try? value.text("response_time")).flatMap { Double($0.dropLast(2)) } ?? 0
        }
        var ai: (String, ResponderHealth)?
        if let service = json["dependencies"]?["ai_service"] {
            ai = (
                service["backend"]?.stringValue ?? "unknown",
                ResponderHealth(available: service["status"] == "available", milliseconds: milliseconds(service))
            )
        }
        self.init(
            databaseUp: try database.text("status") == "connected", databaseMilliseconds: milliseconds(database),
            uptimeSeconds: try json.integer("uptime"), cpuPercent: percent("cpu_usage"),
            memoryPercent: percent("memory_usage"), diskPercent: percent("disk_usage"), aiService: ai)
    }
}

extension User: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let roleName = try json.text("role")
        guard let role = Role(rawValue: roleName) else { throw JSONValue.unexpectedResponse("role '\(roleName)'") }
        func time(_ key: String) throws(XalorraError) -> Timestamp {
            let text = try json.text(key)
            guard let time = Timestamp(iso: text) else { throw JSONValue.unexpectedResponse("\(key) '\(text)'") }
            return time
        }
        guard case .bool(let active)? = json["is_active"] else { throw JSONValue.unexpectedResponse("no is_active") }
        self.init(
            id: try json.integer("id"), username: try json.text("username"), email: try json.text("email"),
            fullName: try json.text("nama_lengkap"), role: role, tenant: try json.text("tenant"), isActive: active,
            createdAt: try time("created_at"), updatedAt: try time("updated_at"))
    }
}

extension TokenPair: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            accessToken: try json.text("access_token"), refreshToken: try json.text("refresh_token"),
            expiresIn: try json.integer("expires_in"))
    }
}

extension LoginResult: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(tokens: try TokenPair(json: json), user: try User(json: json.member("user")))
    }
}

extension JSONValue {
    /// The ISO time in `key`.
    func time(_ key: String) throws(XalorraError) -> Timestamp {
        let text = try self.text(key)
        guard let time = Timestamp(iso: text) else { throw JSONValue.unexpectedResponse("\(key) '\(text)'") }
        return time
    }

    /// The row id of a `conv_N` / `msg_N` in `key`.
    func chatID(_ key: String, prefix: String) throws(XalorraError) -> Int64 {
        let text = try self.text(key)
        guard text.hasPrefix(prefix), let id = Int64(text.dropFirst(prefix.count)) else {
            throw JSONValue.unexpectedResponse("\(key) '\(text)'")
        }
        return id
    }

    func sender(_ key: String) throws(XalorraError) -> Sender {
        let text = try self.text(key)
        guard let sender = Sender(rawValue: text) else { throw JSONValue.unexpectedResponse("\(key) '\(text)'") }
        return sender
    }
}

extension ChatMessage: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(
            id: try json.chatID("id", prefix: "msg_"), sender: try json.sender("sender"), content: try json.text("content"),
            timestamp: try json.time("timestamp"))
    }
}

extension Conversation: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        var last: MessagePreview?
        if let preview = json["last_message"], preview != .null {
            last = MessagePreview(
                sender: try preview.sender("sender"), content: try preview.text("content"),
                timestamp: try preview.time("timestamp"))
        }
        self.init(
            id: try json.chatID("id", prefix: "conv_"), title: try json.text("title"), createdAt: try json.time("created_at"),
            updatedAt: try json.time("updated_at"), messageCount: Int(try json.integer("message_count")), lastMessage: last)
    }
}

extension ConversationDetail: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let messages = try json.list("messages").map { item throws(XalorraError) in try ChatMessage(json: item) }
        self.init(
            conversation: Conversation(
                id: try json.chatID("id", prefix: "conv_"), title: try json.text("title"),
                createdAt: try json.time("created_at"), updatedAt: try json.time("updated_at"),
                messageCount: Int(try json.integer("message_count")), lastMessage: nil),
            messages: messages)
    }
}

extension ChatReply: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        func message(_ key: String, _ sender: Sender) throws(XalorraError) -> ChatMessage {
            let item = try json.member(key)
            return ChatMessage(
                id: try item.chatID("id", prefix: "msg_"), sender: sender, content: try item.text("content"),
                timestamp: try item.time("timestamp"))
        }
        self.init(
            conversationID: try json.chatID("conversation_id", prefix: "conv_"), userMessage: try message("user_message", .user),
            aiMessage: try message("ai_message", .ai))
    }
}

extension ConversationTitle: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        self.init(id: try json.chatID("id", prefix: "conv_"), title: try json.text("title"), updatedAt: try json.time("updated_at"))
    }
}
