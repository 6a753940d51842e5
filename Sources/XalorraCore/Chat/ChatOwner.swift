/// Whom a conversation belongs to: a registered account, or a name that has no account (the bearer of tokens minted
/// with `xalorra token`). Two owners are the same only when both the name (without case) and the account are: a new
/// account with a deleted user's name, or with the name of earlier minted tokens, is someone else (DESIGN §5).
package struct ChatOwner: Sendable, Equatable {
    /// The username, or the token's `user_id` for a name without an account.
    package let name: String
    /// The account's id in the store (ids are never reused); `nil` for a name without an account.
    package let account: Int64?
}
