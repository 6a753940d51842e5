import Foundation
import Hummingbird
import NIOCore
import Synchronization
import Testing
import XalorraClient
import XalorraCore

/// The OpenAI API's chat (`GET /v1/models`, `POST /v1/chat/completions`): answers, streams, error objects, storage
/// as the caller's conversation, and the gateway in front of an upstream OpenAI-compatible server.
@Suite(.serialized)
struct OpenAICompatibilityTests {
    private static func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    private static func user(_ text: String) -> JSONValue { message("user", .string(text)) }

    private static func message(_ role: String, _ content: JSONValue) -> JSONValue {
        .object([("role", .string(role)), ("content", content)])
    }

    /// A completion request for `model` with `messages`, and more members.
    private static func completion(
        _ messages: [JSONValue], model: String = "xalorra-builtin", _ more: [(String, JSONValue)] = []
    ) -> String {
        body([("model", .string(model)), ("messages", .array(messages))] + more)
    }

    /// The `data:` of each event of an SSE body, in order.
    private static func events(_ text: String) -> [String] {
        text.components(separatedBy: "\n\n").compactMap { block in
            block.split(separator: "\n").first { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
        }
    }

    /// Expects an OpenAI error object with `status`, `code` and `param`.
    private static func expectOpenAIError(
        _ status: Int, _ text: String, _ expected: Int, code: String, param: String?,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(status == expected, "\(status) \(text)", sourceLocation: sourceLocation)
        guard let json = try? JSONParser.parse(text) else {
            Issue.record("not JSON: \(text)", sourceLocation: sourceLocation)
            return
        }
        #expect(SchemaCheck.problems(json, Schema.openAIError).isEmpty, "\(text)", sourceLocation: sourceLocation)
        #expect(json["error"]?["code"]?.stringValue == code, "\(text)", sourceLocation: sourceLocation)
        #expect(json["error"]?["param"]?.stringValue == param, "\(text)", sourceLocation: sourceLocation)
        #expect(json["timestamp"] == nil, "an envelope member: \(text)", sourceLocation: sourceLocation)
    }

    // MARK: Router level

    /// `GET /v1/models` lists the built-in responder's model, in OpenAI's list shape.
    @Test func modelsListTheResponder() async throws {
        try await RouterHarness.run { app in
            let answer = try await app.send(.chatModels, token: try await app.token())
            let json = app.expectSuccess(answer, of: .chatModels)
            #expect(json["object"] == "list")
            #expect(json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["xalorra-builtin"], "\(answer)")
            #expect(json["data"]?.arrayValue?.first?["owned_by"] == "xalorra")
            // One model by name (the SDKs' `models.retrieve`); another name is OpenAI's 404 `model_not_found`.
            let one = try await app.send(.chatModel, "xalorra-builtin", token: try await app.token())
            #expect(app.expectSuccess(one, of: .chatModel)["id"] == "xalorra-builtin")
            let other = try await app.send(.chatModel, "gpt-4o", token: try await app.token())
            #expect(other.status == 404 && other.json?["error"]?["code"] == "model_not_found", "\(other)")
            // A name is quoted up to 100 characters, not echoed whole.
            let long = try await app.send(.chatModel, String(repeating: "b", count: 20_000), token: try await app.token())
            #expect(long.status == 404 && long.text.utf8.count < 1_000, "\(long.text.utf8.count) bytes")
        }
    }

    /// The built-in responder quotes a long message by its first 200 characters: it streams a word at a time, and a
    /// 960 KB message echoed whole made 480,000 events that a client not reading held in the server's memory
    /// (hundreds of MB per request).
    @Test func longMessagesAreQuotedShort() async throws {
        try await RouterHarness.run { app in
            let long = String(repeating: "a ", count: 50_000)
            let answer = try await app.send(
                .chatCompletions, token: try await app.token("ana"),
                body: Self.completion([Self.user(long)], [("stream", true)]))
            #expect(answer.status == 200)
            let events = answer.text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: ") }
            #expect(events.count < 150 && answer.text.utf8.count < 60_000, "\(events.count) events")
            #expect(answer.text.contains("…"))
        }
    }

    /// A whole completion: the `chat.completion` object, usage in words, and the call stored as a conversation of
    /// the caller (its user and assistant messages and the reply), which another user neither lists nor reads.
    @Test func completionIsAnsweredAndStoredForItsOwner() async throws {
        try await RouterHarness.run { app in
            let ana = try await app.token("ana")
            let messages: [JSONValue] = [
                .object([("role", "system"), ("content", "Be brief.")]),
                Self.user("first question"),
                .object([("role", "assistant"), ("content", "first answer")]),
                .object([("role", "user"), ("content", .array([
                    .object([("type", "text"), ("text", "second")]), .object([("type", "text"), ("text", "part")]),
                ]))]),
            ]
            let answer = try await app.send(
                .chatCompletions, token: ana,
                body: Self.completion(
                    messages, [("temperature", .number(.double(0.2))), ("max_tokens", 50), ("user", "x")]))
            let json = app.expectSuccess(answer, of: .chatCompletions)
            #expect(json["object"] == "chat.completion")
            let choice = json["choices"]?.arrayValue?.first
            let reply = try #require(choice?["message"]?["content"]?.stringValue)
            #expect(reply.hasPrefix("You said: \"second\npart\""), "\(reply)")
            #expect(choice?["message"]?["role"] == "assistant" && choice?["finish_reason"] == "stop")
            // Words: "Be brief." 2, "first question" 2, "first answer" 2, "second\npart" 2.
            #expect(json["usage"]?["prompt_tokens"] == 8, "\(answer)")
            #expect(json["usage"]?["completion_tokens"] == .int(ChatUsage.words(reply)))
            let conversation = try #require(json["conversation_id"]?.stringValue)
            #expect(json["id"]?.stringValue == "chatcmpl-\(conversation)")

            let detail = try await app.send(.conversation, conversation, token: ana)
            let stored = detail.json?["data"]?["messages"]?.arrayValue ?? []
            #expect(stored.map { $0["sender"] } == ["user", "ai", "user", "ai"], "\(detail)")
            let contents = stored.map { $0["content"]?.stringValue ?? "" }
            #expect(contents == ["first question", "first answer", "second\npart", reply])
            #expect(detail.json?["data"]?["title"] == "first question")
            let listed = try await app.send(.conversations, token: ana)
            #expect(listed.json?["data"]?.arrayValue?.map { $0["id"] } == [.string(conversation)])

            let bob = try await app.token("bob")
            #expect(try await app.send(.conversations, token: bob).json?["data"]?.arrayValue?.isEmpty == true)
            app.expectFailure(
                try await app.send(.conversation, conversation, token: bob), of: .conversation, .insufficientPermissions)
        }
    }

    /// `"stream": true`: `chat.completion.chunk` events (the role first, then the text, then the finish reason), the
    /// usage chunk when asked for, then `[DONE]`; the text is the whole answer's.
    @Test func streamedCompletion() async throws {
        try await RouterHarness.run { app in
            let token = try await app.token()
            let whole = try await app.send(.chatCompletions, token: token, body: Self.completion([Self.user("help")]))
            let expected = whole.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
            let answer = try await app.send(
                .chatCompletions, token: token,
                body: Self.completion(
                    [Self.user("help")], [("stream", true), ("stream_options", .object([("include_usage", true)]))]))
            #expect(answer.status == 200 && answer.header("Content-Type") == "text/event-stream", "\(answer)")
            let events = Self.events(answer.text)
            #expect(events.last == "[DONE]", "\(answer)")
            let chunks = try events.dropLast().map { try JSONParser.parse($0) }
            #expect(chunks.allSatisfy { $0["object"] == "chat.completion.chunk" && $0["id"] == chunks.first?["id"] })
            let choices = chunks.map { $0["choices"]?.arrayValue ?? [] }
            #expect(choices.first?.first?["delta"]?["role"] == "assistant", "\(answer)")
            #expect(chunks.first?["conversation_id"]?.stringValue?.hasPrefix("conv_") == true)
            let text = choices.compactMap { $0.first?["delta"]?["content"]?.stringValue }.joined()
            #expect(text == expected && !text.isEmpty, "\(text)")
            #expect(choices.dropLast().last?.first?["finish_reason"] == "stop", "\(answer)")
            #expect(choices.last?.isEmpty == true && chunks.last?["usage"]?["completion_tokens"] != nil, "\(answer)")
            // Without include_usage there is no usage chunk.
            let plain = try await app.send(
                .chatCompletions, token: token, body: Self.completion([Self.user("help")], [("stream", true)]))
            let plainEvents = Self.events(plain.text)
            #expect(plainEvents.last == "[DONE]" && !plain.text.contains("\"usage\""), "\(plain)")
        }
    }

    /// Bodies OpenAI's API refuses are 400s in its error object naming the member (`param`), unknown models 404
    /// `model_not_found`; none stores anything.
    @Test func refusedBodies() async throws {
        try await RouterHarness.run { app in
            let token = try await app.token()
            let hello = Self.user("hello")
            let cases: [(String, Int, String, String?)] = [
                ("{", 400, "validation_error", "body"),
                ("[]", 400, "validation_error", nil),
                (Self.body([("messages", .array([hello]))]), 400, "validation_error", "model"),
                (Self.body([("model", "xalorra-builtin")]), 400, "validation_error", "messages"),
                (Self.completion([]), 400, "validation_error", "messages"),
                (Self.body([("model", "xalorra-builtin"), ("messages", hello)]), 400, "validation_error", "messages"),
                (Self.completion([Self.message("tool", "x")]), 400, "validation_error", "messages[0].role"),
                (Self.completion([.object([("content", "x")])]), 400, "validation_error", "messages[0].role"),
                (Self.completion([Self.message("system", "x")]), 400, "validation_error", "messages"),
                (Self.completion([Self.message("user", .null)]), 400, "validation_error", "messages[0].content"),
                (Self.completion([Self.message("user", "a\u{0}b")]), 400, "validation_error", "messages[0].content"),
                (Self.completion([.object([("role", "user"), ("content", .array([
                    .object([("type", "image_url"), ("image_url", .object([("url", "http://x/y.png")]))]),
                ]))])]), 400, "validation_error", "messages[0].content[0].type"),
                (Self.completion([hello], [("n", 2)]), 400, "validation_error", "n"),
                (Self.completion([hello], [("stream", "yes")]), 400, "validation_error", "stream"),
                (Self.completion([hello], [("stream_options", .object([("include_usage", 1)]))]), 400, "validation_error",
                    "stream_options.include_usage"),
                (Self.completion([hello], [("tools", .array([.object([("type", "function")])]))]), 400,
                    "validation_error", "tools"),
                (Self.completion([hello], model: "gpt-4o"), 404, "model_not_found", "model"),
            ]
            for (body, status, code, param) in cases {
                let answer = try await app.send(.chatCompletions, token: token, body: body)
                Self.expectOpenAIError(answer.status, answer.text, status, code: code, param: param)
            }
            let unsupported = try await app.send(.chatCompletions, token: token, body: cases[11].0)
            #expect(unsupported.text.contains("image_url"), "the message names the part's type: \(unsupported)")
            #expect(try await app.send(.conversations, token: token).json?["data"]?.arrayValue?.isEmpty == true)
            // n: 1 and unknown members are fine.
            let fine = try await app.send(
                .chatCompletions, token: token, body: Self.completion([hello], [("n", 1), ("logit_bias", .object([]))]))
            #expect(fine.status == 200, "\(fine)")
        }
    }

    /// Refusals before the handler (no or bad token, unknown `/v1` path, wrong method, rate limit) are OpenAI error
    /// objects too, with the usual statuses and fields.
    @Test func earlyRefusalsAreOpenAIErrors() async throws {
        try await RouterHarness.run(environment: ["XALORRA_RATE_LIMIT": "on"]) { app in
            let request = Self.completion([Self.user("hi")])
            let anonymous = try await app.send(.chatCompletions, body: request)
            Self.expectOpenAIError(anonymous.status, anonymous.text, 401, code: "invalid_api_key", param: nil)
            #expect(anonymous.json?["error"]?["type"] == "authentication_error")
            let forged = try await app.send(.chatModels, token: "not.a.token")
            Self.expectOpenAIError(forged.status, forged.text, 401, code: "invalid_api_key", param: nil)
            let token = try await app.token()
            let unknown = try await app.request("GET", "/v1/embeddings", token: token)
            Self.expectOpenAIError(unknown.status, unknown.text, 404, code: "resource_not_found", param: nil)
            let wrong = try await app.request("DELETE", "/v1/models", token: token)
            Self.expectOpenAIError(wrong.status, wrong.text, 405, code: "method_not_allowed", param: nil)
            #expect(wrong.header("Allow") == "GET", "\(wrong)")
            // The chat budget: 30 a minute.
            var last: RouterHarness.Answer?
            for _ in 0..<31 { last = try await app.send(.chatCompletions, token: token, body: request) }
            let limited = try #require(last)
            Self.expectOpenAIError(limited.status, limited.text, 429, code: "rate_limit_exceeded", param: nil)
            #expect(limited.json?["error"]?["type"] == "requests" && limited.header("Retry-After") != nil, "\(limited)")
            // Elsewhere the envelope stays.
            let envelope = try await app.request("GET", "/nope", token: token)
            #expect(envelope.json?["error"]?["code"] == "RESOURCE_NOT_FOUND", "\(envelope)")
        }
    }

    /// The operation through `LocalAPI`: deltas as the reply is written, the same completion as over HTTP.
    @Test func localOperationStreamsDeltas() async throws {
        try await RouterHarness.run { app in
            let pieces = CompletionPieces()
            let completion = try await app.operatorAPI.chatCompletion(
                ChatCompletionRequest(model: "xalorra-builtin", messages: [.init(.user, "help")])
            ) { delta in pieces.add(delta) }
            #expect(pieces.all.map(\.content).joined() == completion.content && pieces.all.count > 1)
            #expect(pieces.all.allSatisfy { $0.id == completion.id && $0.conversationID == completion.conversationID })
            let detail = try await app.operatorAPI.conversation(
                ChatID.conversation(completion.conversationID), limit: 10, offset: 0)
            #expect(detail.messages.map(\.content) == ["help", completion.content])
        }
    }

    // MARK: Live

    /// A gateway in front of an upstream OpenAI-compatible server: the operator's system prompt first, then the
    /// caller's system and developer messages in their places (developer sent as system), the sampling options
    /// passed on; whole and streamed answers; `/v1/models` names the upstream's model; the call logged in /metrics;
    /// an upstream failure a 503 error object that keeps the request's messages.
    @Test func gatewayToAnUpstream() async throws {
        let stub = try await StubAI()
        defer { stub.stop() }
        let environment = [
            "XALORRA_CHAT_URL": stub.url + "/v1", "XALORRA_CHAT_MODEL": "echo", "XALORRA_CHAT_TIMEOUT": "15s",
            "XALORRA_CHAT_SYSTEM_PROMPT": "Be brief.",
        ]
        let server = try await LiveServer(environment: environment, arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token(["--user", "olga"])
        let models = try await server.request("GET", "/v1/models", token: token)
        #expect(try JSONParser.parse(models.body)["data"]?.arrayValue?.map { $0["id"] } == ["echo"], "\(models.body)")

        let messages: [JSONValue] = [
            .object([("role", "system"), ("content", "You are terse.")]), Self.user("hello"),
            .object([("role", "assistant"), ("content", "hi")]),
            .object([("role", "developer"), ("content", "Answer in English.")]), Self.user("how are you"),
        ]
        let whole = try await server.request(
            "POST", "/v1/chat/completions", token: token,
            body: Self.completion(messages, model: "echo", [("temperature", .number(.double(0.5))), ("seed", 7)]))
        let json = try JSONParser.parse(whole.body)
        #expect(json["choices"]?.arrayValue?.first?["message"]?["content"] == "Echo: how are you", "\(whole.body)")
        #expect(json["usage"] == nil, "the stub sends no usage: \(whole.body)")
        let sent = stub.messages(0)
        let roles = sent.compactMap { $0["role"]?.stringValue }
        #expect(roles == ["system", "system", "user", "assistant", "system", "user"], "\(sent)")
        let contents = sent.compactMap { $0["content"]?.stringValue }
        #expect(contents == ["Be brief.", "You are terse.", "hello", "hi", "Answer in English.", "how are you"])
        let upstream = stub.requests.withLock { $0.first }
        #expect(
            upstream?["temperature"] == .number(.double(0.5)) && upstream?["seed"] == 7, "\(String(describing: upstream))")
        #expect(upstream?["stream_options"]?["include_usage"] == true)

        let streamed = try await server.request(
            "POST", "/v1/chat/completions", token: token,
            body: Self.completion(
                [Self.user("again")], model: "echo",
                [("stream", true), ("stream_options", .object([("include_usage", true)]))]))
        let events = Self.events(streamed.body)
        #expect(events.last == "[DONE]", "\(streamed.body)")
        let chunks = events.dropLast().compactMap { try? JSONParser.parse($0) }
        let text = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
        #expect(text == "Echo: again", "\(streamed.body)")
        #expect(chunks.last?["choices"]?.arrayValue?.isEmpty == true && chunks.last?["usage"] == .null)

        let unknown = try await server.request(
            "POST", "/v1/chat/completions", token: token, body: Self.completion([Self.user("x")], model: "llama3"))
        Self.expectOpenAIError(unknown.status, unknown.body, 404, code: "model_not_found", param: "model")

        let list = try JSONParser.parse(try await server.request("GET", "/chat/histories", token: token).body)
        #expect(list["data"]?.arrayValue?.count == 2, "\(list)")
        let metrics = try await server.request("GET", "/metrics", token: try server.token(["--role", "admin"]))
        #expect(
            metrics.body.contains("xalorra_http_requests_total{route=\"POST /v1/chat/completions\",status=\"200\"} 2"),
            "\(metrics.body.split(separator: "\n").filter { $0.contains("/v1/") })")
        #expect(metrics.body.contains("route=\"POST /v1/chat/completions\",status=\"404\""))
        #expect(try await server.log.waitFor("POST /v1/chat/completions 404", seconds: 2), "the access log")

        let broken = try await LiveServer(
            environment: environment.merging(["XALORRA_CHAT_MODEL": "fail", "XALORRA_CHAT_TIMEOUT": "2s"]) { $1 },
            arguments: ["--rate-limit", "off"])
        defer { broken.stop() }
        let una = try broken.token(["--user", "una"])
        for stream in [false, true] {
            let failed = try await broken.request(
                "POST", "/v1/chat/completions", token: una,
                body: Self.completion([Self.user("are you there?")], model: "fail", [("stream", .bool(stream))]))
            Self.expectOpenAIError(failed.status, failed.body, 503, code: "ai_service_unavailable", param: nil)
            #expect(try JSONParser.parse(failed.body)["error"]?["type"] == "server_error")
        }
        let kept = try JSONParser.parse(try await broken.request("GET", "/chat/histories", token: una).body)
        #expect(kept["data"]?.arrayValue?.count == 2, "the requests' messages stay: \(kept)")
    }

