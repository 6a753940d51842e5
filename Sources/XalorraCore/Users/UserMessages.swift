/// The `message` of each users operation's success envelope, once: the server answers with them and the CLI's
/// `--json` prints the same bodies.
public enum UserMessage {
    public static let registered = "User registered successfully"
    public static let loggedIn = "Login successful"
    public static let refreshed = "Token refreshed successfully"
    public static let profile = "Profile retrieved successfully"
    public static let profileUpdated = "Profile updated successfully"
    public static let passwordChanged = "Password changed successfully"
    public static let created = "User created successfully"
    public static let retrieved = "User retrieved successfully"
    public static let updated = "User updated successfully"
}
