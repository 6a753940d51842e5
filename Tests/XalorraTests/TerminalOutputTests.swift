import Foundation
import GRDB
import Testing
@testable import XalorraCLI
import XalorraCore

/// Stored text never reaches a terminal as control sequences: user fields that have no use for control characters
/// refuse them, and everything the CLI prints for people shows them escaped (`\e`, `\r`, `\u{9b}`, …) while
/// `--json` keeps the exact value.
@Suite(.serialized)
struct TerminalOutputTests {
    /// Clears the screen, paints red, sets the window title, rings the bell, returns to the line's start, sends a
    /// C1 CSI, a DEL, and reverses what follows.
    static let hostile = "Eve\u{1B}[2J\u{1B}[31m\u{1B}]0;owned\u{7}\r\u{9B}2J\u{7F}\u{202E}evil"
    /// How `hostile` shows.
    static let shown = #"Eve\e[2J\e[31m\e]0;owned\u{7}\r\u{9b}2J\u{7f}\u{202e}evil"#

    /// The characters in `text` that a terminal would obey: C0 controls but the line feed, DEL, C1, bidi
    /// overrides and isolates.
    static func obeyed(_ text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            let value = scalar.value
            return (value < 0x20 && value != 0x0A) || (0x7F...0x9F).contains(value) || (0x202A...0x202E).contains(value)
                || (0x2066...0x2069).contains(value)
        }.map { "U+" + String($0.value, radix: 16, uppercase: true) }
    }

    /// Expects neither stream of `result` to hold a character a terminal obeys.
    static func expectSafe(_ result: BinaryRunner.Result, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(obeyed(result.stdout).isEmpty, "\(label) stdout: \(obeyed(result.stdout)) in \(result.stdout.debugDescription)",
            sourceLocation: sourceLocation)
        #expect(obeyed(result.stderr).isEmpty, "\(label) stderr: \(obeyed(result.stderr)) in \(result.stderr.debugDescription)",
            sourceLocation: sourceLocation)
    }

    /// Writes straight to the store, as data written before the API refused it (or by another tool) would be.
    static func store(_ cli: BinaryRunner, _ sql: String, _ arguments: StatementArguments) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: cli.home.appendingPathComponent("xalorra.db").path, configuration: configuration)
        try queue.write { try $0.execute(sql: sql, arguments: arguments) }
    }

    private func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    /// The fields a 422 body's `details` name (none when the body is not an error envelope).
    private func fields(_ text: String) -> [String] {
        (try? JSONParser.parse(text))?["error"]?["details"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
    }

    // MARK: The escaping

    /// Every control, DEL, C1 and bidi character shows escaped; escaping twice changes nothing; text with lines
    /// keeps its line feeds and tabs and drops the CR of a CRLF; ordinary text, emoji and accents pass untouched.
    @Test func escapesWhatTerminalsObey() {
        #expect(TerminalText.escaped(Self.hostile) == Self.shown)
        #expect(TerminalText.escaped(Self.shown) == Self.shown)
        #expect(TerminalText.escaped("a\0b\tc\nd\u{85}e\u{2066}f\u{2069}") == #"a\0b\tc\nd\u{85}e\u{2066}f\u{2069}"#)
        #expect(TerminalText.escaped("line 1\r\nline\t2\rX\u{1B}[K", .text) == "line 1\nline\t2\\rX\\e[K")
        for plain in ["Budi Santoso", "naïve — “quoted” 😀", "back\\slash", "ǅ\u{FEFF}", "\u{2028}"] {
            #expect(TerminalText.escaped(plain) == plain)
        }
        // A CRLF is one Character in Swift: the escaping works on scalars, so neither half slips through.
        #expect(TerminalText.escaped("a\r\nb") == #"a\r\nb"#)
    }

    /// JSON made safe for a terminal denotes the same value, and keeps nothing a terminal obeys.
    @Test func jsonStaysTheSameValue() throws {
        let value = JSONValue.object([("name", .string(Self.hostile + "\u{85}\u{2067}x\u{0}")), ("n", 1)])
        let written = Array(JSONWriter.compact(value).utf8)
        let safe = TerminalText.jsonSafe(written)
        #expect(Self.obeyed(String(decoding: safe, as: UTF8.self)).isEmpty)
        #expect(try JSONParser.parse(safe) == value)
        let crlf = Array("{\r\n  \"a\": \"\u{202E}\"\r\n}".utf8)
        #expect(try JSONParser.parse(TerminalText.jsonSafe(crlf)) == JSONParser.parse(crlf))
        #expect(TerminalText.jsonSafe(Array(#"{"a":"plain é"}"#.utf8)) == Array(#"{"a":"plain é"}"#.utf8))
    }

    /// A table measures its cells after escaping them: the columns after a hostile cell stay aligned.
    @Test func tablesAlignEscapedCells() {
        var table = TextTable(["NAME", "ROLE"])
        table.add([Self.hostile, "admin"])
        table.add(["zoe", "user"])
        let lines = table.render()
        let column = lines[0].distance(from: lines[0].startIndex, to: lines[0].range(of: "ROLE")!.lowerBound)
        #expect(lines[1] == Self.shown + "  admin")
        #expect(lines[2].dropFirst(column).hasPrefix("user") && lines[1].dropFirst(column).hasPrefix("admin"), "\(lines)")
    }

    // MARK: Validation

    /// Emails and tenants refuse control and bidi characters, full names control characters (422 naming the
    /// field, nothing stored); a full name keeps emoji and right-to-left text with its isolates as sent.
    @Test func userFieldsRefuseControlCharacters() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--role", "admin"])
        func create(_ name: String, email: String, fullName: String, tenant: String? = nil) async throws
            -> (status: Int, body: String)
        {
            var members: [(String, JSONValue)] = [
                ("username", .string(name)), ("email", .string(email)), ("nama_lengkap", .string(fullName)),
                ("password", "rahasia1"),
            ]
            if let tenant { members.append(("tenant", .string(tenant))) }
            let answer = try await server.request("POST", "/admin/users", token: admin, body: body(members))
            return (answer.status, answer.body)
        }
        for email in ["eve\u{1B}[2J@x.io", "eve@x.io\u{7}", "e\u{9B}31m@x.io", "eve@\u{202E}oi.x", "eve@x.i\u{2066}o", "e\u{7F}@x.io"] {
            let answer = try await create("eve", email: email, fullName: "Eve")
            #expect(answer.status == 422 && fields(answer.body) == ["email"], "\(email.debugDescription): \(answer)")
        }
        for fullName in ["Eve\u{1B}[2J", "Eve\r\nMallory", "Eve\u{9B}2J", "Eve\u{7}", "Eve\tX", "a\u{0}b"] {
            let answer = try await create("eve", email: "eve@x.io", fullName: fullName)
            #expect(answer.status == 422 && fields(answer.body) == ["nama_lengkap"], "\(fullName.debugDescription): \(answer)")
        }
        for tenant in ["t\u{1B}1", "t\u{9B}1", "t\u{202E}1"] {
            let answer = try await create("eve", email: "eve@x.io", fullName: "Eve", tenant: tenant)
            #expect(answer.status == 422 && fields(answer.body) == ["tenant"], "\(tenant.debugDescription): \(answer)")
        }
        let users = try await server.request("GET", "/admin/users", token: admin)
        #expect(!users.body.contains("eve"), "\(users.body)")

        let rtl = "Budi 😀 \u{2067}بودي\u{2069}"
        let created = try await create("budi", email: "budi@x.io", fullName: rtl)
        #expect(created.status == 201, "\(created)")
        #expect(try JSONParser.parse(created.body)["data"]?["nama_lengkap"]?.stringValue == rtl)
        let patched = try await server.request(
            "PATCH", "/admin/users/budi", token: admin, body: body([("email", .string("budi\u{1B}]0;x\u{7}@x.io"))]))
        #expect(patched.status == 422 && fields(patched.body) == ["email"], "\(patched)")

        let offline = try server.cli.run(
            ["users", "add", "mallory", "--email", "m\u{1B}[2J@x.io", "--name", "M", "--password-stdin"],
            stdin: Data("rahasia1\n".utf8))
        #expect(offline.status != 0 && offline.stderr.contains("mail"), "\(offline)")
        Self.expectSafe(offline, "users add")
    }

    // MARK: What the CLI prints

    /// A user whose stored email, name and tenant hold escapes: `users list` and `users show`, offline and remote,
    /// print them escaped with one line per user and the columns aligned; `--json` holds the exact strings.
    @Test func usersShowStoredControlCharactersEscaped() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        for name in ["eve", "zoe"] {
            let added = try cli.run(
                ["users", "add", name, "--email", "\(name)@x.io", "--name", name.capitalized, "--password-stdin"],
                stdin: Data("rahasia1\n".utf8))
            #expect(added.status == 0, "\(added)")
        }
        let email = "eve\u{1B}[2J@x.io\r"
        let fullName = Self.hostile + "\nzoe  zoe@x.io  FORGED  admin"
        let tenant = "t\u{9B}1"
        try Self.store(
            cli, "UPDATE users SET email = ?, nama_lengkap = ?, tenant = ? WHERE username = 'eve'", [email, fullName, tenant])
        let remote = ["--url", server.url, "--token", try server.token(["--role", "admin"])]
        for mode in [[], remote] {
            let list = try cli.run(["users", "list"] + mode)
            Self.expectSafe(list, "users list \(mode)")
            let lines = list.stdout.split(separator: "\n").map(String.init)
            #expect(list.status == 0 && lines.count == 3, "\(list.stdout)")
            #expect(list.stdout.contains(#"eve\e[2J@x.io\r"#) && list.stdout.contains(Self.shown + #"\nzoe  zoe@x.io  FORGED"#))
            #expect(list.stdout.contains(#"t\u{9b}1"#))
            if let header = lines.first, let role = header.range(of: "ROLE") {
                let column = header.distance(from: header.startIndex, to: role.lowerBound)
                for line in lines.dropFirst() {
                    #expect(line.dropFirst(column).hasPrefix("user "), "column ROLE at \(column): \(lines)")
                }
            }
            let show = try cli.run(["users", "show", "eve"] + mode)
            Self.expectSafe(show, "users show \(mode)")
            #expect(show.status == 0 && show.stdout.contains(#"eve\e[2J@x.io\r"#) && show.stdout.split(separator: "\n").count == 10,
                "\(show.stdout)")
            let json = try cli.run(["users", "show", "eve", "--json"] + mode)
            Self.expectSafe(json, "users show --json \(mode)")
            let data = try JSONParser.parse(json.stdout)["data"]
            #expect(data?["email"]?.stringValue == email && data?["nama_lengkap"]?.stringValue == fullName)
            #expect(data?["tenant"]?.stringValue == tenant)
            let page = try cli.run(["users", "list", "--json"] + mode)
            Self.expectSafe(page, "users list --json \(mode)")
            #expect(try JSONParser.parse(page.stdout)["data"]?.arrayValue?.contains { $0["email"]?.stringValue == email } == true,
                "\(page.stdout)")
        }
    }

    /// A chat title and message with escapes, and a streamed reply quoting them: `chat`, `chat rename`, `chat list`,
    /// `chat show` and `chat export` print them escaped, a message's own line breaks kept; `--json` is exact.
    @Test func chatShowsTitlesMessagesAndRepliesEscaped() async throws {
        let stub = try await StubAI()
        defer { stub.stop() }
        var cli = try BinaryRunner()
        cli.environment = ["XALORRA_CHAT_URL": stub.url + "/v1", "XALORRA_CHAT_MODEL": "echo"]
        let message = "hi\u{1B}[2J\r\nsecond\u{7}line\rX"
        let sent = try cli.run(["chat", message])
        Self.expectSafe(sent, "chat")
        #expect(sent.status == 0 && sent.stdout.contains(#"Echo: hi\e[2J"# + "\n" + #"second\u{7}line\rX"#), "\(sent)")
        let title = Self.hostile + "\nconv_9  FORGED"
        let renamed = try cli.run(["chat", "rename", "conv_1", title])
        Self.expectSafe(renamed, "chat rename")
        #expect(renamed.status == 0 && renamed.stdout.contains(Self.shown + #"\nconv_9  FORGED"#), "\(renamed)")
        for arguments in [["chat", "list"], ["chat", "show", "conv_1"], ["chat", "export", "conv_1", "--format", "md"]] {
            let result = try cli.run(arguments)
            Self.expectSafe(result, "\(arguments)")
            #expect(result.status == 0 && result.stdout.contains(Self.shown + #"\nconv_9  FORGED"#), "\(arguments): \(result)")
            #expect(!result.stdout.contains("\nconv_9"), "\(arguments): a title's line feed made a line")
        }
        let show = try cli.run(["chat", "show", "conv_1"])
        #expect(show.stdout.contains(#"you: hi\e[2J"# + "\n" + #"second\u{7}line\rX"#), "\(show.stdout)")
        let list = try cli.run(["chat", "list", "--json"])
        Self.expectSafe(list, "chat list --json")
        #expect(try JSONParser.parse(list.stdout)["data"]?.arrayValue?.first?["title"]?.stringValue == title, "\(list.stdout)")
        let history = try cli.run(["chat", "show", "conv_1", "--json"])
        Self.expectSafe(history, "chat show --json")
        let messages = try JSONParser.parse(history.stdout)["data"]?["messages"]?.arrayValue ?? []
        #expect(messages.first?["content"]?.stringValue == message, "\(history.stdout)")
    }

    /// A model's stored feature names (one with NUL) and a logged prediction's model name with escapes:
    /// `models show` and `logs` print them escaped; `--json` is exact.
    @Test func modelsAndLogsShowStoredControlCharactersEscaped() throws {
        let cli = try BinaryRunner()
        var lines = ["a,b,y"]
        for a in 0..<8 { for b in 0..<5 { lines.append("\(a),\(b),\(3 * a - 2 * b)") } }
        let data = try cli.write("grid.csv", lines.joined(separator: "\n") + "\n")
        #expect(try cli.run(["train", "line", "--data", data, "--target", "y", "--kind", "linear"]).status == 0)
        #expect(try cli.run(["predict", "line", "1", "2"]).status == 0)
        let features = ["a\u{1B}[2J\u{0}", "b\u{202E}\r"]
        try Self.store(
            cli, "UPDATE model_versions SET features = ?", [JSONWriter.compact(.array(features.map(JSONValue.string)))])
        let logged = "line\u{1B}]0;owned\u{7}"
        try Self.store(cli, "UPDATE predictions SET model = ?", [logged])

        let show = try cli.run(["models", "show", "line"])
        Self.expectSafe(show, "models show")
        #expect(show.status == 0 && show.stdout.contains(#"a\e[2J\0, b\u{202e}\r"#), "\(show)")
        let json = try cli.run(["models", "show", "line", "--json"])
        Self.expectSafe(json, "models show --json")
        let names = try JSONParser.parse(json.stdout)["data"]?["versions"]?.arrayValue?.first?["features"]?.arrayValue
        #expect(names?.compactMap(\.stringValue) == features, "\(json.stdout)")

        let logs = try cli.run(["logs"])
        Self.expectSafe(logs, "logs")
        #expect(logs.status == 0 && logs.stdout.contains(#"model=line\e]0;owned\u{7}"#), "\(logs)")
        let logsJSON = try cli.run(["logs", "--json"])
        Self.expectSafe(logsJSON, "logs --json")
        #expect(try JSONParser.parse(logsJSON.stdout)["data"]?.arrayValue?.first?["model"]?.stringValue == logged)
    }

    /// Errors quoting what came from outside (a command line word, a server's message about a hostile name) print
    /// it escaped on stderr, offline and remote.
    @Test func errorsShowQuotedTextEscaped() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let cli = server.cli
        let unknown = try cli.run(["\u{1B}[2Jnope"])
        Self.expectSafe(unknown, "unknown command")
        #expect(unknown.status == 2 && unknown.stderr.contains(#"\e[2Jnope"#), "\(unknown)")
        let remote = ["--url", server.url, "--token", try server.token(["--role", "admin"])]
        for mode in [[], remote] {
            for arguments in [
                ["models", "show", "x\u{1B}]0;owned\u{7}"], ["users", "show", "eve\u{9B}2J"],
                ["chat", "show", "conv_\u{1B}[2J"], ["logs", "--model", "m\u{1B}[31m"],
            ] {
                let result = try cli.run(arguments + mode)
                Self.expectSafe(result, "\(arguments) \(mode)")
            }
        }
        let token = try cli.run(["token", "--user", "eve", "--tenant", "t\u{1B}[2J"])
        Self.expectSafe(token, "token --tenant")
        if token.status == 0 {
            let verify = try cli.run(["token", "verify", token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
            Self.expectSafe(verify, "token verify")
            #expect(verify.stdout.contains(#"t\e[2J"#), "\(verify)")
        }
    }
    /// On a terminal, the progress line and a confirmation prompt quote a file or user name escaped: the only
    /// escape sequences written are the CLI's own (clearing the progress line).
    @Test func progressAndPromptsEscapeUnderATerminal() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "CI must have util-linux's script")
            return
        }
        let cli = try BinaryRunner()
        let file = try cli.write("m\u{1B}]0;owned\u{7}.json", "{}")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", #""$XB" models import m "$F"; "$XB" users delete "$U""#, "/dev/null"]
        process.environment = cli.processEnvironment(
            ["TERM": "xterm", "XB": BinaryRunner.binary.path, "F": file, "U": "eve\u{1B}[2J\u{9B}31m"])
        let out = Pipe(), into = Pipe()
        process.standardOutput = out
        process.standardInput = into
        try process.run()
        into.fileHandleForWriting.write(Data("n\n".utf8))
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text.contains(#"importing "# + cli.home.path + #"/m\e]0;owned\u{7}.json"#), "\(text.debugDescription)")
        #expect(text.contains(#"Delete user eve\e[2J\u{9b}31m and"#), "\(text.debugDescription)")
        #expect(!text.contains("\u{1B}]0;") && !text.contains("\u{7}") && !text.contains("\u{9B}") && !text.contains("\u{1B}[2J"),
            "\(text.debugDescription)")
    }
}
