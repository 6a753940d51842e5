import Foundation
import PostgresNIO
import Testing
import XalorraCore
@testable import XalorraPostgres

/// Review V's PostgreSQL fault findings (issue 14): a held lock is a quick 503, not a hang (F4). Skipped visibly
/// without PostgreSQL (a failure under CI).
@Suite(.serialized, .enabled(if: PostgresCluster.enabled, PostgresCluster.skipReason))
struct PostgresFaultTests {
    /// A plain connection to the database at `url`, as the store's own (with its session settings).
    private func connect(_ url: String) async throws -> PostgresConnection {
        try await PostgresConnection.connect(
            configuration: try PostgresStore.connectionConfiguration(try PostgresLocation(parsing: url)), id: 9,
            logger: PostgresStore.quietLogger)
    }

    /// Another session holding the prediction counter's row lock (an operator's open transaction, an instance
    /// paused before its COMMIT) makes a prediction answer 503 with Retry-After within a few seconds instead of
    /// hanging, and predictions answer 200 again once that transaction ends.
    @Test func aHeldPredictionLockIsAQuick503() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let server = try await LiveServer(environment: ["XALORRA_DATABASE_URL": url], arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let warm = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[1]}"#)
        #expect(warm.status == 200, "\(warm.body)")

        let holder = try await connect(url)
        try await holder.query("BEGIN", logger: PostgresStore.quietLogger)
        _ = try await holder.query("SELECT last_id FROM prediction_ids FOR UPDATE", logger: PostgresStore.quietLogger)
            .collect()
        // Released after 8 s at the latest, so that without a bound the request below answers late instead of never.
        let release = Task {
            try? await Task.sleep(for: .seconds(8))
            _ = try? await holder.query("COMMIT", logger: PostgresStore.quietLogger)
        }
        let started = ContinuousClock.now
        let blocked = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[2]}"#)
        let waited = ContinuousClock.now - started
        #expect(blocked.status == 503, "\(blocked.status) \(blocked.body) after \(waited)")
        #expect(blocked.body.contains("SERVICE_UNAVAILABLE"), "\(blocked.body)")
        #expect(blocked.headers.first(name: "Retry-After") == "1")
        #expect(waited < .seconds(5), "answered after \(waited)")

        release.cancel()
        _ = await release.value
        _ = try? await holder.query("COMMIT", logger: PostgresStore.quietLogger)
        try? await holder.close()
        let after = try await server.request("POST", "/predict/live", token: token, body: #"{"features":[3]}"#)
        #expect(after.status == 200, "\(after.body)")
    }
}
