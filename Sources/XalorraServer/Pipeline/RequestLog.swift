import Logging
import Synchronization
import XalorraCore

/// The first stage and the last word on every request, upgrades and refusals included: a request id, one access
/// log line (`GET /whoami 200`, with the id and the milliseconds taken; an API key in the path cut to its id; none
/// with `XALORRA_ACCESS_LOG=off` but for answers of 500 and above) and the request's place in the metrics.
struct RequestLog: Sendable {
    let logger: Logger
    let metrics: ServerMetrics
    /// Whether each answer gets an access-log line (one of 500 and above gets it either way: the server's failures,
    /// and a store or AI service it cannot reach, are always in its log).
    let accessLog: Bool
    private let counter = RequestCounter()

    init(logger: Logger, metrics: ServerMetrics, accessLog: Bool) {
        self.logger = logger
        self.metrics = metrics
        self.accessLog = accessLog
    }

    /// A request that has just arrived.
    struct Entry {
        let id: Int
        let started: ContinuousClock.Instant
    }

    /// Numbers a request and starts its clock.
    func begin() -> Entry { Entry(id: counter.next(), started: .now) }

    /// Counts and logs the answer to `exchange`.
    func finish(_ entry: Entry, _ exchange: Exchange, status: Int) {
        let elapsed = ContinuousClock.now - entry.started
        metrics.recordRequest(route: exchange.routeKey, status: status, seconds: elapsed.seconds)
        guard accessLog || status >= 500 else { return }
        logger.info(
            "\(exchange.head.method.rawValue) \(APIKeySecret.redacted(exchange.uri.path)) \(status)",
            metadata: ["request-id": "\(entry.id)", "ms": "\(Self.milliseconds(elapsed))"])
    }

    /// An internal error's message, which the client never sees, is logged with the request's id.
    func failed(_ entry: Entry, _ error: XalorraError) {
        logger.error("request failed", metadata: ["request-id": "\(entry.id)", "error": "\(error.message)"])
    }

    /// `12.345`: milliseconds with three decimals, without going through `Double`'s formatting.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        return "\(micros / 1000).\(String(micros % 1000 + 1000).dropFirst())"
    }
}

/// Numbers requests for the access log.
final class RequestCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// The next request id.
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