    /// `RemoteAPI` is the same operation over HTTP: the models, the deltas, the completion the server stored (seen by
    /// `xalorra chat list` remotely), and the server's refusals as the same errors.
    @Test func remoteOperation() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token(["--user", "rita"])
        let remote = try RemoteAPI(baseURL: server.url, token: token)
        #expect(try await remote.chatModels() == [ChatModel(id: "xalorra-builtin", ownedBy: "xalorra")])
        let pieces = CompletionPieces()
        let completion = try await remote.chatCompletion(
            ChatCompletionRequest(
                model: "xalorra-builtin", messages: [.init(.system, "x"), .init(.user, "remote hello")])
        ) { delta in pieces.add(delta) }
        #expect(completion.content.hasPrefix("You said: \"remote hello\""), "\(completion)")
        #expect(pieces.all.map(\.content).joined() == completion.content && pieces.all.count > 1)
        #expect(completion.usage == ChatUsage(promptTokens: 3, completionTokens: ChatUsage.words(completion.content)))
        #expect(completion.id == ChatCompletion.id(conversation: completion.conversationID))
        let listed = try server.cli.run(["chat", "list", "--url", server.url, "--token", token])
        #expect(listed.stdout.contains(ChatID.conversation(completion.conversationID)), "\(listed)")
        #expect(listed.stdout.contains("remote hello"), "\(listed)")
        do {
            let request = ChatCompletionRequest(model: "nope", messages: [.init(.user, "x")])
            _ = try await remote.chatCompletion(request) { _ in }
            Issue.record("an unknown model was taken")
        } catch {
            #expect(error.code == .notFound && error.details.first?.field == "model", "\(error)")
        }
        let stranger = try RemoteAPI(baseURL: server.url, token: "bad")
        do {
            _ = try await stranger.chatModels()
            Issue.record("a bad token was taken")
        } catch {
            #expect(error.code.httpStatus == 401, "\(error)")
        }
    }
    /// An upstream that breaks off after the first piece: the stream already answered 200, so the failure is an
    /// `{"error": {…}}` event (OpenAI clients raise it) and no `[DONE]`; `RemoteAPI` reads it back as the same 503.
    @Test func failurePartWayIsAnErrorEvent() async throws {
        let upstream = try await ScriptedUpstream()
        defer { upstream.stop() }
        let server = try await LiveServer(
            environment: ["XALORRA_CHAT_URL": upstream.url, "XALORRA_CHAT_MODEL": "half", "XALORRA_CHAT_TIMEOUT": "5s"],
            arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let streamed = try await server.request(
            "POST", "/v1/chat/completions", token: token,
            body: Self.completion([Self.user("hi")], model: "half", [("stream", true)]))
        #expect(streamed.status == 200, "\(streamed.body)")
        let events = Self.events(streamed.body)
        #expect(!events.contains("[DONE]"), "\(streamed.body)")
        let last = try JSONParser.parse(events.last ?? "")
        #expect(
            last["error"]?["code"] == "ai_service_unavailable" && last["error"]?["type"] == "server_error", "\(last)")
        #expect(events.dropLast().contains { $0.contains("\"content\":\"Hel\"") }, "\(streamed.body)")
        let pieces = CompletionPieces()
        do {
            _ = try await RemoteAPI(baseURL: server.url, token: token).chatCompletion(
                ChatCompletionRequest(model: "half", messages: [.init(.user, "hi")])
            ) { delta in pieces.add(delta) }
            Issue.record("a broken answer was taken")
        } catch {
            #expect(error.code == .aiUnavailable, "\(error)")
        }
        #expect(pieces.all.map(\.content) == ["Hel"])
    }

    /// An upstream's own usage and finish reason are passed on, whole and streamed.
    @Test func upstreamUsageAndFinishReason() async throws {
        let upstream = try await ScriptedUpstream()
        defer { upstream.stop() }
        let server = try await LiveServer(
            environment: [
                "XALORRA_CHAT_URL": upstream.url, "XALORRA_CHAT_MODEL": "counted", "XALORRA_CHAT_TIMEOUT": "5s",
            ],
            arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let whole = try JSONParser.parse(try await server.request(
            "POST", "/v1/chat/completions", token: token,
            body: Self.completion([Self.user("hi")], model: "counted", [("max_tokens", 1)])).body)
        #expect(whole["choices"]?.arrayValue?.first?["finish_reason"] == "length", "\(whole)")
        #expect(whole["usage"] == ChatUsage(promptTokens: 11, completionTokens: 1).json, "\(whole)")
        let streamed = try await server.request(
            "POST", "/v1/chat/completions", token: token,
            body: Self.completion(
                [Self.user("hi")], model: "counted",
                [("stream", true), ("stream_options", .object([("include_usage", true)]))]))
        let chunks = Self.events(streamed.body).dropLast().compactMap { try? JSONParser.parse($0) }
        let reasons = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
        #expect(reasons == ["length"], "\(streamed.body)")
        #expect(chunks.last?["usage"]?["total_tokens"] == 12, "\(streamed.body)")
    }
}

