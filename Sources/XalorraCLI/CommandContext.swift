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

    /// The API this command talks to: the local store, or a server with `--url`.
    public func api() throws(XalorraError) -> any XalorraAPI {
        let settings = try settings()
        if let url = settings.url { return try RemoteAPI(baseURL: url, token: settings.token) }
        let terminal = self.terminal
        return LocalAPI(
            settings: settings, caller: Caller(user: settings.user, role: .admin, tenant: settings.defaultTenant),
            warn: { terminal.warning($0) })
    }

    /// Prints `value` as one line of compact JSON.
    public func printJSON(_ value: JSONValue) { terminal.print(JSONWriter.compact(value)) }
}
