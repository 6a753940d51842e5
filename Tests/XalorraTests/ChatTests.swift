import Foundation
import GRDB
import Testing
import XalorraCore

/// The Aksara chat API on a live server, the built-in and `openai` responders, and `xalorra chat`.
@Suite(.serialized)
struct ChatTests {
    private func json(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }
    private func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    private func send(
        _ server: LiveServer, _ token: String, _ message: String, conversation: String? = nil, stream: Bool = false
    ) async throws -> (status: Int, json: JSONValue, raw: String, contentType: String) {
        var members: [(String, JSONValue)] = [("message", .string(message))]
        if let conversation { members.append(("conversation_id", .string(conversation))) }
        if stream { members.append(("stream", true)) }
        let answer = try await server.request("POST", "/chat/message", token: token, body: body(members))
        return (
            answer.status, (try? json(answer.body)) ?? .null, answer.body,
            answer.headers.first(name: "Content-Type") ?? ""
        )
    }

    private func errorMessage(_ value: JSONValue) -> String? { value["error"]?["message"]?.stringValue }

    /// Every documented code and message of the chat routes, with the built-in responder.
    @Test func chatRoutes() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let alice = try server.token(["--user", "alice"])
        let bob = try server.token(["--user", "bob"])

        let first = try await send(server, alice, "  What is   a gradient\nboosted tree, and why is it so popular?  ")
        #expect(first.status == 200 && first.json["message"] == "Message sent successfully")
        let data = try #require(first.json["data"])
        let id = try #require(data["conversation_id"]?.stringValue)
        #expect(id.hasPrefix("conv_") && data["message_id"]?.stringValue?.hasPrefix("msg_") == true)
        #expect(data["response"] == data["ai_message"]?["content"] && data["ai_message"]?["id"] == data["message_id"])
        #expect(data["user_message"]?["content"]?.stringValue?.hasPrefix("  What is") == true)
        let second = try await send(server, alice, "and then?", conversation: id)
        #expect(second.json["data"]?["conversation_id"]?.stringValue == id)
        #expect(second.json["data"]?["response"]?.stringValue?.contains("2 messages from you") == true)

        #expect(errorMessage(try await send(server, alice, "x", conversation: "conv_999999").json) == "Conversation not found")
        #expect(try await send(server, alice, "x", conversation: "nonsense").status == 404)
        let foreign = try await send(server, bob, "mine now", conversation: id)
        #expect(foreign.status == 403 && errorMessage(foreign.json) == "Access denied to this conversation")
        let blank = try await send(server, alice, "   \n ")
        #expect(blank.status == 400 && errorMessage(blank.json) == "Message cannot be empty")
        // Characters, not bytes: 4,000 two-byte characters pass, 4,001 ASCII do not.
        #expect(try await send(server, alice, String(repeating: "é", count: 4000)).status == 200)
        let long = try await send(server, alice, String(repeating: "a", count: 4001))
        #expect(long.status == 422 && long.raw.contains("\"field\":\"message\""))
        let missing = try await server.request("POST", "/chat/message", token: alice, body: "{}")
        #expect(missing.status == 422 && missing.body.contains("Message is required"))

        // The title is the first message on one line, cut to 50 characters.
        let detail = try json(try await server.request("GET", "/chat/histories/\(id)", token: alice).body)
        #expect(detail["message"] == "Conversation retrieved successfully")
        #expect(detail["data"]?["title"] == "What is a gradient boosted tree, and why is it...")
        #expect(detail["data"]?["message_count"] == 4)
        let senders = detail["data"]?["messages"]?.arrayValue?.compactMap { $0["sender"]?.stringValue }
        #expect(senders == ["user", "ai", "user", "ai"])
        let paged = try json(try await server.request("GET", "/chat/histories/\(id)?limit=1&offset=2", token: alice).body)
        #expect(paged["data"]?["messages"]?.arrayValue?.first?["content"] == "and then?" && paged["data"]?["message_count"] == 4)
        #expect(try await server.request("GET", "/chat/histories/\(id)", token: bob).status == 403)

