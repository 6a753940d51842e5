import Foundation
import GRDB
import Synchronization
import Testing
import XalorraCore

/// Crash durability and concurrency, black-box: the real binary, a real server on a loopback port, a real SQLite file
/// in a temp home. What was acknowledged survives a SIGKILL, a batch is all-or-nothing, concurrent writers never see
/// a locked database.
@Suite(.serialized)
struct DurabilityTests {
    private static let serverArguments = ["--rate-limit", "off"]

    private func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The features client `client` sends as its `sequence`-th prediction, as the store writes them (`[3,17]`).
    private static func input(_ client: Int, _ sequence: Int) -> String { "[\(client),\(sequence)]" }

    /// Every prediction answered 200 before a SIGKILL is in the store, in `xalorra logs` and in the text log, once.
    @Test func answeredPredictionsSurviveSIGKILL() async throws {
        let server = try await LiveServer(arguments: Self.serverArguments)
        defer { server.stop() }
        let token = try server.token()
        let load = LoadGenerator(clients: 8) { client, sequence in
            let answer = try await server.request(
                "POST", "/predict/m", token: token, body: #"{"features":\#(Self.input(client, sequence))}"#)
            return (answer.status, answer.body)
        }
        // A second at full speed (and at least 100 answers), then the kill, with requests in flight.
        try await Task.sleep(for: .seconds(1))
        _ = try await load.wait(seconds: 20) { $0.count { $0.status == 200 } >= 100 }
        // No new request after this point, so every failure below is a request that was under way at the kill (a
        // cancellation racing the reset on a loaded machine could otherwise hide them all).
        load.stopStarting()
        server.crash()
        let outcomes = await load.stop()

        let answered = outcomes.filter { $0.status == 200 }
        #expect(answered.count >= 100, "too few predictions before the kill to prove anything")
        // Requests in flight at the kill fail on the cut connection.
        let cut = outcomes.filter { $0.status == nil && !$0.body.contains("CancellationError") }
        #expect(!cut.isEmpty, "no request was in flight when the server was killed")
        let refused = outcomes.filter { $0.status != 200 && $0.status != nil }
        #expect(refused.isEmpty, "\(refused.prefix(3))")
        for outcome in answered {
            #expect(try json(outcome.body)["prediction"] == .int(outcome.client + outcome.sequence))
        }
        let expected = Set(answered.map { Self.input($0.client, $0.sequence) })

        let restarted = try await LiveServer(arguments: Self.serverArguments, home: server.cli)
        defer { restarted.stop() }
        let home = restarted.cli.home
        let stored = try await StoreInspector.inputs(home, model: "m")
        let lost = expected.subtracting(stored)
        #expect(lost.isEmpty, "\(lost.count) answered but not stored, e.g. \(lost.sorted().prefix(10))")
        #expect(Set(stored).count == stored.count, "a prediction was stored twice")
        let consistency = try StoreInspector.consistency(home)
        #expect(consistency.integrity == "ok" && consistency.foreignKeyViolations == 0)

        // `xalorra logs`, a second process on the store the restarted server has open.
        var logged: [String] = []
        while true {
            let result = try restarted.cli.run(
                ["logs", "--json", "--model", "m", "--limit", "1000", "--offset", String(logged.count)])
            #expect(result.status == 0, "\(result.stderr)")
            let page = try json(result.stdout)
            guard case .array(let items)? = page["data"] else { break }
            logged += items.compactMap { $0["input"].map(JSONWriter.compact) }
            if page["pagination"]?["has_next"] != true || items.isEmpty { break }
        }
        #expect(expected.subtracting(logged).isEmpty, "\(expected.subtracting(logged).count) not in xalorra logs")
        #expect(logged.count == stored.count)

        // The text log is written after the commit and before the answer, so it has every answered line too.
        let text = try String(contentsOf: home.appendingPathComponent("logs/predictions.log"), encoding: .utf8)
        let lines = Set(text.split(separator: "\n").compactMap { line in
            line.range(of: "] ").map { String(line[$0.upperBound...]) }
        })
        let missing = answered.filter {
            !lines.contains("model=m input=[\($0.client), \($0.sequence)] prediction=\($0.client + $0.sequence)")
        }
        #expect(missing.isEmpty, "answered but not in predictions.log: \(missing.count)")

        // The restarted server goes on writing.
        let after = try await restarted.request("POST", "/predict/m", token: token, body: #"{"features":[1000,1]}"#)
        #expect(after.status == 200)
    }

    /// Every registration answered 201 and every chat message answered 200 (its reply, and a prediction made in
    /// the chat) survive a SIGKILL: the users log in, the conversations hold both messages.
    @Test func registrationsAndChatSurviveSIGKILL() async throws {
        let server = try await LiveServer(arguments: Self.serverArguments)
        defer { server.stop() }
        let chatters = try (0..<3).map { try server.token(["--user", "chatter\($0)"]) }
        let registrations = LoadGenerator(clients: 2) { client, sequence in
            let name = "dur_\(client)_\(sequence)"
            let body = #"{"username":"\#(name)","email":"\#(name)@example.com","nama_lengkap":"D \#(name)","#
                + #""password":"pw-\#(name)"}"#
            let answer = try await server.request("POST", "/users/register", body: body)
            return (answer.status, answer.body)
        }
        // Each chatter writes in one conversation (created by its first message); every third message predicts.
        let conversations = ConversationBook()
        let chats = LoadGenerator(clients: 3) { client, sequence in
            let text = sequence % 3 == 0 ? "predict chat \(client) \(sequence)" : "message \(client) \(sequence)"
            var members: [(String, JSONValue)] = [("message", .string(text))]
            if let id = conversations[client] { members.append(("conversation_id", .string(id))) }
            let answer = try await server.request(
                "POST", "/chat/message", token: chatters[client], body: JSONWriter.compact(.object(members)))
            if answer.status == 200, let id = try? json(answer.body)["data"]?["conversation_id"]?.stringValue {
                conversations[client] = id
            }
            return (answer.status, answer.body)
        }
        try await Task.sleep(for: .seconds(1))
        _ = try await registrations.wait(seconds: 30) { $0.count { $0.status == 201 } >= 3 }
        _ = try await chats.wait(seconds: 30) { $0.count { $0.status == 200 } >= 20 }
        server.crash()
        let registered = await registrations.stop(cancel: true)
        let chatted = await chats.stop(cancel: true)

        let users = registered.filter { $0.status == 201 }
        let replies = chatted.filter { $0.status == 200 }
        #expect(users.count >= 3 && replies.count >= 20, "too little before the kill: \(users.count), \(replies.count)")
        #expect(registered.allSatisfy { $0.status == 201 || $0.status == nil })
        #expect(chatted.allSatisfy { $0.status == 200 || $0.status == nil })

        let restarted = try await LiveServer(arguments: Self.serverArguments, home: server.cli)
        defer { restarted.stop() }
        // Every registered user logs in with the password it registered with (concurrently: bcrypt is slow).
        let logins = try await withThrowingTaskGroup(of: (String, Int, String?).self) { group in
            for user in users {
                let name = "dur_\(user.client)_\(user.sequence)"
                group.addTask {
                    let answer = try await restarted.request(
                        "POST", "/users/login", body: #"{"username":"\#(name)","password":"pw-\#(name)"}"#)
                    return (name, answer.status, try? self.json(answer.body)["data"]?["user"]?["username"]?.stringValue)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (name, status, username) in logins {
            #expect(status == 200 && username == name, "\(name) registered (201) but cannot log in: \(status)")
        }

        // Every answered message and its reply are in the conversation, the reply right after the message.
        for (client, token) in chatters.enumerated() {
            let mine = replies.filter { $0.client == client }
            guard let id = conversations[client], !mine.isEmpty else { continue }
            let detail = try await restarted.request("GET", "/chat/histories/\(id)?limit=500", token: token)
            #expect(detail.status == 200)
            guard case .array(let messages)? = try json(detail.body)["data"]?["messages"] else {
                Issue.record("no messages in \(detail.body.prefix(300))")
                continue
            }
            let ids = messages.compactMap { $0["id"]?.stringValue }
            for reply in mine {
                let data = try #require(try json(reply.body)["data"])
                let question = data["user_message"], answer = data["ai_message"]
                guard let at = ids.firstIndex(of: question?["id"]?.stringValue ?? "") else {
                    Issue.record("answered message \(reply.sequence) of chatter\(client) is not in \(id)")
                    continue
                }
                #expect(messages[at]["content"] == question?["content"])
                #expect(at + 1 < ids.count && ids[at + 1] == answer?["id"]?.stringValue, "reply missing after \(at)")
                #expect(at + 1 < ids.count && messages[at + 1]["content"] == answer?["content"])
            }
        }
        // A prediction answered inside a chat reply is in the store too.
        let predicted = replies.filter { $0.sequence % 3 == 0 }.map { Self.input($0.client, $0.sequence) }
        let stored = try await StoreInspector.inputs(restarted.cli.home, model: "chat")
        #expect(Set(predicted).subtracting(stored).isEmpty)
        let consistency = try StoreInspector.consistency(restarted.cli.home)
        #expect(consistency.integrity == "ok" && consistency.foreignKeyViolations == 0)
    }

    /// A CSV batch killed with SIGKILL at any point leaves all of its rows in the store or none, never a part.
    @Test func killedBatchIsAllOrNothing() async throws {
        let cli = try BinaryRunner()
        #expect(try cli.run(["predict", "warm", "1"]).status == 0)
        let rows = 300_000
        var csv = "a,b,c\n"
        csv.reserveCapacity(rows * 18)
        for index in 0..<rows { csv += "\(index),\(index % 97),\(index % 13)\n" }
        let file = try cli.write("big.csv", csv)
        let wal = cli.home.appendingPathComponent("xalorra.db-wal").path

        // Killed while it reads and predicts (before its transaction), then three times while it commits: when the
        // WAL starts to grow, and a quarter and two thirds into the commit's ~28 MB of WAL.
        let kills: [(name: String, delay: Double?, walBytes: Int)] = [
            ("after 0.5 s", 0.5, 0), ("when the WAL grew", nil, 1), ("7 MB into the WAL", nil, 7 << 20),
            ("18 MB into the WAL", nil, 18 << 20),
        ]
        var killed = 0
        for kill in kills {
            let before = try cli.storedPredictionCount()
            let walBefore = Self.fileSize(wal)
            let (process, out, err) = try cli.start(["predict", "big", "--file", file])
            // Its output comes after the commit; drained so that a finished batch never waits on a full pipe.
            async let drained = offThePool { out.fileHandleForReading.readDataToEndOfFile().count }
            let started = Date()
            while process.isRunning {
                if let delay = kill.delay, Date().timeIntervalSince(started) >= delay { break }
                if kill.delay == nil, Self.fileSize(wal) >= walBefore + kill.walBytes { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            _ = try await drained
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            if process.terminationReason == .uncaughtSignal {
                killed += 1
            } else {
                #expect(process.terminationStatus == 0, "\(stderr)")
            }
            let added = try cli.storedPredictionCount() - before
            #expect(added == 0 || added == rows, "a batch killed \(kill.name) left \(added) of \(rows) rows")
            let consistency = try StoreInspector.consistency(cli.home)
            #expect(consistency.integrity == "ok", "killed \(kill.name)")
        }
        #expect(killed >= 3, "the batch finished before most kills; make it larger")
        // The store takes writes after the kills.
        #expect(try cli.run(["predict", "after", "1"]).status == 0)
    }

    /// Four CLI processes write while the server is under HTTP load on the same store: every process exits 0,
    /// nothing reports a locked or busy store, and every row is there exactly once.
    @Test func cliWritersAndServerUnderLoad() async throws {
        let server = try await LiveServer(arguments: Self.serverArguments)
        let cli = server.cli
        let token = try server.token()
        let load = LoadGenerator(clients: 4) { client, sequence in
            let answer = try await server.request(
                "POST", "/predict/http", token: token, body: #"{"features":\#(Self.input(client, sequence))}"#)
            return (answer.status, answer.body)
        }
        let batchRows = 5_000
        let csv = try cli.write(
            "rows.csv", "a,b\n" + (0..<batchRows).map { "\($0),\($0 % 7)" }.joined(separator: "\n") + "\n")
        // Four lanes, each one CLI process after another: two run 5,000-row batches, two single predictions.
        let runs = [3, 12, 3, 12]
        let lanes = try await withThrowingTaskGroup(of: [BinaryRunner.Result].self) { group in
            for lane in 0..<4 {
                group.addTask {
                    try await offThePool {
                        try (0..<runs[lane]).map { run in
                            lane % 2 == 0
                                ? try cli.run(["predict", "cli", "--file", csv])
                                : try cli.run(["predict", "cli", String(lane), String(run)])
                        }
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        // The load ran throughout the writers; on a slow machine, let it reach a meaningful size before stopping
        // (the floor below is about the server having been loaded, not about its speed).
        _ = try await load.wait(seconds: 30) { $0.count >= 50 }
        let outcomes = await load.stop()
        let shutdown = server.stop()

        for result in lanes {
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!Self.mentionsLock(result.stderr), "\(result.stderr)")
        }
        #expect(!Self.mentionsLock(server.log.text), "\(server.log.text.suffix(2000))")
        #expect(shutdown == 0)
        let answered = outcomes.filter { $0.status == 200 }
        #expect(answered.count == outcomes.count, "\(outcomes.filter { $0.status != 200 }.prefix(3))")
        #expect(answered.count >= 50, "the server was barely loaded: \(answered.count) requests")
        let cliRows = (runs[0] + runs[2]) * batchRows + runs[1] + runs[3]
        let counts = try await StoreInspector.open(cli.home).read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(
                db, sql: "SELECT model, sum(row_count) AS n FROM predictions GROUP BY model"
            ).map { ($0["model"] as String, $0["n"] as Int) })
        }
        #expect(counts["http"] == answered.count)
        #expect(counts["cli"] == cliRows)
        #expect(try cli.storedPredictionCount() == answered.count + cliRows)
    }

    /// Four CLI processes that open a new store at the same moment all succeed: the loser of the race to create the
    /// schema does not fail on a table the winner just created (it did, one round in two, before the fix).
    @Test func concurrentFirstOpensOfANewStore() async throws {
        for round in 0..<6 {
            let cli = try BinaryRunner()
            let processes = try (0..<4).map { try cli.start(["predict", "first", String(round), String($0)]) }
            for (process, out, err) in processes {
                let stderr = try await offThePool {
                    _ = out.fileHandleForReading.readDataToEndOfFile()
                    return String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                }
                process.waitUntilExit()
                #expect(process.terminationStatus == 0, "round \(round): \(stderr)")
            }
            #expect(try cli.storedPredictionCount() == 4)
        }
    }

    /// A connection that finds another process holding the store's lock tries again every 100 µs at first, and
    /// still gives up after ``AppDatabase/busyTimeoutSeconds``. SQLite's own busy timeout slept 1, 2, 5 ms… between
    /// tries, so a server's commit behind a 1 ms transaction of `logs prune` slept 8 ms (`bench/prune.sh`).
    @Test func busyWaitsAreShortAndEndAtTheTimeout() {
        var total = Duration.zero
        var tries = 0
        while let wait = AppDatabase.busyWait(afterTries: tries) {
            if tries < 200 { #expect(wait <= .microseconds(100), "try \(tries)") }
            #expect(wait <= .milliseconds(2))
            total += wait
            tries += 1
        }
        let timeout = Duration.seconds(AppDatabase.busyTimeoutSeconds)
        #expect(total <= timeout && total > timeout - .milliseconds(5), "\(total)")
    }

    private static func mentionsLock(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.contains("locked") || lower.contains("busy")
    }

    /// The size of the file at `path`, 0 when there is none (`stat`: polled every millisecond).
    private static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }
}

/// The conversation each chat client writes in, shared by its requests.
private final class ConversationBook: Sendable {
    private let ids = Mutex<[Int: String]>([:])

    subscript(client: Int) -> String? {
        get { ids.withLock { $0[client] } }
        set { ids.withLock { $0[client] = newValue } }
    }
}
