/// An API key's own rate limit: `600/m`, `10/s`, `5000/1h`: so many requests per window.
public struct APIKeyRate: Sendable, Equatable, CustomStringConvertible {
    /// Requests allowed per window.
    public let limit: Int
    /// The window's length in seconds.
    public let windowSeconds: Int

    /// The most requests a window may allow, and the longest window (a day).
    public static let maxLimit = 1_000_000
    public static let maxWindowSeconds = 86_400

    /// Creates a rate, or `nil` outside `1...maxLimit` per `1...maxWindowSeconds` seconds.
    public init?(limit: Int, windowSeconds: Int) {
        guard (1...Self.maxLimit).contains(limit), (1...Self.maxWindowSeconds).contains(windowSeconds) else {
            return nil
        }
        self.limit = limit
        self.windowSeconds = windowSeconds
    }

    /// Parses `N/UNIT` or `N/SPAN` (`600/m`, `100/15m`, `10/s`), 422 naming `field` otherwise.
    public init(_ text: String, field: String = "rate") throws(XalorraError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let expected = "expected REQUESTS/WINDOW such as 600/m or 100/15m (at most \(Self.maxLimit) per at most 1d)"
        guard parts.count == 2, parts[0].utf8.count <= 7, parts[0].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let limit = Int(parts[0]), parts[1].utf8.count <= 12
        else { throw XalorraError.invalid(field, expected) }
        var window = String(parts[1])
        if let first = window.first, !first.isNumber { window = "1" + window }
        guard let span = TimeSpan(window), span.seconds <= Int64(Self.maxWindowSeconds),
            let rate = APIKeyRate(limit: limit, windowSeconds: Int(span.seconds))
        else { throw XalorraError.invalid(field, expected) }
        self = rate
    }

    /// `600/1m`.
    public var description: String { "\(limit)/\(TimeSpan(seconds: Int64(windowSeconds)))" }

    /// The budget the rate limiter counts a key's requests in.
    public var budget: RateLimitClass { RateLimitClass(name: "key", limit: limit, windowSeconds: windowSeconds) }
}
