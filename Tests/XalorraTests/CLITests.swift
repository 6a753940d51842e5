import Foundation
import Testing
import XalorraCore

/// The real `xalorra` binary in a temp `XALORRA_HOME`: what a user sees, exit codes included.
@Suite(.serialized)
struct CLITests {
    /// A prediction prints the sum and lands in the store, the text log and `xalorra logs`.
    @Test func predictThenLogs() throws {
        let cli = try BinaryRunner()
        let result = try cli.run(["predict", "xgb-v2", "1", "2", "3"])
        #expect(result.status == 0)
        #expect(result.stdout == "6\n")
        #expect(result.stderr.isEmpty)
        let json = try cli.run(["predict", "xgb-v2", "1", "2", "3", "--json"])
        #expect(json.stdout == #"{"model":"xgb-v2","input":[1,2,3],"prediction":6,"version":"baseline"}"# + "\n")
        let logs = try cli.run(["logs"])
        let lines = logs.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasSuffix("] model=xgb-v2 input=[1, 2, 3] prediction=6") })
        #expect(lines[0].range(of: #"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\]"#, options: .regularExpression) != nil)
        let file = try String(contentsOf: cli.home.appendingPathComponent("logs/predictions.log"), encoding: .utf8)
        #expect(file.split(separator: "\n").map(String.init) == lines.map(String.init))
        #expect(try cli.storedPredictionCount() == 2)
    }

    /// `logs --json` prints the paginated envelope with the items of DESIGN §2, newest first.
    @Test func logsJSONEnvelope() throws {
        let cli = try BinaryRunner()
        try cli.run(["predict", "a", "1"])
        try cli.run(["predict", "b", "2.5"])
        let body = try JSONParser.parse(try cli.run(["logs", "--json"]).stdout.trimmingCharacters(in: .newlines))
        guard case .array(let items)? = body["data"] else {
            Issue.record("no data array")
            return
        }
        #expect(items.count == 2)
        #expect(items[0]["model"] == "b" && items[1]["model"] == "a")
        let keys = items.first.map { item -> [String] in
            if case .object(let members) = item { return members.map(\.0) }
            return []
        }
        #expect(keys == ["id", "timestamp", "model", "version", "input", "prediction", "user_id", "tenant", "latency_ms"])
        #expect(items[0]["user_id"] == "tester" && items[0]["tenant"] == "default")
        #expect(body["pagination"]?["total"] == .int(2) && body["pagination"]?["has_next"] == false)
        let filtered = try cli.run(["logs", "--model", "a", "--json"]).stdout
        #expect(try JSONParser.parse(filtered.trimmingCharacters(in: .newlines))["pagination"]?["total"] == .int(1))
        let future = try cli.run(["logs", "--since", "2999-01-01"]).stdout
        #expect(future.isEmpty)
    }

    /// Bad features are usage errors naming the value, on stderr, exit 2, and nothing is logged.
    @Test func badFeaturesRefused() throws {
        let cli = try BinaryRunner()
        for bad in ["x", "nan", "inf", ""] {
            let result = try cli.run(["predict", "m", "1", bad])
            #expect(result.status == 2)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("error: The value '\(bad)' is invalid for '<feature>'"))
            #expect(result.stderr.contains("Usage: xalorra predict"))
        }
        let unknown = try cli.run(["logs", "--modle", "m"])
        #expect(unknown.status == 2 && unknown.stderr.hasPrefix("error: Unknown option '--modle'. Did you mean '--model'?\n"))
        #expect(unknown.stderr.contains("\nUsage: xalorra logs") && unknown.stderr.contains("See 'xalorra help logs'"))
        #expect(!FileManager.default.fileExists(atPath: cli.home.appendingPathComponent("xalorra.db").path))
    }

    /// A CSV batch prints one prediction per line and logs every row; NDJSON and stdin work the same way.
    @Test func batchPredictions() throws {
        let cli = try BinaryRunner()
        let csv = try cli.write("rows.csv", "a,b,c\n1,2,3\n4,5,6.5\n")
        let plain = try cli.run(["predict", "xgb-v2", "--file", csv])
        #expect(plain.status == 0 && plain.stdout == "6\n15.5\n")
        let ndjson = try cli.run(
            ["predict", "xgb-v2", "--json"], stdin: Data("{\"features\":[1,2]}\n{\"features\":[10]}\n".utf8))
        #expect(ndjson.stdout == """
            {"model":"xgb-v2","input":[1,2],"prediction":3,"version":"baseline"}
            {"model":"xgb-v2","input":[10],"prediction":10,"version":"baseline"}

            """)
        #expect(try cli.storedPredictionCount() == 4)
        let logLines = try String(contentsOf: cli.home.appendingPathComponent("logs/predictions.log"), encoding: .utf8)
        #expect(logLines.split(separator: "\n").count == 4)
    }

    /// A batch with one bad cell or one missing value is refused whole: nothing is logged.
    @Test func batchIsAllOrNothing() throws {
        let cli = try BinaryRunner()
        let bad = try cli.write("bad.csv", "a,b\n1,2\n3,x\n")
        let result = try cli.run(["predict", "m", "-f", bad])
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 3, column 'b': 'x' is not a number"))
        let missing = try cli.write("missing.csv", "a,b\n1,2\n3,\n")
        let refused = try cli.run(["predict", "m", "-f", missing])
        #expect(refused.status == 2 && refused.stderr.contains("row 2 has no value in column 'b'"))
        #expect(try cli.run(["logs"]).stdout.isEmpty)
        #expect(try cli.run(["predict", "m", "-f", "/nonexistent.csv"]).status == 2)
    }

    /// `logs --tail` prints a prediction made by another process within a second, and exits 0 on SIGINT.
    @Test func tailFollowsAnotherProcess() async throws {
        let cli = try BinaryRunner()
        try cli.run(["predict", "before", "1"])
        let (follower, out, _) = try cli.start(["logs", "--tail"])
        let collected = OutputCollector(out.fileHandleForReading)
        #expect(try await collected.waitFor("model=before", seconds: 10))
        try cli.run(["predict", "after", "7", "8"])
        #expect(try await collected.waitFor("model=after input=[7, 8] prediction=15", seconds: 2))
        kill(follower.processIdentifier, SIGINT)
        follower.waitUntilExit()
        #expect(follower.terminationStatus == 0)
    }

    /// `logs --tail --json` prints one log item per line.
    @Test func tailJSON() async throws {
        let cli = try BinaryRunner()
        try cli.run(["predict", "m", "1"])
        let (follower, out, _) = try cli.start(["logs", "-f", "--json", "--model", "n"])
        let collected = OutputCollector(out.fileHandleForReading)
        try await Task.sleep(for: .milliseconds(300))
        try cli.run(["predict", "m", "2"])
        try cli.run(["predict", "n", "3"])
        #expect(try await collected.waitFor(#""model":"n""#, seconds: 3))
        kill(follower.processIdentifier, SIGTERM)
        follower.waitUntilExit()
        let lines = collected.text.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(try JSONParser.parse(String(lines[0]))["prediction"] == .int(3))
    }

    /// A minted token verifies; a tampered one is refused with exit 4.
    @Test func tokenRoundTrip() throws {
        let cli = try BinaryRunner()
        let token = try cli.run(["token", "--user", "jek", "--role", "admin", "--tenant", "tenant1", "--ttl", "30d"])
        #expect(token.status == 0)
        let text = token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(text.split(separator: ".").count == 3)
        let verified = try cli.run(["token", "verify", text, "--json"])
        #expect(verified.status == 0)
        let claims = try JSONParser.parse(verified.stdout.trimmingCharacters(in: .newlines))
        #expect(claims["user_id"] == "jek" && claims["sub"] == "jek" && claims["role"] == "admin")
        #expect(claims["tenant"] == "tenant1" && claims["typ"] == "access")
        let human = try cli.run(["token", "verify", "Bearer " + text])
        #expect(human.status == 0 && human.stdout.contains("tenant1"))
        let piped = try cli.run(["token", "verify", "-"], stdin: Data((text + "\n").utf8))
        #expect(piped.status == 0)
        let tampered = try cli.run(["token", "verify", String(text.dropLast(2)) + "xx"])
        #expect(tampered.status == 4 && tampered.stderr.contains("bad signature"))
        let json = try JSONParser.parse(try cli.run(["token", "--json"]).stdout.trimmingCharacters(in: .newlines))
        #expect(json["token_type"] == "bearer" && json["expires_in"] == .int(3600) && json["claims"]?["user_id"] == "tester")
    }

    /// Expired and unsigned tokens are refused with exit 4 and the reason.
    @Test func expiredAndUnsignedRefused() throws {
        let cli = try BinaryRunner()
        let secret = "a-test-secret-that-is-32-bytes!!"
        let payload = #"{"sub":"a","user_id":"a","role":"user","tenant":"t","exp":1000}"#
        let token = TokenForger(secret: secret).sign(header: #"{"alg":"HS256","typ":"JWT"}"#, payload: payload)
        let expired = try cli.run(["token", "verify", token], environment: ["SECRET_KEY": secret])
        #expect(expired.status == 4 && expired.stderr.contains("token expired at 1970-01-01T00:16:40Z"))
        let none = TokenForger.unsigned(payload: payload)
        let unsigned = try cli.run(["token", "verify", none], environment: ["SECRET_KEY": secret])
        #expect(unsigned.status == 4 && unsigned.stderr.contains("alg: none"))
    }

    /// The generated secret is private; a group-readable one is refused; a short SECRET_KEY warns.
    @Test func secretKeyHandling() throws {
        let cli = try BinaryRunner()
        #expect(try cli.run(["token"]).status == 0)
        let path = cli.home.appendingPathComponent("secret.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let first = try cli.run(["token"]).stdout.trimmingCharacters(in: .newlines)
        #expect(try cli.run(["token", "verify", first]).status == 0, "the key is reused, not regenerated")
        chmod(path, 0o644)
        let refused = try cli.run(["token"])
        #expect(refused.status == 4 && refused.stderr.contains("readable by other users"))
        let weak = try cli.run(["token"], environment: ["SECRET_KEY": "short"])
        #expect(weak.status == 0 && weak.stderr.contains("warning:") && weak.stderr.contains("RFC 8725"))
        let algorithm = try cli.run(["token"], environment: ["JWT_ALGORITHM": "RS256"])
        #expect(algorithm.status == 2 && algorithm.stderr.contains("JWT_ALGORITHM=RS256 is not supported"))
    }

    /// `.env` in the working directory is read, and the environment overrides it.
    @Test func dotEnvIsRead() throws {
        let cli = try BinaryRunner()
        _ = try cli.write(".env", "SECRET_KEY=from-dotenv-from-dotenv-from-dotenv\nXALORRA_DEFAULT_TENANT=acme\n")
        let token = try cli.run(["token"]).stdout.trimmingCharacters(in: .newlines)
        let claims = try cli.run(["token", "verify", token, "--json"], environment: ["SECRET_KEY": "from-dotenv-from-dotenv-from-dotenv"])
        #expect(claims.status == 0 && claims.stdout.contains(#""tenant":"acme""#))
        let other = try cli.run(["token", "verify", token], environment: ["SECRET_KEY": "another-secret-another-secret-xx"])
        #expect(other.status == 4)
    }

    /// With XALORRA_UNKNOWN_MODEL=reject an unknown model is a 404-style failure and nothing is logged.
    @Test func unknownModelRejected() throws {
        let cli = try BinaryRunner()
        let result = try cli.run(["predict", "nope", "1"], environment: ["XALORRA_UNKNOWN_MODEL": "reject"])
        #expect(result.status == 1 && result.stderr.contains("model 'nope' not found"))
        let pinned = try cli.run(["predict", "nope@2", "1"])
        #expect(pinned.status == 1 && pinned.stderr.contains("has no version 2"))
        #expect(try cli.run(["logs"]).stdout.isEmpty)
        #expect(try cli.storedPredictionCount() == 0)
    }

    /// The route table lists DESIGN §3's routes; `--json` wraps them in the Aksara envelope.
    @Test func routesTable() throws {
        let cli = try BinaryRunner()
        let table = try cli.run(["routes"]).stdout
        #expect(table.hasPrefix("METHOD  PATH"))
        #expect(table.contains("POST    /predict/{model}"))
        #expect(table.contains("/users/login") && table.contains("5/15m"))
        let body = try JSONParser.parse(try cli.run(["routes", "--json"]).stdout.trimmingCharacters(in: .newlines))
        guard case .array(let routes)? = body["data"] else {
            Issue.record("no data")
            return
        }
        #expect(routes.count == RouteTable.all.count)
        #expect(body["message"] != nil && body["timestamp"] != nil)
    }

    /// Help, `help <command>` and `--version` print to stdout and exit 0.
    @Test func helpAndVersion() throws {
        let cli = try BinaryRunner()
        let help = try cli.run(["help", "predict"])
        #expect(help.status == 0 && help.stdout.hasPrefix("OVERVIEW: Predict"))
        #expect(try cli.run(["predict", "--help"]).stdout == help.stdout)
        #expect(try cli.run(["--version"]).stdout == "xalorra \(XalorraVersion.current)\n")
        let unknown = try cli.run(["help", "prdict"])
        #expect(unknown.status == 2 && unknown.stderr.hasPrefix("error: ") && unknown.stderr.contains("Did you mean 'predict'?"))
    }

    /// On a terminal errors are coloured, and never with NO_COLOR set.
    @Test func noColorOnTerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "CI must have util-linux's script")
            return
        }
        let cli = try BinaryRunner()
        func underTTY(_ extra: [String: String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qec", "\(BinaryRunner.binary.path) predict m x; \(BinaryRunner.binary.path) routes", "/dev/null"]
            process.environment = cli.processEnvironment(extra.merging(["TERM": "xterm"]) { $1 })
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: data, as: UTF8.self)
        }
        let colored = try underTTY([:])
        #expect(colored.contains("\u{1B}["), "a terminal gets colour")
        let plain = try underTTY(["NO_COLOR": "1"])
        #expect(plain.contains("error: ") && !plain.contains("Error:") && plain.contains("METHOD"))
        #expect(!plain.contains("\u{1B}["), "NO_COLOR output has no escape sequences")
    }

    /// Four processes writing at once lose no prediction and never report a locked database.
    @Test func concurrentWriters() throws {
        let cli = try BinaryRunner()
        try cli.run(["predict", "warm", "1"])
        let csv = try cli.write("rows.csv", "a\n" + (1...200).map(String.init).joined(separator: "\n") + "\n")
        let processes = try (0..<4).map { index in
            try cli.start(index % 2 == 0 ? ["predict", "m", "-f", csv] : ["predict", "m", "1", "2"])
        }
        for _ in 0..<10 { try cli.run(["predict", "single", "5"]) }
        for (process, _, err) in processes {
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(stderr)")
            #expect(!stderr.contains("locked"))
        }
        #expect(try cli.storedPredictionCount() == 1 + 2 * 200 + 2 + 10)
    }
}

/// Accumulates a child's output in the background so tests can wait for a line.
final class OutputCollector: @unchecked Sendable {
    // @unchecked: `buffer` is only touched under `lock`.
    private let lock = NSLock()
    private var buffer = ""

    init(_ handle: FileHandle) {
        handle.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            self.lock.withLock { self.buffer += String(decoding: data, as: UTF8.self) }
        }
    }

    var text: String { lock.withLock { buffer } }

    /// Waits until the output contains `needle`, polling every 20 ms.
    func waitFor(_ needle: String, seconds: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if text.contains(needle) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return text.contains(needle)
    }
}
