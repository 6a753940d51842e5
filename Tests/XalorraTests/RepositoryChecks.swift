import Foundation
import GRDB
import PostgresNIO
import Testing
@testable import XalorraCore
import XalorraML
import XalorraPostgres

/// Checks a store's repositories by what they answer, never by how they store it, so that the same checks run on
/// the SQLite store (the reference) and on the PostgreSQL store (``PostgresRepositoryTests``).
enum RepositoryChecks {
    /// Runs a synchronous repository method (made for training threads, which may block) on a thread of its own,
    /// never on one of the few threads that run tasks.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    // MARK: The prediction log

    /// One batch of `rows` rows of `model` in `tenant`, its cells numbered from `start`.
    static func batch(_ rows: Int, start: Int, model: String = "m", tenant: String = "t") -> PredictionBatch {
        var matrix = FeatureMatrix()
        for row in 0..<rows { matrix.append(row: [Number.int(Int64(start + row)), .double(0.5), nil]) }
        return PredictionBatch(
            timestamp: Timestamp(microseconds: 1_700_000_000_000_000 + Int64(start)), tenant: tenant, userID: "u",
            model: model, version: "1", inputs: matrix,
            predictions: (0..<rows).map { .double(Double(start + $0) + 0.25) }, latencyMicros: 2)
    }