/// An OpenAI-compatible upstream whose answer the model name picks: `half` sends one piece, then something that is
/// not a chunk; `counted` sends "Hi" cut by its token limit (`finish_reason: length`) and its own usage chunk.
private final class ScriptedUpstream: Sendable {
    private let port = Mutex(0)
    private let service = Mutex<Task<Void, any Error>?>(nil)

    var url: String { "http://127.0.0.1:\(port.withLock { $0 })/v1" }

    init() async throws {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ -> Response in
            let body = try JSONParser.parse(Array(try await request.body.collect(upTo: 1 << 20).readableBytesView))
            let events =
                body["model"] == "half"
                ? [#"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#, "not a chunk"]
                : [
                    #"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"}}]}"#,
                    #"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
                    #"{"choices":[],"usage":{"prompt_tokens":11,"completion_tokens":1,"total_tokens":12}}"#, "[DONE]",
                ]
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream"],
                body: .init(byteBuffer: ByteBuffer(string: events.map { "data: \($0)\n\n" }.joined())))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) })
        service.withLock { $0 = Task { try await app.runService(gracefulShutdownSignals: []) } }
        for await bound in ports {
            port.withLock { $0 = bound }
            break
        }
    }

    func stop() { service.withLock { $0?.cancel() } }
}

/// Deltas collected from a `@Sendable` callback.
private final class CompletionPieces: Sendable {
    private let items = Mutex<[ChatCompletionDelta]>([])
    func add(_ delta: ChatCompletionDelta) { items.withLock { $0.append(delta) } }
    var all: [ChatCompletionDelta] { items.withLock { $0 } }
}
