import Synchronization
import XalorraML

/// The drift gauges of `GET /metrics`: `xalorra_feature_psi{tenant,model,feature}` and
/// `xalorra_prediction_psi{tenant,model}`, each registered model's newest version (when it has a training profile)
/// over the last ``DriftReport/defaultWindow``, so an alert rule can watch `xalorra_feature_psi >= 0.2`.
///
/// Computed at most once a minute: a scrape answers the last computed values at once and, when they are older than
/// ``interval``, starts one recomputation in the background (the scrape does not wait for a pass over the log). A
/// model without logged rows in the window has no sample rather than a NaN. The series are bounded by the models
/// (their newest versions only) and their features.
public final class DriftGauges: Sendable {
    /// The least time between two computations, in seconds.
    public static let interval: Int64 = 60

    private struct State {
        var features = ""
        var predictions = ""
        var computedAt: Int64?
        var running = false
    }

    private let store: any Store
    private let state = Mutex(State())

    /// Gauges over `store`'s registry and prediction log (either store).
    package init(store: any Store) { self.store = store }

    /// The exposition text: `# HELP`/`# TYPE` and the last computed samples.
    public func exposition(now: Timestamp = .now()) -> String {
        let (features, predictions, stale) = state.withLock { state in
            let stale = !state.running
                && state.computedAt.map { now.microseconds - $0 >= Self.interval * 1_000_000 } ?? true
            if stale { state.running = true }
            return (state.features, state.predictions, stale)
        }
        if stale { Task { await self.refresh(now: now) } }
        var out = "# HELP xalorra_feature_psi Population stability index of a feature's logged values against the "
        out += "training data, newest version, last 24h (>= 0.2: drifted).\n"
        out += "# TYPE xalorra_feature_psi gauge\n"
        out += features
        out += "# HELP xalorra_prediction_psi Population stability index of a model's logged predictions against its "
        out += "predictions on the training data, newest version, last 24h (>= 0.2: drifted).\n"
        out += "# TYPE xalorra_prediction_psi gauge\n"
        out += predictions
        return out
    }

    /// Computes every gauge now and keeps the result (what a stale ``exposition(now:)`` starts).
    public func refresh(now: Timestamp = .now()) async {
        var features = ""
        var predictions = ""
        let repository = store.predictions
        if let watched = try? await store.profiles.watched() {
            for model in watched {
                guard let counter = try? await repository.driftCounts(
                    tenant: model.tenant, model: model.name, version: String(model.version),
                    since: now.adding(seconds: -DriftReport.defaultWindow), until: now, profile: model.profile),
                    counter.rows > 0
                else { continue }
                let labels =
                    "tenant=\"\(PrometheusText.label(model.tenant))\",model=\"\(PrometheusText.label(model.name))\""
                for (index, name) in model.profile.features.enumerated() {
                    guard let psi = counter.stabilityIndex(feature: index) else { continue }
                    features += "xalorra_feature_psi{\(labels),feature=\"\(PrometheusText.label(name))\"} \(psi)\n"
                }
                if let psi = counter.predictionStabilityIndex {
                    predictions += "xalorra_prediction_psi{\(labels)} \(psi)\n"
                }
            }
        }
        state.withLock { state in
            state.features = features
            state.predictions = predictions
            state.computedAt = now.microseconds
            state.running = false
        }
    }
}