        let renamed = try await server.request(
            "PUT", "/chat/histories/\(id)/title", token: alice, body: body([("title", "  Trees  ")]))
        let renamedBody = try json(renamed.body)
        #expect(renamed.status == 200 && renamedBody["message"] == "Conversation title updated successfully")
        #expect(renamedBody["data"]?["title"] == "Trees" && renamedBody["data"]?["id"] == .string(id))
        let tooLong = try await server.request(
            "PUT", "/chat/histories/\(id)/title", token: alice, body: body([("title", .string(String(repeating: "t", count: 201)))]))
        #expect(tooLong.status == 422 && tooLong.body.contains("Title must be 1-200 characters"))

        #expect(try await server.request("DELETE", "/chat/histories/\(id)", token: bob).status == 403)
        #expect(try await server.request("DELETE", "/chat/histories/\(id)", token: alice).status == 204)
        #expect(try await server.request("GET", "/chat/histories/\(id)", token: alice).status == 404)
        #expect(try await server.request("DELETE", "/chat/histories/\(id)", token: alice).status == 404)
        // The delete cascaded to the messages.
        let queue = try DatabaseQueue(path: server.cli.home.appendingPathComponent("xalorra.db").path)
        let orphans = try await queue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE conversation_id = ?", arguments: [Int(id.dropFirst(5))])
        }
        #expect(orphans == 0)
    }

    /// Pagination, search, sort and order of `GET /chat/histories`; out-of-range values are 422s, not clamped.
    @Test func historiesListing() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token(["--user", "lister"])
        var ids: [String] = []
        for title in ["alpha report", "beta notes", "alpha 100% sure", "gamma"] {
            ids.append(try #require(try await send(server, token, title).json["data"]?["conversation_id"]?.stringValue))
        }
        _ = try await send(server, token, "bump", conversation: ids[0])
        func list(_ query: String) async throws -> JSONValue {
            try json(try await server.request("GET", "/chat/histories\(query)", token: token).body)
        }
        func titles(_ page: JSONValue) -> [String] {
            page["data"]?.arrayValue?.compactMap { $0["title"]?.stringValue } ?? []
        }
        #expect(titles(try await list("")) == ["gamma", "alpha 100% sure", "beta notes", "alpha report"])
        #expect(titles(try await list("?sort=updated_at"))[0] == "alpha report")
        #expect(titles(try await list("?order=asc")) == ["alpha report", "beta notes", "alpha 100% sure", "gamma"])
        #expect(titles(try await list("?search=alpha")) == ["alpha 100% sure", "alpha report"])
        #expect(titles(try await list("?search=100%25")) == ["alpha 100% sure"], "% is literal, not a wildcard")
        let page = try await list("?limit=2&offset=1")
        #expect(titles(page) == ["alpha 100% sure", "beta notes"])
        #expect(page["pagination"]?["total"] == 4 && page["pagination"]?["has_next"] == true && page["pagination"]?["has_prev"] == true)
        let first = try #require(try await list("?sort=updated_at").arrayValue(at: "data")?.first)
        #expect(first["message_count"] == 4 && first["last_message"]?["sender"] == "ai")
        for bad in ["?limit=0", "?limit=101", "?offset=-1", "?sort=title", "?order=up", "?limit=x"] {
            let answer = try await server.request("GET", "/chat/histories\(bad)", token: token)
            #expect(answer.status == 422, "\(bad): \(answer.body)")
        }
        let other = try server.token(["--user", "someone_else"])
        #expect(try json(try await server.request("GET", "/chat/histories", token: other).body)["pagination"]?["total"] == 0)
    }

    /// `predict MODEL …` in a chat runs as the user and lands in the prediction log; streaming sends the reply in
    /// pieces and then the saved ids.
    @Test func builtinPredictAndStreaming() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token(["--user", "pat", "--tenant", "t5"])
        let answer = try await send(server, token, "predict chat-model 1 2 3.5")
        #expect(answer.json["data"]?["response"]?.stringValue?.contains("chat-model predicts 6.5") == true)
        let logs = try json(try await server.request("GET", "/logs?model=chat-model", token: token).body)
        #expect(logs["data"]?.arrayValue?.first?["user_id"] == "pat" && logs["data"]?.arrayValue?.first?["tenant"] == "t5")

        let streamed = try await send(server, token, "help", stream: true)
        #expect(streamed.status == 200 && streamed.contentType.hasPrefix("text/event-stream"))
        let events = streamed.raw.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map {
            (try? JSONParser.parse(Array($0.dropFirst(6).utf8))) ?? .null
        }
        let deltas = events.compactMap { $0["delta"]?.stringValue }
        #expect(deltas.count > 5)
        let done = try #require(events.last)
        #expect(done["done"] == true && done["conversation_id"]?.stringValue?.hasPrefix("conv_") == true)
        #expect(deltas.joined() == done["response"]?.stringValue)
        let refused = try await send(server, token, "x", conversation: "conv_424242", stream: true)
        #expect(refused.status == 404 && refused.contentType.hasPrefix("application/json"))
    }

    /// The `openai` responder against a stub server: history and system prompt sent, streamed and whole answers,
    /// and every failure a 503 that keeps the user's message and the conversation.
    @Test func openAIResponder() async throws {
        let stub = try await StubAI()
        defer { stub.stop() }
        let environment = [
            // Room for a loaded machine where the answer comes; the broken backends below get 1 s.
            "XALORRA_CHAT_URL": stub.url + "/v1", "XALORRA_CHAT_MODEL": "echo", "XALORRA_CHAT_TIMEOUT": "15s",
            "XALORRA_CHAT_SYSTEM_PROMPT": "Be brief.",
        ]
        let server = try await LiveServer(environment: environment, arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token(["--user", "olga"])
        let first = try await send(server, token, "hello model")
        #expect(first.json["data"]?["response"] == "Echo: hello model", "\(first.raw)")
        let id = try #require(first.json["data"]?["conversation_id"]?.stringValue)
        let streamed = try await send(server, token, "second", conversation: id, stream: true)
        #expect(streamed.raw.contains("{\"delta\":\"Echo: \"}") && streamed.raw.contains("\"response\":\"Echo: second\""))
        let roles = stub.messages(1).compactMap { $0["role"]?.stringValue }
        #expect(roles == ["system", "user", "assistant", "user"])
        #expect(stub.messages(1).first?["content"] == "Be brief.")
        let health = try json(try await server.request("GET", "/health/detailed").body)
        #expect(health["dependencies"]?["ai_service"]?["status"] == "available")
        #expect(health["dependencies"]?["ai_service"]?["backend"] == "openai")

        for model in ["plain"] {
            let other = try await LiveServer(environment: environment.merging(["XALORRA_CHAT_MODEL": model]) { $1 })
            defer { other.stop() }
            let answer = try await send(other, try other.token(), "whole")
            #expect(answer.json["data"]?["response"] == "Echo: whole", "\(model): \(answer.raw)")
        }
        for model in ["fail", "garbage", "slow", "empty"] {
            let broken = try await LiveServer(
                environment: environment.merging(["XALORRA_CHAT_MODEL": model, "XALORRA_CHAT_TIMEOUT": "1s"]) { $1 })
            defer { broken.stop() }
            let user = try broken.token(["--user", "una"])
            let started = Date()
            let answer = try await send(broken, user, "are you there?")
            #expect(answer.status == 503 && answer.json["error"]?["code"] == "AI_SERVICE_UNAVAILABLE", "\(model): \(answer.raw)")
            #expect(Date().timeIntervalSince(started) < 2.5, "\(model) took \(Date().timeIntervalSince(started)) s")
            let streamed = try await send(broken, user, "again?", stream: true)
            #expect(streamed.status == 503, "\(model) streamed: \(streamed.raw)")
            // The messages were saved and the conversation stays usable.
            let list = try json(try await broken.request("GET", "/chat/histories", token: user).body)
            let conversation = try #require(list["data"]?.arrayValue?.last?["id"]?.stringValue)
            let detail = try json(try await broken.request("GET", "/chat/histories/\(conversation)", token: user).body)
            #expect(detail["data"]?["messages"]?.arrayValue?.map { $0["sender"] } == ["user"])
            let renamed = try await broken.request(
                "PUT", "/chat/histories/\(conversation)/title", token: user, body: body([("title", "still here")]))
            #expect(renamed.status == 200)
        }
        let down = try await LiveServer(
            environment: environment.merging(["XALORRA_CHAT_URL": "http://127.0.0.1:9", "XALORRA_CHAT_TIMEOUT": "1s"]) { $1 })
        defer { down.stop() }
        #expect(try await send(down, try down.token(), "anyone?").status == 503)
        let report = try json(try await down.request("GET", "/health/detailed").body)
        #expect(report["dependencies"]?["ai_service"]?["status"] == "unavailable")
    }

    /// `xalorra chat` prints the same offline and remote; -c/--last continue; piped lines are one conversation.
    @Test func cliOfflineAndRemote() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        let cli = server.cli
        let remote = ["--url", server.url, "--token", try server.token()]
        let offline = try cli.run(["chat", "predict m 2 3"])
        let online = try cli.run(["chat", "predict m 2 3"] + remote)
        #expect(offline.status == 0 && offline.stdout == online.stdout, "\(offline)\n\(online)")
        #expect(offline.stdout.contains("m predicts 5"))
        let next = try cli.run(["chat", "--last", "again"] + remote)
        #expect(next.stdout.contains("2 messages from you") && next.stderr.contains("[conv_2]"), "\(next)")
        let piped = try cli.run(["chat"], stdin: Data("one\ntwo\n\nthree\n".utf8))
        #expect(piped.stdout.contains("3 messages from you") && piped.stderr.components(separatedBy: "[conv_3]").count == 4)
        let list = try cli.run(["chat", "list", "--sort", "updated_at"])
        let listed = try cli.run(["chat", "list", "--sort", "updated_at"] + remote)
        #expect(list.stdout == listed.stdout && list.stdout.contains("conv_3"), "\(list.stdout)\n\(listed.stdout)")
        let exported = try cli.run(["chat", "export", "conv_3", "--format", "md"] + remote)
        #expect(exported.stdout.hasPrefix("# one\n") && exported.stdout.contains("**You**"))
        let json = try cli.run(["chat", "export", "conv_3", "--format", "json"])
        #expect(try JSONParser.parse(json.stdout)["message_count"] == 6)
        #expect(try cli.run(["chat", "rename", "conv_3", "Numbers"] + remote).stdout.contains("\"Numbers\""))
        let missing = try cli.run(["chat", "show", "conv_99"] + remote)
        #expect(missing.status == 1 && missing.stderr.contains("Conversation not found"))
        #expect(try cli.run(["chat", "delete", "conv_3"]).status == 0)
        #expect(try cli.run(["chat", "show", "conv_3"]).status == 1)
    }

    /// `chat` alone on a terminal is a session: streamed replies, /title, /new, /exit; and `users add` asks for
    /// the password twice without echo.
    @Test func interactiveSessionsUnderAPseudoTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "CI must have util-linux's script")
            return
        }
        let cli = try BinaryRunner()
        /// Runs `command` on a pseudo-terminal, typing `input` after `delay` (typed ahead, the terminal would echo a
        /// password before the program turns echo off, as a real one would).
        func underTTY(_ command: String, input: String, delay: Double = 0) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qec", "\(BinaryRunner.binary.path) \(command)", "/dev/null"]
            process.environment = cli.processEnvironment(["TERM": "dumb"])
            let out = Pipe(), into = Pipe()
            process.standardOutput = out
            process.standardInput = into
            try process.run()
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            into.fileHandleForWriting.write(Data(input.utf8))
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let session = try underTTY("chat", input: "hello\n/title Greetings\nsecond\n/new\nthird\n/exit\n")
        #expect(session.contains("you> ") && session.contains("ai> You said: \"hello\""), "\(session)")
        #expect(session.contains("(titled \"Greetings\")") && session.contains("2 messages from you"), "\(session)")
        let titles = try cli.run(["chat", "list"]).stdout
        #expect(titles.contains("Greetings") && titles.contains("third"), "\(titles)")

        let added = try underTTY(
            "users add tty_user --email tty@x.io --name TTY", input: "rahasia1\nrahasia1\n", delay: 1)
        #expect(added.contains("Password for tty_user:") && added.contains("Again:"), "\(added)")
        #expect(!added.contains("rahasia1"), "the password was echoed: \(added)")
        #expect(try cli.run(["users", "show", "tty_user"]).status == 0)
    }
}

extension JSONValue {
    fileprivate func arrayValue(at key: String) -> [JSONValue]? { self[key]?.arrayValue }
}
