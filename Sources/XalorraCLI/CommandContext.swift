import XalorraClient
import XalorraCore

/// What a command runs with: its parsed arguments, the terminal, and the settings and API made on first use.
public struct CommandContext: Sendable {
    /// The validated command line.
    public let arguments: ParsedArguments
    /// Standard output and error.
    public let terminal: Terminal
    /// The process environment.
    public let environment: [String: String]
    private let resolved: Lazy<Settings>
    /// The store, opened on first use and closed when the command ends.
    let stores = StoreOpener()

    init(arguments: ParsedArguments, terminal: Terminal, environment: [String: String]) {
        self.arguments = arguments
        self.terminal = terminal
        self.environment = environment
        let flags = arguments.settingFlags
        self.resolved = Lazy { () throws(XalorraError) in
            let dotEnv = try FileSystem.read(".env").map { DotEnv.parse(String(decoding: $0, as: UTF8.self)) } ?? [:]
            return try Settings.resolve(flags: flags, environment: environment, dotEnv: dotEnv)
        }
    }

    /// Whether `--json` was given.
    public var json: Bool { arguments.has("--json") }

    /// The settings: flag > environment > `.env` > defaults.
    public func settings() throws(XalorraError) -> Settings { try resolved.get() }

    /// The API this command talks to: the local store, or a server with `--url`. Remotely, the token is
    /// `--token`/`XALORRA_TOKEN`/`AUTH_TOKEN`, else the credentials `users login` saved for that server, renewed
    /// first when the access token is about to expire.
    public func api() async throws(XalorraError) -> any XalorraAPI {
        let settings = try settings()
        if let url = settings.url {
            if let token = settings.token { return try RemoteAPI(baseURL: url, token: token) }
            guard let saved = try savedCredentials(for: url) else { return try RemoteAPI(baseURL: url, token: nil) }
            return try RemoteAPI(baseURL: url, token: try await renewed(saved).accessToken)
        }
        let terminal = self.terminal
        return LocalAPI(
            settings: settings, caller: Caller(user: settings.user, role: .admin, tenant: settings.defaultTenant),
            database: try await stores.postgresStore(settings), responder: OpenAIResponder.responder(for: settings), warn: { terminal.warning($0) })
    }

    /// The saved credentials when they were issued by the server at `url`.
    public func savedCredentials(for url: String) throws(XalorraError) -> Credentials? {
        guard let saved = try Credentials.load(try settings()),
            RemoteAPI.sameServer(saved.url, url)
        else { return nil }
        return saved
    }

    /// `credentials`, renewed through `POST /users/refresh` (and saved) when the access token is about to expire.
    public func renewed(_ credentials: Credentials) async throws(XalorraError) -> Credentials {
        guard credentials.needsRefresh() else { return credentials }
        do {
            let pair = try await RemoteAPI(baseURL: credentials.url, token: nil).refresh(credentials.refreshToken)
            let fresh = Credentials(url: credentials.url, username: credentials.username, tokens: pair)
            try fresh.save(try settings())
            return fresh
        } catch where error.code == .tokenExpired || error.code == .authenticationFailed {
            throw XalorraError(
                error.code, "the saved login for \(credentials.username) has expired or was revoked: \(error.message)",
                hint: "log in again with `xalorra users login \(credentials.username) --url \(credentials.url)`")
        }
    }

    /// Prints `value` as one line of compact JSON: the body the HTTP API answers for the same operation.
    public func printJSON(_ value: JSONValue) { terminal.printJSON(JSONWriter.compact(value)) }

    /// Prints a page's table on stdout and `1-20 of 53 users` on stderr: what every paginated list shows people.
    func printPage<Item>(_ page: Page<Item>, table: TextTable, noun: String) {
        for line in table.render() { terminal.print(line) }
        let shown = page.items.isEmpty ? "none" : "\(page.offset + 1)-\(page.offset + page.items.count)"
        terminal.printError("\(shown) of \(page.total) \(noun)\(page.total == 1 ? "" : "s")")
    }
}
