/// The rule of `GET /chat/histories`' `search`, as its query parameter publishes it.
extension ConversationQuery {
    /// At most 200 characters.
    public static let searchRule = TextRule(length: 0...200)
}
