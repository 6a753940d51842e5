import Foundation
import Testing
@testable import XalorraCLI
import XalorraCore

/// The product's promise, checked by running it: every command prints the same stdout, stderr and exit code offline
/// and with `--url` against a live `xalorra serve` on the same store. One server and one store for the suite; the
/// commands run one after another. What is masked, and why, is listed in `Mask`: nothing else may differ.
@Suite(.serialized)
struct DifferentialTests {
    // MARK: Masks

    /// One thing allowed to differ between the two runs, replaced by a fixed text in both before comparing.
    struct Mask: Sendable {
        let pattern: String
        let replacement: String

        /// The envelope's own `timestamp` (the time the body was written, which two calls never share), and only
        /// that one: the last member of a top-level body, `,"timestamp":"…Z"}` at the end of a line.
        static let envelopeTimestamp = Mask(pattern: #","timestamp":"[0-9T:.\-]+Z"\}$"#, replacement: #","timestamp":"<now>"}"#)
        /// Times stamped when a command creates something (a user, a job, a version): two creations differ.
        static let isoTimes = Mask(pattern: #"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, replacement: "<time>")
        /// How long a training took (`in 0.0s`).
        static let duration = Mask(pattern: #" in \d+(\.\d+)?s"#, replacement: " in <t>s")
        /// A new conversation's id (each run makes its own).
        static let conversationIDs = Mask(pattern: #"conv_\d+"#, replacement: "conv_<n>")
        /// A new API key (`xal_<id>_<secret>`, or its `xal_<id>_…` prefix): each creation draws its own.
        static let apiKeys = Mask(pattern: #"xal_[0-9a-f]{16}(_[0-9A-Za-z]{43})?"#, replacement: "xal_<key>")
        /// A new training job's id (each run queues its own).
        static let jobIDs = Mask(pattern: #"job_\d+"#, replacement: "job_<n>")
        /// A new account's numeric id, in `users add`'s table and body.
        static let userIDs = Mask(pattern: #"(?m)(^id +|"id":)\d+"#, replacement: "$1<n>")
        /// What differs between this process and the server's by nature: the time of the check, the server's uptime, how long the
        /// database and AI checks took, and the host's load at that instant (`health`).
        static let healthReadings = Mask(
            pattern: #""timestamp":"[0-9T:.\-]+Z"|(uptime +|"uptime":)\d+( s)?|connected, [\d.]+ ms|"response_time":"[\d.]+ms"|(cpu|memory|disk)( +|_usage":")\d+%"#,
            replacement: "<reading>")

        func apply(_ text: String) -> String {
            text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
    }

    /// Replaces each JWT in `text` by its claims without the ones minted fresh each time (`jti`, `iat`, `exp`:
    /// the lifetime `exp - iat` stays), keys sorted, and its header's algorithm: two mints of the same token
    /// compare equal, a different user, role, tenant or lifetime does not.
    static func claimsOfTokens(_ text: String) -> String {
        let jwt = #"eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+"#
        var result = text
        while let range = result.range(of: jwt, options: .regularExpression) {
            let parts = result[range].split(separator: ".").map(String.init)
            func decode(_ part: String) -> JSONValue? {
                var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
                return Data(base64Encoded: base64).flatMap { try? JSONParser.parse(Array($0)) }
            }
            func number(_ value: JSONValue?) -> Double {
                if case .number(let number)? = value { return number.doubleValue }
                return 0
            }
            guard case .object(let claims)? = decode(parts[1]) else { break }
            let lifetime = (number(claims.first { $0.0 == "exp" }?.1))
                - (number(claims.first { $0.0 == "iat" }?.1))
            let kept = claims.filter { !["jti", "iat", "exp"].contains($0.0) }.sorted { $0.0 < $1.0 }
            let alg = decode(parts[0])?["alg"]?.stringValue ?? "?"
            result.replaceSubrange(
                range, with: "<jwt \(alg) \(JSONWriter.compact(.object(kept))) lifetime \(Int(lifetime))>")
        }
        return result
    }

    // MARK: The store and the server

    /// The live server (rate limit off: the suite sends many requests), its store, and an admin token for the
    /// remote runs: local mode acts as the OS user (`tester`) with admin rights in the default tenant, and the
    /// token names the same user, role and tenant.
    final class World: @unchecked Sendable {
        // @unchecked: set once in init, then only read.
        let server: LiveServer
        var cli: BinaryRunner { server.cli }
        let admin: String
        let user: String

        init(environment: [String: String] = [:]) async throws {
            server = try await LiveServer(environment: environment, arguments: ["--rate-limit", "off"])
            admin = try server.token(["--role", "admin"])
            user = try server.token(["--role", "user"])
        }

        /// Runs `arguments` offline on the shared store, with `environment` added to the server's.
        @discardableResult
        func offline(
            _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]
        ) throws -> BinaryRunner.Result {
            try cli.run(arguments, stdin: stdin.map { Data($0.utf8) }, environment: environment)
        }

        /// Runs `arguments` against the server with `token`.
        func remote(_ arguments: [String], stdin: String? = nil, token: String? = nil) throws -> BinaryRunner.Result {
            try cli.run(
                arguments + ["--url", server.url, "--token", token ?? admin], stdin: stdin.map { Data($0.utf8) })
        }

        /// Runs `arguments` offline and remotely (each after `before`, run offline; `fresh`, when given, makes the
        /// arguments of each run) and expects the same stdout, stderr and exit code once `masks` are applied. The
        /// remote run sends `token`; the offline run gets `environment` (its counterpart: the same user or tenant).
        @discardableResult
        func expectSame(
            _ arguments: [String], stdin: String? = nil, before: [([String], String?)] = [], masks: [Mask] = [],
            token: String? = nil, environment: [String: String] = [:], label: String? = nil,
            fresh: (() throws -> [String])? = nil, sourceLocation: SourceLocation = #_sourceLocation
        ) throws -> BinaryRunner.Result {
            let masks = [Mask.envelopeTimestamp] + masks
            func masked(_ text: String) -> String {
                DifferentialTests.claimsOfTokens(masks.reduce(text) { $1.apply($0) })
            }
            for (setup, input) in before { try offline(setup, stdin: input) }
            let local = try offline(try fresh?() ?? arguments, stdin: stdin, environment: environment)
            for (setup, input) in before { try offline(setup, stdin: input) }
            let remote = try remote(try fresh?() ?? arguments, stdin: stdin, token: token)
            let name = label ?? arguments.joined(separator: " ")
            #expect(
                local.status == remote.status,
                "\(name): exit \(local.status) offline, \(remote.status) remote\noffline: \(local.stderr)\nremote: \(remote.stderr)",
                sourceLocation: sourceLocation)
            #expect(masked(local.stdout) == masked(remote.stdout), "\(name): stdout differs", sourceLocation: sourceLocation)
            #expect(masked(local.stderr) == masked(remote.stderr), "\(name): stderr differs", sourceLocation: sourceLocation)
            return local
        }
    }

    /// Training data on columns a, b, c: `y = 3a - 2b + c` on a small grid (quick in a debug build).
    static let training: String = {
        var lines = ["a,b,c,y"]
        for a in 0..<12 {
            for b in 0..<10 { lines.append("\(a),\(b),\(a % 3),\(3 * a - 2 * b + a % 3)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    private static let quick = ["--trees", "10", "--max-depth", "3", "--min-samples-leaf", "5", "--threads", "1"]

    /// A store with gbdt `m` and linear `lin` on a,b,c, an imported `xgb-v2` (f0…f4), `price` with two versions,
    /// the user `jek`, and one conversation.
    static func world() async throws -> World {
        let world = try await World()
        let cli = world.cli
        let data = try cli.write("train.csv", training)
        _ = try cli.write("houses.csv", training.replacingOccurrences(of: "a,b,c,y", with: "a,b,c,price"))
        _ = try cli.write("users.csv", "a,b,churned\n" + (0..<60).map { "\($0 % 7),\($0 % 5),\($0 % 2)" }.joined(separator: "\n") + "\n")
        _ = try cli.write("rows.csv", "f0,f1,f2,f3,f4\n0.1,0.2,0.3,0.4,0.5\n-1,0,1,2,3\n")
        let fixture = try #require(Bundle.module.url(forResource: "Fixtures/xgboost/regression.json", withExtension: nil))
        try FileManager.default.copyItem(at: fixture, to: cli.home.appendingPathComponent("model.json"))
        for command in [
            ["train", "m", "--data", data, "--target", "y"] + quick,
            ["train", "lin", "--data", data, "--target", "y", "--kind", "linear"],
            ["train", "price", "--data", data, "--target", "y"] + quick,
            ["train", "price", "--data", data, "--target", "y"] + quick,
            ["models", "import", "xgb-v2", "model.json"],
        ] {
            let result = try world.offline(command)
            try #require(result.status == 0, "\(command): \(result.stderr)")
        }
        try #require(world.offline(Self.addJek, stdin: "jek-password-1\n").status == 0)
        try #require(world.offline(["chat", "hello there"]).status == 0)
        return world
    }

    static let addJek = ["users", "add", "jek", "--email", "jek@x.io", "--name", "Jek Doe", "--password-stdin"]

    // MARK: Every example of the command table

    /// An example's plan: how to run it in both modes, or why it cannot be.
    enum Plan {
        /// Run as written (its own `--url` removed), after `before`, with these extra arguments and masks.
        case run(extra: [String] = [], stdin: String? = nil, before: [([String], String?)] = [], masks: [Mask] = [])
        /// Run after every other example (it changes what they read).
        case late(extra: [String] = [], before: [([String], String?)] = [], masks: [Mask] = [])
        /// Run on a conversation made for each run (the example deletes it).
        case freshConversation
        /// Not comparable; the reason is printed.
        case skip(String)
    }

    private static let deleteJek: ([String], String?) = (["users", "delete", "jek", "--yes"], nil)
    private static let restoreJek: [([String], String?)] = [deleteJek, (addJek, "jek-password-1\n")]
    private static let trainPrice: ([String], String?) =
        (["train", "price", "--data", "houses.csv", "--target", "price"] + quick, nil)

    /// The examples that need more than running as written, by their text. Everything else runs as written.
    static let plans: [String: Plan] = [
        "xalorra serve --port 8001": .skip("serve runs the server itself; it has no remote form"),
        "xalorra serve --rate-limit off": .skip("serve runs the server itself; it has no remote form"),
        "xalorra serve --cors-origin https://app.example.com": .skip("serve runs the server itself; it has no remote form"),
        "xalorra completions bash > /etc/bash_completion.d/xalorra": .skip("completions are generated locally from the table"),
        "xalorra man > /usr/local/share/man/man1/xalorra.1": .skip("the man page is generated locally from the table"),
        "xalorra token verify eyJhbGciOi…": .skip("token verify needs the secret: refused with --url by design"),
        "xalorra store info": .skip("store acts on the store itself; it has no remote form"),
        "xalorra store migrate": .skip("store acts on the store itself; it has no remote form"),
        "xalorra store info --database postgres://xalorra@db/xalorra --json":
            .skip("store acts on the store itself; it has no remote form"),
        "xalorra store migrate --database postgres://xalorra@db/xalorra":
            .skip("store acts on the store itself; it has no remote form"),
        "xalorra store copy --from sqlite:/var/lib/xalorra/xalorra.db --to postgres://xalorra@db/xalorra":
            .skip("store acts on the store itself; it has no remote form"),
        "xalorra backup /srv/backups/xalorra-monday.db": .skip("backup copies the local store's file: refused with --url by design"),
        "xalorra backup today.db --force --json": .skip("backup copies the local store's file: refused with --url by design"),
        "xalorra restore /srv/backups/xalorra-monday.db": .skip("restore replaces the local store's file: refused with --url by design"),
        "xalorra logs prune --older-than 90d": .skip("prune is an operator's operation on the local store: refused with --url"),
        "xalorra logs prune --older-than 7d --model xgb-v2 --dry-run":
            .skip("prune is an operator's operation on the local store: refused with --url"),
        "xalorra logs --tail": .skip("follows until Ctrl-C; StreamAccessTests compare the feeds"),
        "xalorra users register jek --email jek@x.io --name 'Jek Doe' --url http://127.0.0.1:8001":
            .skip("self-registration is a server account operation; offline `users add` is its counterpart"),
        "xalorra users login jek --url http://127.0.0.1:8001": .skip("login saves a server's credentials: remote only"),
        "xalorra users logout --url http://127.0.0.1:8001": .skip("logout revokes a server's credentials: remote only"),
        "xalorra users whoami --url http://127.0.0.1:8001": .skip("whoami reads the token's account: remote only"),
        "xalorra users passwd --url http://127.0.0.1:8001":
            .skip("changing your own password needs a logged-in account: remote only"),
        // Creating: each run makes its own, at its own time with its own id.
        "xalorra users add jek --email jek@x.io --name 'Jek Doe' --role admin":
            .run(extra: ["--password-stdin"], stdin: "jek-password-1\n", before: [deleteJek], masks: [.isoTimes, .userIDs]),
        // Changing: each run stamps the account's `updated` with its own time.
        "xalorra users passwd jek": .run(extra: ["--password-stdin"], stdin: "jek-password-2\n", masks: [.isoTimes]),
        "xalorra users update jek --role admin":
            .run(before: [(["users", "update", "jek", "--role", "user"], nil)], masks: [.isoTimes]),
        "xalorra users disable jek": .run(before: [(["users", "enable", "jek"], nil)], masks: [.isoTimes]),
        "xalorra users enable jek": .run(before: [(["users", "disable", "jek"], nil)], masks: [.isoTimes]),
        "xalorra users delete jek --yes": .late(before: restoreJek),
        "xalorra chat \"what is AI?\"": .run(masks: [.conversationIDs]),
        "xalorra keys create ci-bot --scopes predict --models xgb-v2 --expires 90d": .run(masks: [.apiKeys]),
        "xalorra keys create etl --user jek --scopes predict,logs:read --rate 600/m": .run(masks: [.apiKeys]),
        "xalorra chat --last \"and then?\"": .run(before: [(["chat", "what is AI?"], nil)], masks: [.conversationIDs]),
        "xalorra chat delete conv_3": .freshConversation,
        "xalorra chat list --search AI": .run(masks: [.conversationIDs]),
        "xalorra chat list --search AI --sort updated_at": .run(masks: [.conversationIDs]),
        "xalorra health": .run(masks: [.healthReadings]),
        "xalorra health --url http://127.0.0.1:8001 --json": .run(masks: [.healthReadings]),
        // Training: offline trains on every core and a server on one thread (documented), so both pin one.
        "xalorra train price --data houses.csv --target price --kind gbdt":
            .late(extra: ["--threads", "1"], before: [(["models", "delete", "price", "--yes"], nil)], masks: [.duration]),
        "xalorra train churn --data users.csv --target churned --kind logistic --url http://127.0.0.1:8001":
            .late(before: [(["models", "delete", "churn", "--yes"], nil)], masks: [.duration]),
        "xalorra train price --data houses.csv --target price --trees 500 --early-stopping 20 --detach":
            .late(extra: ["--threads", "1"], masks: [.jobIDs]),
        // Versions count from 1 again only once the whole model is gone, so: one version at least, none, @1.
        "xalorra models delete price@1":
            .late(before: [trainPrice, (["models", "delete", "price", "--yes"], nil), trainPrice]),
        "xalorra models delete price --yes": .late(before: [trainPrice]),
        "xalorra models import xgb-v2 model.json": .run(before: [(["models", "delete", "xgb-v2", "--yes"], nil)]),
    ]

    /// `"xalorra chat 'a b'" > f` as argv without the program and the redirection.
    static func argv(_ example: String) -> [String] {
        var words: [String] = []
        var word: String?
        var quote: Character?
        for character in example {
            if let open = quote {
                if character == open { quote = nil } else { word = (word ?? "") + String(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                word = word ?? ""
            } else if character == " " {
                if let done = word { words.append(done) }
                word = nil
            } else {
                word = (word ?? "") + String(character)
            }
        }
        if let done = word { words.append(done) }
        if let redirect = words.firstIndex(of: ">") { words.removeSubrange(redirect...) }
        if let url = words.firstIndex(of: "--url") { words.removeSubrange(url...url + 1) }
        return Array(words.dropFirst())
    }

    /// Every example of every command prints the same offline and with --url (the skips say why they cannot);
    /// conv_3 and job_3 stand for a conversation and a job that exist.
    @Test func everyExamplePrintsTheSame() async throws {
        let world = try await Self.world()
        defer { world.server.stop() }
        let examples = CommandTable.walk().flatMap(\.command.examples)
        // A plan for an example that no longer exists is a stale plan: the table and this test move together.
        for key in Self.plans.keys { #expect(examples.contains(key), "a plan for a missing example: \(key)") }
        let conversation = try #require(
            world.offline(["chat", "list", "--json"]).stdout.firstMatch(of: /conv_\d+/).map { String($0.output) })
        let job = try #require(
            world.offline(["train", "jobs", "--json"]).stdout.firstMatch(of: /job_\d+/).map { String($0.output) })
        func resolved(_ words: [String]) -> [String] {
            words.map { $0 == "conv_3" ? conversation : $0 == "job_3" ? job : $0 }
        }
        var late: [(String, [String], [([String], String?)], [Mask])] = []
        var skipped: [String] = []
        for example in examples {
            let words = resolved(Self.argv(example))
            switch Self.plans[example] ?? .run() {
            case .skip(let reason):
                skipped.append("\(example): \(reason)")
            case .late(let extra, let before, let masks):
                late.append((example, words + extra, before, masks))
            case .freshConversation:
                try world.expectSame(words, masks: [.conversationIDs], label: example) {
                    let made = try world.offline(["chat", "a conversation to delete"])
                    let id = try #require((made.stdout + made.stderr).firstMatch(of: /conv_\d+/).map { String($0.output) })
                    return words.map { $0 == conversation ? id : $0 }
                }
            case .run(let extra, let stdin, let before, let masks):
                try world.expectSame(words + extra, stdin: stdin, before: before, masks: masks, label: example)
            }
        }
        // A detached job finishes on the server whenever it does, adding a version: it goes last of all.
        late.sort { !$0.1.contains("--detach") && $1.1.contains("--detach") }
        for (example, words, before, masks) in late {
            try world.expectSame(words, before: before, masks: masks, label: example)
        }
        // Beyond the examples: paging, filters and exports, and lines of messages piped to `chat`.
        for words in [
            ["chat", "list", "--limit", "1", "--order", "asc"], ["chat", "export", conversation, "--format", "json"],
            ["chat", "show", conversation, "--limit", "1", "--offset", "1"], ["logs", "--limit", "1000", "--json"],
            ["train", "jobs", "--limit", "2", "--offset", "1", "--json"], ["models", "list", "--limit", "1", "--offset", "1"],
            ["users", "list", "--limit", "1", "--offset", "5"], ["models", "show", "m@99"], ["train", "show", "job_999"],
        ] {
            try world.expectSame(words)
        }
        try world.expectSame(["chat"], stdin: "one\ntwo\n", masks: [.conversationIDs])
        // The 12 above, `logs --tail` again among the root's examples, and the 7 examples of `store` (local only).
        #expect(skipped.count == 25, "skipped: \(skipped.joined(separator: "\n"))")
    }

    // MARK: Batches

    /// The batch inputs of issue 13's table and around it.
    static let batchFiles: [(String, String)] = [
        ("ba.csv", "c,b,a\n1,2,3\n4,5,6\n"),
        ("abc.csv", "a,b,c\n3,2,1\n6,5,4\n"),
        ("extra.csv", "a,b,c,z\n3,2,1,9\n"),
        ("missing.csv", "a,b\n3,2\n"),
        ("gaps.csv", "a,b,c\n3,,1\n,2,\n"),
        ("wide.csv", "a,b,c\n1,2\n"),
        ("long.csv", "a,b,c\n1,2,3,4\n"),
        ("text.csv", "a,b,c\n1,x,3\n"),
        ("empty.csv", ""),
        ("header.csv", "a,b,c\n"),
        ("rows.ndjson", "{\"features\":[3,2,1]}\n{\"features\":[1,2,3]}\n"),
        ("nulls.ndjson", "{\"features\":[3,null,1]}\n{\"features\":[1,2,3]}\n"),
        ("short.ndjson", "{\"features\":[3,1]}\n"),
        ("bad.ndjson", "{\"features\":[3,\"x\",1]}\n"),
        ("crlf.csv", "c,b,a\r\n1,2,3\r\n"),
        ("bom.csv", "\u{FEFF}c,b,a\n1,2,3\n"),
        ("quoted.csv", "\"c\",\"b\",\"a\"\n1,2,3\n"),
        ("twice.csv", "a,a,b,c\n1,2,3,4\n"),
        ("spaces.csv", " c , b ,a\n1,2,3\n"),
        ("numbers.csv", "1,2,3\n"),
        ("blank.ndjson", "{\"features\":[1,2,3]}\n\n{\"features\":[1,2,3]}\n"),
        ("array.ndjson", "[1,2,3]\n"),
        ("reversed.csv", "f4,f3,f2,f1,f0\n1,2,3,4,5\n"),
    ]

    /// Models that answer differently: gbdt (routes a missing value), linear (refuses one), the baseline, a
    /// name with no version (the baseline too), pinned versions that exist and one that does not, an imported
    /// XGBoost model with unnamed features (`f0…f4`).
    static let batchModels = ["m", "lin", "baseline", "nosuch", "m@1", "lin@1", "m@99", "xgb-v2"]

    /// Every batch input gives the same output offline and remote for every kind of model, as text and --json,
    /// from a file and from stdin; with a user token (which may predict, as local mode may) as with an admin's.
    @Test func batchesPrintTheSame() async throws {
        let world = try await Self.world()
        defer { world.server.stop() }
        for (name, text) in Self.batchFiles { _ = try world.cli.write(name, text) }
        for model in Self.batchModels {
            // Every input for each kind of model; the other names take the same paths, so three inputs do.
            let every = ["m", "lin", "baseline"].contains(model)
            let few = ["ba.csv", "gaps.csv", "nulls.ndjson", "reversed.csv"]
            for (file, _) in Self.batchFiles where every || few.contains(file) {
                try world.expectSame(["predict", model, "--file", file])
                try world.expectSame(["predict", model, "--file", file, "--json"])
            }
            try world.expectSame(["predict", model, "--file", "-", "--format", "csv"], stdin: "c,b,a\n1,,3\n4,5,6\n")
            try world.expectSame(
                ["predict", model, "--file", "-", "--format", "ndjson"], stdin: "{\"features\":[3,null,1]}\n")
            try world.expectSame(["predict", model, "--file", "ba.csv"], token: world.user, label: "\(model) ba.csv as a user")
            for row in [["3", "2", "1"], ["3", "2"], ["1", "2", "3", "4"]] { try world.expectSame(["predict", model] + row) }
            try world.expectSame(["predict", model, "--json", "3", "2", "1"])
        }
        // The table's own rows: predictions by name, whatever the column order.
        let byName = try world.offline(["predict", "m", "--file", "ba.csv"]).stdout
        let inOrder = try world.offline(["predict", "m", "--file", "abc.csv"]).stdout
        #expect(!byName.isEmpty && byName == inOrder)
    }

    /// The baseline refuses a CSV row with an empty cell naming the column both ways (the header goes with the rows
    /// as `"columns"`; without it the server could only say `column 2`).
    @Test func baselineNamesTheEmptyCell() async throws {
        let world = try await World()
        defer { world.server.stop() }
        for (name, text) in Self.batchFiles { _ = try world.cli.write(name, text) }
        for model in ["baseline", "nosuch"] {
            let gaps = try world.expectSame(["predict", model, "--file", "gaps.csv"])
            #expect(gaps.status == 2 && gaps.stderr.contains("row 1 has no value in column 'b'"), "\(gaps.stderr)")
            try world.expectSame(["predict", model, "--file", "gaps.csv", "--json"])
            let piped = try world.expectSame(
                ["predict", model, "--file", "-", "--format", "csv"], stdin: "c,b,a\n1,,3\n4,5,6\n")
            #expect(piped.stderr.contains("no value in column 'b'"), "\(piped.stderr)")
        }
    }

    /// Issue 13's batch matrix: for gbdt and linear models trained on a, b, c, an unknown model and an unknown
    /// version (refused: `XALORRA_UNKNOWN_MODEL=reject`), and a user of another tenant, every input prints the same
    /// stdout, stderr and exit code offline and with --url, and means what it says: a reordered header or an extra
    /// column predicts what the header a, b, c does, a missing column is named, an empty cell or `null` is routed by
    /// the trees and refused by the linear model, naming its column.
    @Test func batchMatrixPrintsTheSame() async throws {
        let world = try await World(environment: ["XALORRA_UNKNOWN_MODEL": "reject"])
        defer { world.server.stop() }
        let data = try world.cli.write("train.csv", Self.training)
        for command in [
            ["train", "m", "--data", data, "--target", "y"] + Self.quick,
            ["train", "lin", "--data", data, "--target", "y", "--kind", "linear"],
        ] {
            let result = try world.offline(command)
            try #require(result.status == 0, "\(command): \(result.stderr)")
        }
        let files: [(String, String)] = [
            ("abc.csv", "a,b,c\n3,2,1\n6,5,4\n"),
            ("cba.csv", "c,b,a\n1,2,3\n4,5,6\n"),
            ("extra.csv", "z,c,a,b\n9,1,3,2\n9,4,6,5\n"),
            ("missing.csv", "b,a\n2,3\n"),
            ("gaps.csv", "c,b,a\n1,,3\n4,5,6\n"),
            ("nulls.ndjson", "{\"features\":[3,null,1]}\n{\"features\":[6,5,4]}\n"),
            ("keys.ndjson", "{\"id\":7,\"features\":[3,2,1]}\n{\"features\":[6,5,4],\"id\":8}\n"),
            ("named.ndjson", "{\"c\":1,\"b\":2,\"a\":3}\n"),
            ("narrow.csv", "a,b,c\n3,2\n"),
            ("wide.csv", "a,b,c\n3,2,1,0\n"),
            ("short.ndjson", "{\"features\":[3,2]}\n"),
            ("long.ndjson", "{\"features\":[3,2,1,0]}\n"),
        ]
        for (name, text) in files { _ = try world.cli.write(name, text) }
        let other = try world.server.token(["--role", "user", "--tenant", "other"])
        var printed: [String: BinaryRunner.Result] = [:]
        for model in ["m", "lin", "nosuch", "m@99"] {
            for (file, _) in files {
                printed["\(model) \(file)"] = try world.expectSame(["predict", model, "--file", file])
                try world.expectSame(["predict", model, "--file", file, "--json"])
            }
            printed["\(model) other"] = try world.expectSame(
                ["predict", model, "--file", "cba.csv"], token: other,
                environment: ["XALORRA_DEFAULT_TENANT": "other"], label: "\(model) cba.csv from another tenant")
        }
        func result(_ key: String) throws -> BinaryRunner.Result { try #require(printed[key], "\(key) did not run") }
        for model in ["m", "lin"] {
            let inOrder = try result("\(model) abc.csv")
            #expect(inOrder.status == 0 && inOrder.stdout.split(separator: "\n").count == 2, "\(inOrder.stderr)")
            #expect(try result("\(model) cba.csv").stdout == inOrder.stdout)
            #expect(try result("\(model) extra.csv").stdout == inOrder.stdout)
            #expect(try result("\(model) keys.ndjson").stdout == inOrder.stdout)
            let missing = try result("\(model) missing.csv")
            #expect(missing.status == 2 && missing.stderr.contains("the column 'c' is missing"), "\(missing.stderr)")
            for file in ["narrow.csv", "wide.csv", "short.ndjson", "long.ndjson", "named.ndjson"] {
                #expect(try result("\(model) \(file)").status == 2, "\(model) \(file)")
            }
            let refused = try result("\(model) other")
            #expect(refused.status == 1 && refused.stderr.contains("not found"), "\(refused.stderr)")
        }
        for file in ["gaps.csv", "nulls.ndjson"] {
            let routed = try result("m \(file)")
            #expect(routed.status == 0 && routed.stdout.split(separator: "\n").count == 2, "\(routed.stderr)")
            let linear = try result("lin \(file)")
            #expect(linear.status == 2 && linear.stderr.contains("row 1 has no value for 'b'"), "\(linear.stderr)")
        }
        let unknownModel = try result("nosuch abc.csv")
        #expect(unknownModel.status == 1 && unknownModel.stderr.contains("model 'nosuch' not found"), "\(unknownModel.stderr)")
        let unknownVersion = try result("m@99 abc.csv")
        #expect(unknownVersion.status == 1 && unknownVersion.stderr.contains("has no version 99"), "\(unknownVersion.stderr)")
    }

    /// A batch the server takes in parts (at most 2 rows a call here) names a refused row by its place in the file,
    /// as offline does; what differs by design is only the note that the parts before it were logged.
    @Test func partsCountRowsFromTheFile() async throws {
        let world = try await World(environment: ["XALORRA_MAX_BATCH_ROWS": "2"])
        defer { world.server.stop() }
        let data = try world.cli.write("train.csv", Self.training)
        try #require(world.offline(["train", "lin", "--data", data, "--target", "y", "--kind", "linear"]).status == 0)
        _ = try world.cli.write("five.csv", "c,b,a\n1,2,3\n4,5,6\n7,8,9\n1,,2\n3,3,3\n")
        for json in [[], ["--json"]] {
            let local = try world.offline(["predict", "lin", "--file", "five.csv"] + json)
            let remote = try world.remote(["predict", "lin", "--file", "five.csv"] + json)
            #expect(local.stderr.hasPrefix("error: rows[3]: row 4 has no value for 'b'"), "\(local.stderr)")
            #expect(local.status == remote.status && local.stdout == remote.stdout)
            let note = " (rows 3-4; the 2 rows before them were predicted and logged in earlier requests)"
            #expect(remote.stderr == local.stderr.replacingOccurrences(of: "\n", with: "") + note + "\n")
        }
    }

    /// What a user token may not do remotely, local mode (an admin) may: those are not compared; what both may
    /// do prints the same, and the log shows both predictions under the same user.
    @Test func permissionsCompareWhereTheyMeanTheSame() async throws {
        let world = try await Self.world()
        defer { world.server.stop() }
        try world.expectSame(["models", "list"], token: world.user, label: "models list as a user")
        try world.expectSame(["models", "show", "m"], token: world.user, label: "models show as a user")
        try world.expectSame(["predict", "m", "3", "2", "1"], token: world.user, label: "predict as a user")
        let refused = try world.remote(["users", "list"], token: world.user)
        #expect(refused.status != 0 && refused.stderr.contains("error:"), "a user lists users: \(refused)")
        let logs = try world.offline(["logs", "--json"]).stdout
        #expect(logs.components(separatedBy: "\"user_id\":\"tester\"").count == 3, "\(logs)")
    }
}
