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

    /// Labels are formatted when rendered, not on every request.
    private struct SeriesKey: Hashable {
        let route: String
        let status: Int

        var labels: String { "route=\"\(PrometheusText.label(route))\",status=\"\(status)\"" }
    }

    private let requests = Mutex<[SeriesKey: Series]>([:])
    private let feed: PredictionFeed
    /// The drift gauges (issue 16), when the server has a store to compute them from.
    private let drift: DriftGauges?

    init(feed: PredictionFeed, drift: DriftGauges? = nil) {
        self.feed = feed
        self.drift = drift
    }

    /// Counts one answered request.
    func recordRequest(route: String, status: Int, seconds: Double) {
        let key = SeriesKey(route: route, status: status)
        // Only the first bucket that fits is counted here; `render` accumulates them (cumulative `le`).
        let bucket = Self.buckets.firstIndex { seconds <= $0 }
        requests.withLock { table in
            if table[key] == nil { table[key] = Series() }
            table[key]!.count += 1
            table[key]!.sum += seconds
            if let bucket { table[key]!.buckets[bucket] += 1 }
        }
    }

    /// The exposition text.
    func render() -> String {
        var out = "# HELP xalorra_http_requests_total HTTP requests answered, by route and status.\n"
        out += "# TYPE xalorra_http_requests_total counter\n"
        let series = requests.withLock { $0 }.map { ($0.key.labels, $0.value) }.sorted { $0.0 < $1.0 }
        for (labels, value) in series { out += "xalorra_http_requests_total{\(labels)} \(value.count)\n" }
        out += "# HELP xalorra_http_request_duration_seconds Time to answer, by route and status.\n"
        out += "# TYPE xalorra_http_request_duration_seconds histogram\n"
        for (labels, value) in series {
            var cumulative = 0
            for (index, bound) in Self.buckets.enumerated() {
                cumulative += value.buckets[index]
                out += "xalorra_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "xalorra_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(value.count)\n"
            out += "xalorra_http_request_duration_seconds_sum{\(labels)} \(value.sum)\n"
            out += "xalorra_http_request_duration_seconds_count{\(labels)} \(value.count)\n"
        }
        out += "# HELP xalorra_predictions_total Predictions committed, by model.\n"
        out += "# TYPE xalorra_predictions_total counter\n"
        for (model, count) in feed.committedByModel.sorted(by: { $0.key < $1.key }) {
            out += "xalorra_predictions_total{model=\"\(PrometheusText.label(model))\"} \(count)\n"
        }
        out += "# HELP xalorra_password_checks_total bcrypt comparisons, unknown usernames included.\n"
        out += "# TYPE xalorra_password_checks_total counter\n"
        out += "xalorra_password_checks_total \(PasswordHasher.checks)\n"
        if let drift { out += drift.exposition() }
        return out
    }
}

extension ServerMetrics {
    /// Who may read `GET /metrics` without an admin token (`XALORRA_METRICS`): it names every tenant's models, so by
    /// default nobody may.
    struct Access: Sendable {
        private let open: Bool
        private let blocks: [ClientAddress.Block]

        init(_ setting: Settings.MetricsAccess) {
            switch setting {
            case .admin:
                open = false
                blocks = []
            case .open:
                open = true
                blocks = []
            case .addresses(let listed):
                open = false
                blocks = listed.compactMap(ClientAddress.Block.init)
            }
        }

        /// Whether a request from `address` may read the metrics without a token.
        func admits(_ address: String?) -> Bool {
            if open { return true }
            guard !blocks.isEmpty, let address = address.flatMap(ClientAddress.init) else { return false }
            return blocks.contains { $0.contains(address) }
        }
    }
}
