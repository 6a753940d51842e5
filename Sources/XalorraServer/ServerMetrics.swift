import Synchronization
import XalorraCore

/// Counters for `GET /metrics` (Prometheus text format 0.0.4): requests and their latency by route and status,
/// and predictions committed by model.
final class ServerMetrics: Sendable {
    /// Latency histogram bucket bounds, in seconds.
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    private struct Series {
        var count = 0
        var sum = 0.0
        var buckets = [Int](repeating: 0, count: ServerMetrics.buckets.count)
    }

    private let requests = Mutex<[String: Series]>([:])
    private let feed: PredictionFeed

    init(feed: PredictionFeed) { self.feed = feed }

    /// Counts one answered request.
    func recordRequest(route: String, status: Int, seconds: Double) {
        let key = "route=\"\(Self.escape(route))\",status=\"\(status)\""
        requests.withLock { table in
            var series = table[key] ?? Series()
            series.count += 1
            series.sum += seconds
            for (index, bound) in Self.buckets.enumerated() where seconds <= bound { series.buckets[index] += 1 }
            table[key] = series
        }
    }

    /// The exposition text.
    func render() -> String {
        var out = "# HELP xalorra_http_requests_total HTTP requests answered, by route and status.\n"
        out += "# TYPE xalorra_http_requests_total counter\n"
        let series = requests.withLock { $0 }.sorted { $0.key < $1.key }
        for (labels, value) in series { out += "xalorra_http_requests_total{\(labels)} \(value.count)\n" }
        out += "# HELP xalorra_http_request_duration_seconds Time to answer, by route and status.\n"
        out += "# TYPE xalorra_http_request_duration_seconds histogram\n"
        for (labels, value) in series {
            for (index, bound) in Self.buckets.enumerated() {
                out += "xalorra_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(value.buckets[index])\n"
            }
            out += "xalorra_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(value.count)\n"
            out += "xalorra_http_request_duration_seconds_sum{\(labels)} \(value.sum)\n"
            out += "xalorra_http_request_duration_seconds_count{\(labels)} \(value.count)\n"
        }
        out += "# HELP xalorra_predictions_total Predictions committed, by model.\n"
        out += "# TYPE xalorra_predictions_total counter\n"
        for (model, count) in feed.committedByModel.sorted(by: { $0.key < $1.key }) {
            out += "xalorra_predictions_total{model=\"\(Self.escape(model))\"} \(count)\n"
        }
        out += "# HELP xalorra_password_checks_total bcrypt comparisons, unknown usernames included.\n"
        out += "# TYPE xalorra_password_checks_total counter\n"
        out += "xalorra_password_checks_total \(PasswordHasher.checks)\n"
        return out
    }

    /// Label values escape `\`, `"` and newlines.
    private static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
