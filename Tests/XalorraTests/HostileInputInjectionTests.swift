import Foundation
import Testing
import XalorraCore

/// Injection strings against a live `xalorra serve`: stored and answered as the text they are, or refused.
@Suite(.serialized)
struct HostileInputInjectionTests {
    /// Injection strings are stored and returned as the text they are: a chat message, its title and a user's name
    /// round-trip byte for byte. Text with NUL is refused with 422: the store's text columns end at NUL, and before
    /// this was checked a message `a\0b` was stored and answered as `a`.
    @Test func injectionIsData() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let fixture = try await HostileInput.fixture(server)
        func send(_ method: String, _ path: String, _ body: JSONValue) async throws -> (RawHTTP.Response, JSONValue?) {
            var bytes: [UInt8] = []
            JSONWriter.write(body, into: &bytes)
            let answer = try #require(try await RawHTTP.exchange(
                port: fixture.port,
                RawHTTP.request(method, path, token: fixture.user, headers: [("Content-Type", "application/json")], body: bytes)))
            return (answer, try? JSONParser.parse(answer.body))
        }
        let (first, firstJSON) = try await send("POST", "/chat/message", .object([("message", "hi")]))
        let conversation = try #require(firstJSON?["data"]?["conversation_id"]?.stringValue, "\(first)")
        for (label, text) in HostileInput.hostileStrings where !text.allSatisfy(\.isWhitespace) {
            let hasNUL = text.utf8.contains(0)
            let (reply, json) = try await send("POST", "/chat/message", .object([("message", .string(String(text.prefix(ChatRules.maxMessage))))]))
            let title = String(text.prefix(ChatRules.maxTitle))
            let (renamed, _) = try await send("PUT", "/chat/histories/\(conversation)/title", .object([("title", .string(title))]))
            let (profile, _) = try await send("PUT", "/users/profile", .object([("nama_lengkap", .string(String(text.prefix(100))))]))
            if hasNUL {
                for answer in [reply, renamed, profile] {
                    #expect(answer.status == 422 && answer.text.contains("must not contain NUL"), "\(label): \(answer)")
                }
                continue
            }
            // A full name has no use for control characters (they could forge lines in an admin's terminal): refused,
            // while messages and titles keep what users send.
            let nameHasControl = String(text.prefix(100)).unicodeScalars.contains { TerminalText.isUnsafe($0) && !(0x202A...0x2069).contains($0.value) }
            #expect(reply.status == 200 && renamed.status == 200, "\(label): \(reply) \(renamed)")
            #expect(profile.status == (nameHasControl ? 422 : 200), "\(label): \(profile)")
            let id = try #require(json?["data"]?["conversation_id"]?.stringValue, "\(label): \(reply)")
            let history = try JSONParser.parse(try #require(try await RawHTTP.exchange(
                port: fixture.port, RawHTTP.request("GET", "/chat/histories/\(id)", token: fixture.user))).body)
            guard case .array(let messages)? = history["data"]?["messages"] else {
                Issue.record("\(label): \(history)")
                continue
            }
            #expect(messages.first?["content"]?.stringValue == String(text.prefix(ChatRules.maxMessage)), "\(label)")
            let renamedOne = try JSONParser.parse(try #require(try await RawHTTP.exchange(
                port: fixture.port, RawHTTP.request("GET", "/chat/histories/\(conversation)", token: fixture.user))).body)
            #expect(renamedOne["data"]?["title"]?.stringValue == title.trimmingCharacters(in: .whitespacesAndNewlines), "\(label)")
            let me = try JSONParser.parse(try #require(try await RawHTTP.exchange(
                port: fixture.port, RawHTTP.request("GET", "/users/profile", token: fixture.user))).body)
            if !nameHasControl {
                #expect(me["data"]?["nama_lengkap"]?.stringValue == String(text.prefix(100)), "\(label)")
            }
        }
        try await HostileInput.expectIntact(server, fixture: fixture)
    }
}
