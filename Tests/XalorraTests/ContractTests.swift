import Foundation
import Synchronization
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
        let store = try await TestBackend.store(for: settings)
        let local = LocalAPI(
            settings: settings, caller: Caller(user: "tester", role: .admin, tenant: "default"), database: store)
        let remote = try RemoteAPI(baseURL: server.url, token: server.token(["--role", "admin"]))
        do {
            for (kind, api) in [(Kind.local, local as any XalorraAPI), (.remote, remote)] { try await body(kind, api) }
        } catch {
            await store?.close()
            throw error
        }
        await store?.close()
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
            let metadata = try await api.inferenceMetadata(model: "contract-\(kind)", version: nil)
            seen.append("oip: \(metadata.versions) \(metadata.features.map(String.init) ?? "any")")
            // The protocol's errors are `{"error": "…"}`: the client takes the code from the status.
            let missing = await failure { () async throws(XalorraError) in
                _ = try await api.inferenceMetadata(model: "nosuch", version: "3")
            }
            seen.append("oip missing: \(missing?.code.name ?? "none") \(missing?.message ?? "")")
            results[kind] = seen
        }
        #expect(results[.local] == results[.remote])
        #expect(results[.local]?.contains(#"oip: ["baseline"] any"#) == true)
        #expect(results[.local]?.contains { $0.hasPrefix("oip missing: RESOURCE_NOT_FOUND") } == true)
        #expect(results[.local]?.first == "3.5 baseline [1, 2, 0.5]")
        #expect(results[.local]?.contains("logs: 3 2 true [7, 3]") == true)
        #expect(results[.local]?.contains("bad name!: VALIDATION_ERROR 422") == true)
    }

    /// Users: creation, conflicts, login, rotation, lists, updates, deletion and their refusals agree.
    @Test func sameUserAnswers() async throws {
        var results: [Kind: [String]] = [:]
        try await withAPIs { kind, api in
            var seen: [String] = []
            func describe(_ user: User) -> String {
                "\(user.username) \(user.email) \(user.fullName) \(user.role) \(user.tenant) \(user.isActive)"
            }
            func outcome(_ work: () async throws(XalorraError) -> Void) async -> String {
                guard let error = await failure(work) else { return "ok" }
                return "\(error.code.name) \(error.code.httpStatus) \(error.message)"
            }
            let name = "c_\(kind)"
            let created = try await api.createUser(
                NewUser(username: name, email: "\(name)@x.io", fullName: "C \(kind)", password: "rahasia1", role: .admin,
                    tenant: "t3"))
            seen.append(describe(created).replacingOccurrences(of: "\(kind)", with: "K"))
            let registered = try await api.register(
                NewUser(username: "r_\(kind)", email: "r_\(kind)@x.io", fullName: "R", password: "rahasia1", role: .admin))
            seen.append("registered: \(registered.role) \(registered.tenant.hasPrefix("u-r_\(kind)-"))")
            seen.append(await outcome { () async throws(XalorraError) in
                _ = try await api.register(NewUser(username: name.uppercased(), email: "other@x.io", fullName: "X", password: "rahasia1"))
            })
            seen.append(await outcome { () async throws(XalorraError) in
                _ = try await api.login(name, password: "wrong-one")
            })
            let session = try await api.login("\(name)@x.io", password: "rahasia1")
            seen.append("login: \(session.user.username == name) \(session.tokens.expiresIn)")
            let rotated = try await api.refresh(session.tokens.refreshToken)
            seen.append("rotated: \(rotated.refreshToken != session.tokens.refreshToken)")
            seen.append(await outcome { () async throws(XalorraError) in _ = try await api.refresh(session.tokens.refreshToken) }
                .replacingOccurrences(of: "\(kind)", with: "K"))
            let page = try await api.users(UserQuery(search: "_\(kind)", limit: 1))
            seen.append("page: \(page.total) \(page.items.count) \(page.hasNext)")
            let disabled = try await api.updateUser(name, UserChanges(fullName: "Changed", tenant: "t4", isActive: false))
            seen.append("updated: \(disabled.fullName) \(disabled.tenant) \(disabled.isActive)")
            seen.append(await outcome { () async throws(XalorraError) in _ = try await api.login(name, password: "rahasia1") })
            seen.append(await outcome { () async throws(XalorraError) in _ = try await api.user("nobody") })
            seen.append(await outcome { () async throws(XalorraError) in _ = try await api.profile() })
            try await api.deleteUser(name)
            seen.append(await outcome { () async throws(XalorraError) in try await api.deleteUser(name) })
            results[kind] = seen
        }
        #expect(results[.local] == results[.remote])
        #expect(results[.local]?.contains("registered: user true") == true)
        #expect(results[.local]?.contains("RESOURCE_ALREADY_EXISTS 409 Username already registered") == true)
        #expect(results[.local]?.contains("AUTHENTICATION_FAILED 401 Incorrect username or password") == true)
    }

    /// Chat: replies (streamed pieces included), refusals, reading, renaming and deleting agree.
    @Test func sameChatAnswers() async throws {
        var results: [Kind: [String]] = [:]
        try await withAPIs { kind, api in
            var seen: [String] = []
            func outcome(_ work: () async throws(XalorraError) -> Void) async -> String {
                guard let error = await failure(work) else { return "ok" }
                return "\(error.code.name) \(error.code.httpStatus) \(error.message)"
            }
            let pieces = Pieces()
            let first = try await api.sendMessage("hello \(kind)", conversation: nil) { pieces.add($0) }
            seen.append(first.aiMessage.content.replacingOccurrences(of: "\(kind)", with: "K"))
            seen.append("streamed whole: \(pieces.joined == first.aiMessage.content)")
            let id = ChatID.conversation(first.conversationID)
            let second = try await api.sendMessage("predict chat-\(kind) 1 2", conversation: id) { _ in }
            seen.append(second.aiMessage.content.replacingOccurrences(of: "\(kind)", with: "K"))
            seen.append(await outcome { () async throws(XalorraError) in
                _ = try await api.sendMessage("x", conversation: "conv_999999") { _ in }
            })
            seen.append(await outcome { () async throws(XalorraError) in
                _ = try await api.sendMessage("   ", conversation: nil) { _ in }
            })
            let detail = try await api.conversation(id, limit: 3, offset: 1)
            seen.append("detail: \(detail.conversation.messageCount) \(detail.messages.map(\.sender.rawValue))")
            let renamed = try await api.renameConversation(id, title: "  Renamed  ")
            seen.append("renamed: \(renamed.title)")
            seen.append(await outcome { () async throws(XalorraError) in _ = try await api.renameConversation(id, title: "") })
            let page = try await api.conversations(ConversationQuery(search: "Renamed", sort: .updatedAt))
            seen.append("listed: \(page.items.map(\.title)) \(page.items.first?.messageCount ?? -1)")
            try await api.deleteConversation(id)
            seen.append(await outcome { () async throws(XalorraError) in _ = try await api.conversation(id, limit: 5, offset: 0) })
            results[kind] = seen
        }
        #expect(results[.local] == results[.remote])
        #expect(results[.local]?.contains("streamed whole: true") == true)
        #expect(results[.local]?.contains("RESOURCE_NOT_FOUND 404 Conversation not found") == true)
        #expect(results[.local]?.contains("detail: 4 [\"ai\", \"user\", \"ai\"]") == true)
    }
}

/// Text pieces collected from a streaming callback.
final class Pieces: Sendable {
    private let parts = Mutex<[String]>([])
    func add(_ piece: String) { parts.withLock { $0.append(piece) } }
    var joined: String { parts.withLock { $0.joined() } }
}
