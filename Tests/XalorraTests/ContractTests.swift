import Foundation
import Testing
import XalorraClient
import XalorraCore
import XalorraML

/// The same cases against `LocalAPI` and against `RemoteAPI` talking to a live server on the same store, so that
/// the two implementations of `XalorraAPI` cannot drift apart.
@Suite(.serialized)
struct ContractTests {
    enum Kind: String, CaseIterable, Sendable { case local, remote }

    /// Runs `body` with both APIs over one live server's store.
    private func withAPIs(_ body: (Kind, any XalorraAPI) async throws -> Void) async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let settings = try Settings.resolve(
            flags: ["--home": server.cli.home.path],
            environment: server.cli.processEnvironment(), dotEnv: [:])
        let local = LocalAPI(settings: settings, caller: Caller(user: "tester", role: .admin, tenant: "default"))
        let remote = try RemoteAPI(baseURL: server.url, token: server.token(["--role", "admin"]))
        for (kind, api) in [(Kind.local, local as any XalorraAPI), (.remote, remote)] { try await body(kind, api) }
    }

    private func failure(_ work: () async throws(XalorraError) -> Void) async -> XalorraError? {
        do {
            try await work()
            return nil
        } catch {
            return error
        }
    }

    /// Predictions, batches, refusals, logs, routes, tokens and health agree between the two.
    @Test func sameAnswers() async throws {
        var results: [Kind: [String]] = [:]
        try await withAPIs { kind, api in
            var seen: [String] = []
            let single = try await api.predict(model: "contract-\(kind)", features: [.int(1), .int(2), .double(0.5)])
            seen.append("\(single.prediction) \(single.version) \(single.input)")
            var rows = FeatureMatrix()
            rows.append(row: [Number.int(1), .int(2)])
            rows.append(row: [Number.int(3), .int(4)])
            let batch = try await api.predictBatch(model: "contract-\(kind)", rows: rows)
            seen.append("\(batch.predictions) \(batch.version)")
            for bad in ["bad name!", "../etc/passwd", "m@0"] {
                let error = await failure { () async throws(XalorraError) in _ = try await api.predict(model: bad, features: [.int(1)]) }
                seen.append("\(bad): \(error?.code.name ?? "none") \(error?.code.httpStatus ?? 0)")
            }
            let pinned = await failure { () async throws(XalorraError) in _ = try await api.predict(model: "m@7", features: [.int(1)]) }
            seen.append("pinned: \(pinned?.code.name ?? "none") \(pinned?.message ?? "")")
            let page = try await api.logs(LogQuery(model: "contract-\(kind)", limit: 2))
            seen.append("logs: \(page.total) \(page.items.count) \(page.hasNext) \(page.items.map(\.prediction))")
            let badQuery = await failure { () async throws(XalorraError) in _ = try await api.logs(LogQuery(limit: 5000)) }
            seen.append("limit: \(badQuery?.code.name ?? "none")")
            seen.append("routes: \(try await api.routes().map(\.key) == RouteTable.all.map(\.key))")
            let token = try await api.mintToken(TokenRequest(user: "zed", role: .user, tenant: "t9", ttl: TimeSpan(seconds: 600)))
            seen.append("token: \(token.claims.userID) \(token.claims.tenant) \(token.expiresIn) \(token.claims.typ!)")
            seen.append("health: \(try await api.health().databaseUp)")
            results[kind] = seen
        }
        #expect(results[.local] == results[.remote])
        #expect(results[.local]?.first == "3.5 baseline [1, 2, 0.5]")
        #expect(results[.local]?.contains("logs: 3 2 true [7, 3]") == true)
        #expect(results[.local]?.contains("bad name!: VALIDATION_ERROR 422") == true)
    }
}