    /// Stores a row as rows were stored before batches were one record (input and prediction as JSON text), as a
    /// store copied from an old SQLite store has them.
    static func insertLegacyRow(_ store: any Store, id: Int, tenant: String, model: String) async throws {
        let time = 1_700_000_000_000_000 + Int64(id)
        if let database = store as? AppDatabase {
            try await database.writer.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO predictions (timestamp, tenant, user_id, model, version, latency_us, input, \
                        prediction) VALUES (?, ?, 'u', ?, '1', 2, ?, ?)
                        """,
                    arguments: [time, tenant, model, "[\(id),0.5,null]", "\(id).25"])
            }
        } else {
            let store = try #require(store as? PostgresStore)
            try await store.database.execute(
                """
                INSERT INTO predictions (id, timestamp, tenant, user_id, model, version, latency_us, input, prediction)
                VALUES ((SELECT coalesce(max(id), 0) + 1 FROM predictions), \(time), \(tenant), 'u', \(model), '1', 2,
                    \("[\(id),0.5,null]"), \("\(id).25"))
                """)
        }
    }

    /// Single rows, batches (one past a block's 1,024 rows) and old rows, interleaved in two tenants and three
    /// models; then every read must agree with filtering and paging the naive list of rows they stand for.
    static func predictions(_ store: any Store, _ backend: TestBackend) async throws {
        let repository = store.predictions
        #expect(try await repository.newestID() == 0)
        #expect(try await repository.list(try LogQuery()).items.isEmpty)
        #expect(try await repository.insert(batches: []) == [])
        let counter = try await repository.changeCounter()
        let plan: [(rows: Int, model: String, tenant: String)] = [
            (1, "m", "t"), (5, "m", "t"), (1, "n", "t"), (3, "m", "u"), (0, "legacy", "t"), (7, "n", "t"),
            (1, "m", "u"), (0, "legacy", "u"), (2, "m", "t"), (1_030, "m", "t"), (1, "n", "u"),
        ]
        var start = 0
        for step in plan {
            if step.rows == 0 {
                try await insertLegacyRow(store, id: start, tenant: step.tenant, model: step.model)
                start += 1
                continue
            }
            let ids = try await repository.insert(batches: [batch(step.rows, start: start, model: step.model, tenant: step.tenant)])
            #expect(ids == [Array(Int64(start + 1)...Int64(start + step.rows))], "\(backend)")
            start += step.rows
        }
        #expect(try await repository.changeCounter() != counter, "\(backend)")
        // A group of batches: consecutive ids in their order, an empty batch getting none.
        let group = try await repository.insert(batches: [batch(3, start: start), batch(0, start: 0), batch(1, start: start + 3)])
        let total = start + 4
        #expect(group == [Array(Int64(start + 1)...Int64(start + 3)), [], [Int64(start + 4)]], "\(backend)")
        #expect(try await repository.newestID() == Int64(total))
        var all: [PredictionRecord] = []
        while true {
            let page = try await repository.records(after: all.last?.id ?? 0, matching: try LogQuery(limit: 400))
            all += page
            if page.count < 400 { break }
        }
        #expect(all.map(\.id) == Array(1...Int64(total)), "\(backend)")
        #expect(all.map(\.input) == (0..<total).map { [Number.int(Int64($0)), .double(0.5), nil] }, "\(backend)")
        #expect(all.map(\.prediction) == (0..<total).map { Number.double(Double($0) + 0.25) }, "\(backend)")
        #expect(Set(all.map(\.userID)) == ["u"] && Set(all.map(\.latencyMicros)) == [2])
        for (model, tenant) in [(nil, nil), ("m", nil), (nil, "t"), ("m", "t"), ("n", "u"), ("legacy", nil)] {
            let matching = all.filter { (model == nil || $0.model == model) && (tenant == nil || $0.tenant == tenant) }
            for limit in [1, 3, 100, 1_000] {
                for offset in [0, 1, 4, 5, 9, 30, 1_040, 1_060] {
                    var query = try LogQuery(model: model, tenant: tenant)
                    query.limit = limit
                    query.offset = offset
                    let page = try await repository.list(query)
                    let expected = Array(matching.reversed().dropFirst(offset).prefix(limit))
                    #expect(page.items == expected, "\(backend): \(model ?? "-")/\(tenant ?? "-") \(offset)+\(limit)")
                    #expect(page.total == matching.count)
                }
                for after in [0, 1, 2, 6, 20, 50, 1_000, total - 1, total] {
                    var query = try LogQuery(model: model, tenant: tenant)
                    query.limit = limit
                    let read = try await repository.records(after: Int64(after), matching: query)
                    let expected = Array(matching.filter { $0.id > after }.prefix(limit))
                    #expect(read == expected, "\(backend): \(model ?? "-")/\(tenant ?? "-") after \(after) limit \(limit)")
                }
            }
        }
        let since = Timestamp(microseconds: 1_700_000_000_000_000 + 20), until = Timestamp(microseconds: 1_700_000_000_000_000 + 40)
        let window = try await repository.list(try LogQuery(since: since, until: until, limit: 1_000))
        let inWindow = all.filter { $0.timestamp >= since && $0.timestamp <= until }
        #expect(window.items == Array(inWindow.reversed().prefix(1_000)), "\(backend)")
        #expect(window.total == inWindow.count)
    }

    // MARK: Users and refresh tokens

    /// Creating users: many creates of one name at once (as on several instances) make one account and answer
    /// every other with the 409 a sequential create gets, whatever the case of the name or the e-mail; a refresh
    /// token's rotation chain is revoked whole when an old link is replayed; a page agrees with its total.
    static func users(_ store: any Store, _ backend: TestBackend) async throws {
        let users = store.users
        let now = Timestamp(microseconds: 1_700_000_000_000_000)
        func new(_ name: String, _ email: String) throws -> NewUser {
            try NewUser(username: name, email: email, fullName: "Racer", password: "secret-pw")
        }
        for round in 0..<4 {
            let outcomes = try await withThrowingTaskGroup(of: String.self) { group in
                for racer in 0..<12 {
                    // Half race on the name (in other cases), half on the e-mail.
                    let name = racer % 2 == 0 ? (racer % 4 == 0 ? "Race\(round)" : "race\(round)") : "race\(round)_\(racer)"
                    let email = racer % 2 == 0 ? "r\(round)-\(racer)@x.io" : "SAME\(round)@x.io"
                    let user = try new(name, email)
                    group.addTask {
                        do {
                            _ = try await users.create(user, tenant: "t", passwordHash: "$2b$10$racer", now: now)
                            return "created"
                        } catch let error as XalorraError {
                            return "\(error.code.httpStatus) \(error.message)"
                        }
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == "created" }.count == 2, "\(backend) round \(round): \(outcomes)")
            #expect(
                outcomes.allSatisfy {
                    ["created", "409 Username already registered", "409 Email already registered"].contains($0)
                }, "\(backend) round \(round): \(outcomes)")
        }
        // Sequential conflicts, in another case.
        for (name, email, expected) in [
            ("RACE0", "new@x.io", "Username already registered"), ("fresh", "same0@X.IO", "Email already registered"),
        ] {
            let user = try new(name, email)
            do {
                _ = try await users.create(user, tenant: "t", passwordHash: "$2b$10$racer", now: now)
                Issue.record("\(backend): \(name) <\(email)> was created twice")
            } catch {
                #expect(error.code == .alreadyExists && error.message == expected, "\(backend): \(error)")
            }
        }
        let page = try await users.list(try UserQuery(search: "race", limit: 3))
        #expect(page.total == 8 && page.items.count == 3, "\(backend): \(page.total) \(page.items.count)")

        // A chain of rotations; replaying its first link revokes every link, the newest included.
        guard let owner = try await users.user(named: "race0") else { throw XalorraError(.notFound, "race0") }
        try await users.storeRefresh(jti: "j0", userID: owner.id, issued: now, expires: Int64.max / 2)
        for link in 1...40 {
            guard case .rotated = try await users.rotate(
                jti: "j\(link - 1)", username: "race0", newJTI: "j\(link)", expires: Int64.max / 2, now: now)
            else { Issue.record("\(backend): rotation \(link) refused"); return }
        }
        #expect(try await users.liveRefreshTokens("race0", now: now) == 1)
        guard case .reused = try await users.rotate(
            jti: "j0", username: "race0", newJTI: "x", expires: Int64.max / 2, now: now)
        else { Issue.record("\(backend): a replayed token was not seen as reused"); return }
        #expect(try await users.liveRefreshTokens("race0", now: now) == 0, "\(backend): the chain's end is still live")
        guard case .invalid = try await users.rotate(
            jti: "j40", username: "race0", newJTI: "y", expires: Int64.max / 2, now: now)
        else { Issue.record("\(backend): the newest link still rotates after a replay"); return }
    }

    // MARK: The model registry

    /// A version of `name` in tenant `t`.
    static func version(_ name: String, tenant: String = "t", kind: ModelKind = .gbdt, document: [UInt8] = [1, 0, 255])
        -> NewModelVersion
    {
        NewModelVersion(
            tenant: tenant, name: name, kind: kind, hyperparameters: .object([("trees", .number(.int(3)))]),
            metrics: nil, features: ["a", "b"], trees: 3, document: document, createdBy: "alice")
    }

    /// Versions number from 1 and never reuse a number; lists page by name with the newest version; loads return
    /// the stored document; deleting a version or a model, and anything unknown, answer as SQLite does.
    static func models(_ store: any Store, _ backend: TestBackend) async throws {
        let models = store.models
        let now = Timestamp(microseconds: 1_700_000_000_000_000)
        #expect(try await models.add(version("zeta"), now: now).version == 1)
        #expect(try await models.add(version("alpha", kind: .linear), now: now).version == 1)
        // A version number past 32 bits (a URL may carry 18 digits) is simply not there.
        #expect(try await models.load(tenant: "t", name: "zeta", version: 2_147_483_648).map { $0.0.version } == nil)
        #expect(try await models.currentVersion(tenant: "t", name: "zeta", version: 9_999_999_999) == nil)
        let second = try await models.add(version("alpha", document: Array(repeating: 7, count: 300)), now: now)
        #expect(second.version == 2 && second.size == 300)
        _ = try await models.add(version("alpha", tenant: "other"), now: now)
        let page = try await models.list(tenant: "t", limit: 10, offset: 0)
        #expect(page.total == 2, "\(backend)")
        #expect(page.items.map(\.latest.name) == ["alpha", "zeta"])
        #expect(page.items.map(\.latest.version) == [2, 1] && page.items.map(\.versionCount) == [2, 1])
        #expect(try await models.list(tenant: "t", limit: 1, offset: 1).items.map(\.latest.name) == ["zeta"])
        let versions = try await models.versions(tenant: "t", name: "alpha")
        #expect(versions.map(\.version) == [2, 1] && versions.map(\.kind) == [.gbdt, .linear])
        #expect(versions[0].features == ["a", "b"] && versions[0].createdBy == "alice" && versions[0].createdAt == now)
        #expect(versions[0].hyperparameters == .object([("trees", .number(.int(3)))]))
        let (loaded, document) = try #require(try await models.load(tenant: "t", name: "alpha", version: 1))
        #expect(loaded.version == 1 && document == [1, 0, 255])
        #expect(try await models.load(tenant: "t", name: "alpha", version: nil)?.1 == Array(repeating: 7, count: 300))
        #expect(try await models.load(tenant: "t", name: "alpha", version: 9) == nil)
        #expect(try await models.load(tenant: "u", name: "alpha", version: nil) == nil)
        #expect(try await models.currentVersion(tenant: "t", name: "alpha", version: nil) == 2)
        #expect(try await models.currentVersion(tenant: "t", name: "alpha", version: 1) == 1)
        #expect(try await models.currentVersion(tenant: "t", name: "alpha", version: 3) == nil)
        await #expect(throws: XalorraError.modelNotFound("nope")) { _ = try await models.versions(tenant: "t", name: "nope") }
        try await models.delete(tenant: "t", name: "alpha", version: 2)
        await #expect(throws: XalorraError.modelNotFound("alpha", version: 2)) {
            try await models.delete(tenant: "t", name: "alpha", version: 2)
        }
        // A number once used is never given again while the model exists.
        #expect(try await models.add(version("alpha"), now: now).version == 3)
        try await models.delete(tenant: "t", name: "alpha", version: nil)
        await #expect(throws: XalorraError.modelNotFound("alpha")) { try await models.delete(tenant: "t", name: "alpha", version: nil) }
        #expect(try await models.versions(tenant: "other", name: "alpha").count == 1)
        #expect(try await models.list(tenant: "t", limit: 10, offset: 0).items.map(\.latest.name) == ["zeta"])
    }

    // MARK: Training jobs

    /// A request to train `model` (gbdt, 3 trees) on two rows.
    static func request(_ model: String) -> TrainingRequest {
        var data = FeatureMatrix(columns: ["a", "y"])
        data.append(row: [Number.int(1), .int(2)])
        data.append(row: [Number.int(3), .int(4)])
        var parameters = Hyperparameters()
        parameters.trees = 3
        return TrainingRequest(model: model, kind: .gbdt, target: "y", data: data, parameters: parameters)
    }

    /// Jobs queue, list (newest first, filtered, tenant-scoped), are claimed oldest first with their data, report
    /// progress, succeed with a stored version, fail, cancel (409 once finished), and refuse a user past the limit.
    static func trainingJobs(_ store: any Store, _ backend: TestBackend) async throws {
        let jobs = store.trainingJobs
        let now = Timestamp(microseconds: 1_700_000_000_000_000)
        let csv = Array("a,y\n1,2\n3,4\n".utf8)
        let first = try await jobs.insert(request("m"), data: csv, tenant: "t", createdBy: "bob", status: .queued, now: now)
        #expect(first.status == .queued && first.rows == 2 && first.progressTotal == 3 && first.createdBy == "bob")
        #expect(first.startedAt == nil && first.createdAt == now)
        let second = try await jobs.insert(
            request("n"), data: csv, tenant: "t", createdBy: "bob", status: .queued, now: now, maxActive: 2)
        await #expect(throws: XalorraError.self) {
            _ = try await jobs.insert(request("n"), data: csv, tenant: "t", createdBy: "bob", status: .queued, now: now, maxActive: 2)
        }
        let other = try await jobs.insert(request("m"), data: csv, tenant: "u", createdBy: "eve", status: .queued, now: now)
        #expect(try await jobs.job(try TrainingJob.rowID(first.id), tenant: "t") == first)
        await #expect(throws: XalorraError.self) { _ = try await jobs.job(try TrainingJob.rowID(other.id), tenant: "t") }
        let listed = try await jobs.list(TrainingJobQuery(), tenant: "t")
        #expect(listed.total == 2 && listed.items.map(\.id) == [second.id, first.id], "\(backend)")
        #expect(try await jobs.list(TrainingJobQuery(model: "n"), tenant: "t").items.map(\.id) == [second.id])
        #expect(try await jobs.list(TrainingJobQuery(status: .running), tenant: "t").total == 0)

        let (claimed, data) = try #require(try await jobs.claimNext(now: now))
        #expect(claimed.id == first.id && claimed.status == .running && claimed.startedAt == now && data == csv)
        let row = try TrainingJob.rowID(first.id)
        #expect(try await onThread { try jobs.isRunning(row) })
        let report = TrainingProgress(done: 1, total: 3, validationLoss: 0.25)
        #expect(try await onThread { try jobs.progress(row, report) })
        let running = try await jobs.job(row, tenant: nil)
        #expect(running.progressDone == 1 && running.validationLoss == 0.25)
        let stored = try #require(try await jobs.succeed(row, version: version("m"), rounds: 3, now: now))
        #expect(stored.version == 1)
        let done = try await jobs.job(row, tenant: nil)
        #expect(done.status == .succeeded && done.version == 1 && done.progressDone == 3 && done.finishedAt == now)
        #expect(try await onThread { try jobs.isRunning(row) } == false)
        #expect(try await store.models.currentVersion(tenant: "t", name: "m", version: nil) == 1)
        await #expect(throws: XalorraError.self) { _ = try await jobs.cancel(row, tenant: "t", now: now) }

        let (next, _) = try #require(try await jobs.claimNext(now: now))
        #expect(next.id == second.id)
        try await jobs.fail(try TrainingJob.rowID(second.id), reason: "bad data", now: now)
        let failed = try await jobs.job(try TrainingJob.rowID(second.id), tenant: nil)
        #expect(failed.status == .failed && failed.error == "bad data")

        // The other tenant's job: cancelled while queued, then nothing is left to claim.
        await #expect(throws: XalorraError.self) { _ = try await jobs.cancel(try TrainingJob.rowID(other.id), tenant: "t", now: now) }
        #expect(try await jobs.cancel(try TrainingJob.rowID(other.id), tenant: nil, now: now).status == .cancelled)
        #expect(try await jobs.claimNext(now: now) == nil)
        #expect(try await jobs.failInterrupted(now: now) == 0)

        // A job trained by its caller (`running` from the start): cancelling it stops its progress and its version.
        let inline = try await jobs.insert(request("k"), data: csv, tenant: "t", createdBy: "bob", status: .running, now: now)
        let inlineRow = try TrainingJob.rowID(inline.id)
        #expect(inline.startedAt == now)
        #expect(try await onThread { try jobs.isRunning(inlineRow) })
        _ = try await jobs.cancel(inlineRow, tenant: "t", now: now)
        let late = TrainingProgress(done: 1, total: 3, validationLoss: nil)
        #expect(try await onThread { try jobs.progress(inlineRow, late) } == false)
        #expect(try await jobs.succeed(inlineRow, version: version("k"), rounds: 3, now: now) == nil)
        #expect(try await store.models.currentVersion(tenant: "t", name: "k", version: nil) == nil)
    }

    // MARK: Chat

    /// Conversations belong to a name (without case) and an account; another's is 403, an unknown one 404, one of
    /// a deleted account 401 to write; lists page, sort and search titles without case; details page messages;
    /// deleting an account deletes its conversations.
    static func chat(_ store: any Store, _ backend: TestBackend) async throws {
        let chats = store.chats
        let hash = "$2b$04$" + String(repeating: "a", count: 53)
        let alice = try await store.users.create(
            try NewUser(username: "alice", email: "alice@example.com", fullName: "Alice", password: "password123"),
            tenant: "t", passwordHash: hash, now: .now())
        let owner = ChatOwner(name: "alice", account: alice.id)
        let shouting = ChatOwner(name: "ALICE", account: alice.id)
        let minted = ChatOwner(name: "alice", account: nil)
        let time = { (step: Int64) in Timestamp(microseconds: 1_700_000_000_000_000 + step) }

        let (firstID, hello) = try await chats.appendUserMessage(
            owner: owner, conversationID: nil, title: "Weather Report", content: "hello", now: time(1))
        #expect(hello.sender == .user && hello.content == "hello")
        let reply = try await chats.appendReply(owner: shouting, conversationID: firstID, content: "hi!", now: time(2))
        #expect(reply.sender == .ai && reply.id > hello.id)
        let (secondID, _) = try await chats.appendUserMessage(
            owner: owner, conversationID: nil, title: "Recipes 100%", content: "soup", now: time(3))
        let transcriptID = try await chats.appendTranscript(
            owner: owner, title: "weather again", messages: [(.user, "q"), (.ai, "a"), (.user, "q2")], now: time(4))
        _ = try await chats.appendUserMessage(owner: minted, conversationID: nil, title: "minted", content: "x", now: time(5))

        // Whose is whose.
        await #expect(throws: StoreRules.conversationAccessDenied) {
            _ = try await chats.appendReply(owner: minted, conversationID: firstID, content: "x", now: time(6))
        }
        await #expect(throws: StoreRules.conversationAccessDenied) {
            _ = try await chats.detail(firstID, owner: ChatOwner(name: "bob", account: alice.id), limit: 10, offset: 0)
        }
        await #expect(throws: StoreRules.conversationNotFound) {
            _ = try await chats.recentMessages(987_654, owner: owner, limit: 5)
        }
        await #expect(throws: StoreRules.accountDeleted) {
            _ = try await chats.appendUserMessage(
                owner: ChatOwner(name: "ghost", account: 987_654), conversationID: nil, title: "t", content: "x", now: time(6))
        }

        // Lists: the owner's only, sorted both ways, paged, searched without case and with LIKE's wildcards literal.
        let newest = try await chats.list(owner: owner, try ConversationQuery())
        #expect(newest.total == 3 && newest.items.map(\.id) == [transcriptID, secondID, firstID], "\(backend)")
        #expect(newest.items.map(\.messageCount) == [3, 1, 2])
        #expect(newest.items[0].lastMessage?.content == "q2" && newest.items[2].lastMessage?.sender == .ai)
        let oldest = try await chats.list(owner: shouting, try ConversationQuery(sort: .updatedAt, order: .asc, limit: 2, offset: 1))
        #expect(oldest.items.map(\.id) == [secondID, transcriptID] && oldest.total == 3)
        #expect(try await chats.list(owner: owner, try ConversationQuery(search: "WEATHER")).items.map(\.id) == [transcriptID, firstID])
        #expect(try await chats.list(owner: owner, try ConversationQuery(search: "0%")).items.map(\.id) == [secondID])
        #expect(try await chats.list(owner: owner, try ConversationQuery(search: "_")).total == 0)
        #expect(try await chats.list(owner: minted, try ConversationQuery()).total == 1)

        // Details, recent messages, rename, delete.
        let detail = try await chats.detail(transcriptID, owner: owner, limit: 2, offset: 1)
        #expect(detail.conversation.title == "weather again" && detail.conversation.messageCount == 3)
        #expect(detail.messages.map(\.content) == ["a", "q2"])
        #expect(try await chats.recentMessages(transcriptID, owner: owner, limit: 2).map(\.content) == ["a", "q2"])
        let renamed = try await chats.rename(firstID, owner: owner, title: "Renamed", now: time(9))
        #expect(renamed.title == "Renamed" && renamed.updatedAt == time(9))
        #expect(try await chats.list(owner: owner, try ConversationQuery(sort: .updatedAt)).items.first?.id == firstID)
        try await chats.delete(secondID, owner: owner)
        await #expect(throws: StoreRules.conversationNotFound) { try await chats.delete(secondID, owner: owner) }
        #expect(try await chats.list(owner: owner, try ConversationQuery()).total == 2)

        // The account goes, and its conversations with it; the minted name's stays.
        try await store.users.delete("alice")
        #expect(try await chats.list(owner: owner, try ConversationQuery()).total == 0, "\(backend)")
        #expect(try await chats.list(owner: minted, try ConversationQuery()).total == 1)
    }
}
