/// A rate-limit budget and its default size, per the Aksara seed: login 5 per 15 min, register 3 per 60 min,
/// chat messages 30 per minute, everything else 100 per minute; and `/metrics` scrapes their own 600 per minute (a
/// scraper behind a proxy shares its address with every client there, and must not spend their budget or theirs), and
/// the dashboard's page and files 1,200 per minute.
public struct RateLimitClass: Sendable, Hashable {
    /// The budget's name (`login`, `register`, `chat`, `metrics`, `default`).
    public let name: String
    /// Requests allowed per window.
    public let limit: Int
    /// The window's length in seconds.
    public let windowSeconds: Int

    /// Creates a budget.
    public init(name: String, limit: Int, windowSeconds: Int) {
        self.name = name
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    public static let login = RateLimitClass(name: "login", limit: 5, windowSeconds: 15 * 60)
    public static let register = RateLimitClass(name: "register", limit: 3, windowSeconds: 60 * 60)
    public static let chat = RateLimitClass(name: "chat", limit: 30, windowSeconds: 60)
    public static let metrics = RateLimitClass(name: "metrics", limit: 600, windowSeconds: 60)
    /// The dashboard's page and files: one page load is a dozen requests, and a team behind one address must not
    /// spend the API's budget (or run out of its own) by opening it.
    public static let dashboard = RateLimitClass(name: "dashboard", limit: 1_200, windowSeconds: 60)
    public static let `default` = RateLimitClass(name: "default", limit: 100, windowSeconds: 60)

    /// `5/15m`, the form the route table prints.
    public var text: String { "\(limit)/\(TimeSpan(seconds: Int64(windowSeconds)))" }
}
