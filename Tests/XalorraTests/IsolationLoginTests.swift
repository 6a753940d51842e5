import Foundation
import Testing
import XalorraCore

/// Brute force against `POST /users/login` (issue 7): wrong passwords are limited per account, and the limit holds
/// whatever comes along with the next attempt.
@Suite(.serialized)
struct IsolationLoginTests: LiveServerSuite {
    /// Wrong passwords reach 429 within 5 per 15 min; then even the right one is refused, whatever token comes along.
    @Test func bruteForceLoginIsLimited() async throws {
        let server = try await LiveServer()
        defer { server.stop() }
        #expect(try await register(server, "victim", password: "correct-horse-1").status == 201)
        var remaining: [String] = []
        for attempt in 0..<5 {
            let answer = try await login(server, attempt == 2 ? "someone_else" : "victim", password: "guess-\(attempt)")
            #expect(answer.status == 401, "attempt \(attempt): \(answer.body)")
            remaining.append(answer.headers["X-RateLimit-Remaining"].first ?? "?")
        }
        #expect(remaining == ["4", "3", "2", "1", "0"])
        let limited = try await login(server, "victim", password: "guess-5")
        #expect(limited.status == 429, "\(limited.body)")
        let error = json(limited.body)["error"]
        #expect(error?["code"] == "RATE_LIMIT_EXCEEDED")
        let retryAfter = error?["retry_after"]?.numberValue.map { Int($0.doubleValue) } ?? -1
        #expect((1...900).contains(retryAfter), "retry_after \(retryAfter)")
        #expect(limited.headers["Retry-After"].first == String(retryAfter))
        #expect(limited.headers["RateLimit-Policy"].first == #""login";q=5;w=900"#)

        let mintedForAnother = try server.token(["--user", "accomplice"])
        let attempts: [(String, String, String?)] = [
            ("the right password", "victim", nil), ("by email", "victim@x.io", nil),
            ("with a forged bearer token", "victim", "not-a-token"),
            ("with another account's valid token", "victim", mintedForAnother),
        ]
        for (name, username, token) in attempts {
            let answer = try await login(server, username, password: "correct-horse-1", token: token)
            #expect(answer.status == 429, "\(name): \(answer.status) \(answer.body)")
            #expect(!answer.body.contains("access_token"), "\(name)")
        }
    }
}
