import Foundation
import Testing
import XalorraCore

/// Users' conversations (issue 7): every chat route with a `{conversation_id}`, lists and searches keep a conversation
/// with its owner.
@Suite(.serialized)
struct IsolationChatTests: LiveServerSuite {
    /// Another user gets 403/404 on every chat `{id}` route and posts, and never sees the conversation in lists or searches.
    @Test func conversationsStayWithTheirOwner() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let alice = try server.token(["--user", "alice"])
        let bob = try server.token(["--user", "bob"])
        func send(_ token: String, _ message: String, to id: String? = nil, stream: Bool = false) async throws -> Response {
            var members: [(String, JSONValue)] = [("message", .string(message))]
            if let id { members.append(("conversation_id", .string(id))) }
            if stream { members.append(("stream", true)) }
            return try await server.request("POST", "/chat/message", token: token, body: body(members))
        }
        let title = "Quarterly zebra forecast"
        let first = try await send(alice, title)
        let id = try #require(json(first.body)["data"]?["conversation_id"]?.stringValue)
        #expect(try await send(alice, "and the giraffes?", to: id).status == 200)
        let own = try #require(json(try await send(bob, "my own notes").body)["data"]?["conversation_id"]?.stringValue)

        let routes = RouteTable.all.filter { $0.path.hasPrefix("/chat/") && $0.path.contains("{conversation_id}") }
        #expect(routes.count >= 3)
        for route in routes {
            let answer = try await server.request(
                route.method, Self.concrete(route.path, ["conversation_id": id]), token: bob,
                body: route.method == "PUT" ? body([("title", "taken over")]) : nil)
            #expect([403, 404].contains(answer.status), "\(route.key): \(answer.status) \(answer.body)")
            #expect(["INSUFFICIENT_PERMISSIONS", "RESOURCE_NOT_FOUND"].contains(json(answer.body)["error"]?["code"]?.stringValue))
            #expect(!answer.body.contains("zebra") && !answer.body.contains("giraffes"), "\(route.key) leaks")
        }
        for stream in [false, true] {
            let answer = try await send(bob, "injected by bob", to: id, stream: stream)
            #expect([403, 404].contains(answer.status), "stream \(stream): \(answer.status) \(answer.body)")
            #expect(!answer.body.contains("zebra"))
        }
        // Sequential ids are guessable; guessing them gets nothing.
        for number in 1...6 where "conv_\(number)" != own {
            let answer = try await server.request("GET", "/chat/histories/conv_\(number)", token: bob)
            #expect([403, 404].contains(answer.status), "conv_\(number): \(answer.body)")
        }
        for query in ["", "?search=zebra", "?search=Quarterly", "?search=giraffes", "?limit=100&order=asc", "?sort=updated_at"] {
            let list = try await server.request("GET", "/chat/histories\(query)", token: bob)
            #expect(list.status == 200)
            let ids = json(list.body)["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(!ids.contains(id) && !list.body.contains("zebra"), "\(query): \(list.body)")
            #expect(ids == (query.hasPrefix("?search") ? [] : [own]), "\(query): \(ids)")
        }

        let detail = json(try await server.request("GET", "/chat/histories/\(id)", token: alice).body)["data"]
        #expect(detail?["title"] == .string(title) && detail?["message_count"] == 4, "\(String(describing: detail))")
        #expect(detail?["messages"]?.arrayValue?.contains { $0["content"] == "injected by bob" } == false)
        let found = json(try await server.request("GET", "/chat/histories?search=zebra", token: alice).body)
        #expect(found["pagination"]?["total"] == 1)
    }
}
