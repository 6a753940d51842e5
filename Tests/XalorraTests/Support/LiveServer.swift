import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing
import XalorraCore

/// A real `xalorra serve` on a free loopback port, in its own temp home, stopped by `stop()`.
final class LiveServer: @unchecked Sendable {
    // @unchecked: the fields are set once in init and only read after.
    let cli: BinaryRunner
    let process: Process
    let url: String
    let log: OutputCollector

    /// The `SECRET_KEY` every live server runs with, so that tests can sign tokens for it by hand (``TokenForger``).
    static let secret = "live-test-secret-live-test-secret!"

    /// Starts the server and waits until it listens; `home` restarts one on an earlier server's store.
    /// The store is `XALORRA_DATABASE_URL` in `environment` when given, else an earlier server's (`home`), else the
    /// current ``TestBackend``'s (a fresh PostgreSQL database, or SQLite in the home).
    init(environment: [String: String] = [:], arguments: [String] = [], home: BinaryRunner? = nil) async throws {
        var cli = try home ?? BinaryRunner()
        var environment = environment
        if environment["XALORRA_DATABASE_URL"] == nil {
            if let earlier = home?.environment["XALORRA_DATABASE_URL"] {
                environment["XALORRA_DATABASE_URL"] = earlier
            } else {
                environment.merge(try await TestBackend.environment()) { $1 }
            }
        }
        cli.environment = ["SECRET_KEY": Self.secret].merging(environment) { $1 }
        self.cli = cli
        let (process, _, err) = try cli.start(["serve", "--port", "0"] + arguments)
        self.process = process
        log = OutputCollector(err.fileHandleForReading)
        guard try await log.waitFor("serving http://", seconds: 30),
            let range = log.text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression)
        else {
            process.terminate()
            throw XalorraError(.internal, "the server did not start: \(log.text)")
        }
        url = String(log.text[range])
    }

    /// A token for this server's secret.
    func token(_ extra: [String] = []) throws -> String {
        try cli.run(["token"] + extra).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Sends a request and returns status, headers and body.
    func request(
        _ method: String, _ path: String, token: String? = nil, body: String? = nil, headers: [(String, String)] = []
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: url + path)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }

    /// Sends SIGKILL (a crash: nothing is flushed or finished) and waits.
    func crash() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits for the exit status. A server still running 30 s later is a failure of the test
    /// (a shutdown that hangs is a defect), and is killed, so that the run goes on.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            Issue.record("the server did not stop within 30 s of SIGTERM; killed. Its log ends: \(log.text.suffix(2_000))")
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }
}
