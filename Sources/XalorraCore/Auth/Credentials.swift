/// The tokens `xalorra users login` saved in `$XALORRA_HOME/credentials.json` (mode 0600) for one server, used by
/// remote commands that are given no other token, and renewed through `POST /users/refresh` when the access token
/// is about to expire.
public struct Credentials: Sendable, Equatable {
    /// The server they were issued by.
    public var url: String
    public var username: String
    public var accessToken: String
    public var refreshToken: String
    /// When the access token expires, in seconds since the epoch.
    public var expiresAt: Int64

    public init(url: String, username: String, tokens: TokenPair, now: Timestamp = .now()) {
        self.url = url
        self.username = username
        self.accessToken = tokens.accessToken
        self.refreshToken = tokens.refreshToken
        // `expires_in` is the server's word, and the file can be edited: neither may overflow the arithmetic.
        self.expiresAt = now.seconds.addingSaturating(tokens.expiresIn)
    }

    /// Whether the access token expires within a minute of `now` and should be renewed first.
    public func needsRefresh(now: Timestamp = .now()) -> Bool { expiresAt.subtractingSaturating(60) <= now.seconds }

    /// The saved credentials, if any; refused when group or others can read the file.
    public static func load(_ settings: Settings) throws(XalorraError) -> Credentials? {
        guard let bytes = try FileSystem.readPrivate(settings.credentialsPath) else { return nil }
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw XalorraError(
                .validation, "\(settings.credentialsPath) is not valid JSON", hint: "log in again with `xalorra users login`")
        }
        guard case .string(let url)? = json["url"], case .string(let username)? = json["username"],
            case .string(let access)? = json["access_token"], case .string(let refresh)? = json["refresh_token"],
            case .number(.int(let expires))? = json["expires_at"]
        else {
            throw XalorraError(
                .validation, "\(settings.credentialsPath) is missing fields", hint: "log in again with `xalorra users login`")
        }
        var credentials = Credentials(
            url: url, username: username, tokens: TokenPair(accessToken: access, refreshToken: refresh, expiresIn: 0))
        credentials.expiresAt = expires
        return credentials
    }

    /// Writes the file atomically with mode 0600.
    public func save(_ settings: Settings) throws(XalorraError) {
        try FileSystem.makeDirectories(settings.home)
        let json = JSONValue.object([
            ("url", .string(url)), ("username", .string(username)), ("access_token", .string(accessToken)),
            ("refresh_token", .string(refreshToken)), ("expires_at", .int(expiresAt)),
        ])
        try FileSystem.replace(settings.credentialsPath, bytes: Array((JSONWriter.compact(json) + "\n").utf8), mode: 0o600)
    }

    /// Removes the file; true when there was one.
    @discardableResult
    public static func delete(_ settings: Settings) -> Bool { FileSystem.remove(settings.credentialsPath) }
}
