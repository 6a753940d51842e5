import Foundation
import Testing
@testable import XalorraCLI
@testable import XalorraCore
import XalorraML

/// Field rules are declared once: what the API refuses and what `/openapi.json` publishes come from the same value.
struct FieldRuleTests {
    /// Every text rule the API checks with, by the field it guards.
    static let textRules: [(String, TextRule)] = [
        ("username", UserRules.usernameRule), ("email", UserRules.emailRule), ("nama_lengkap", UserRules.fullNameRule),
        ("password", UserRules.passwordRule), ("tenant", UserRules.tenantRule), ("message", ChatRules.messageRule),
        ("title", ChatRules.titleRule), ("token name", TokenRequest.nameRule), ("feature name", NameRule.rule),
        ("model name", ModelReference.nameRule), ("version", ModelReference.versionRule), ("required", TextRule.required),
        ("target", TrainingRequest.targetRule),
    ]

    /// Pieces the sample strings are made of: letters, marks, emoji, every kind of space, controls, bidi, NUL.
    static let units = [
        "a", "Z", "7", "_", "-", ".", "@", "é", "e\u{301}", "😀", "日", " ", "\t", "\u{A0}", "\u{3000}", "\u{85}", "\n",
        "\u{0}", "\u{1B}", "\u{7F}", "\u{9F}", "\u{202E}", "\u{2066}", "\u{FEFF}",
    ]

    /// Strings every rule is tried on: each unit at the rule's boundary lengths, mixtures, and the shapes of emails,
    /// names and versions.
    static func samples(for rule: TextRule) -> [String] {
        var lengths = [0, 1, 2, rule.minLength - 1, rule.minLength, rule.minLength + 1]
        if let max = rule.maxLength { lengths += [max - 1, max, max + 1] }
        var samples: [String] = []
        for unit in units {
            for length in Set(lengths) where length >= 0 {
                samples.append(text(unit, length: length))
                samples.append("x" + text(unit, length: max(0, length - 2)) + "y")
                samples.append(text(unit, length: max(0, length - 1)) + "x")
            }
        }
        return samples + [
            "a@b.co", "a@b.", "@b.co", "a@.co", "a@b.c.d", "a@@b.co", "a b@c.de", " a@b.co", "a@b.co ", "a@b\u{1B}.co",
            "a\u{202E}@b.co", "x", "  x  ", " \t ", "\t", "a\nb", "abc\n", "name-1.5_z", "-abc", "1", "01", "10", "latest",
            "12345678901234567890", "rahasia1", "日本語のテナント", "emoji🙂name",
        ]
    }

    /// `unit` repeated to exactly `length` Unicode scalars.
    static func text(_ unit: String, length: Int) -> String {
        var scalars = String.UnicodeScalarView()
        let pieces = Array(unit.unicodeScalars)
        for index in 0..<length { scalars.append(pieces[index % pieces.count]) }
        return String(scalars)
    }

    /// Whether a JSON Schema string schema admits `text`: `minLength`/`maxLength` in Unicode scalars and the
    /// `pattern`, as an ECMA-262 validator reads them (the whole text must match: `$` is the end, not a newline).
    static func admits(_ schema: JSONValue, _ text: String) throws -> Bool {
        let length = text.unicodeScalars.count
        if case .number(let min)? = schema["minLength"], length < Int(min.doubleValue) { return false }
        if case .number(let max)? = schema["maxLength"], length > Int(max.doubleValue) { return false }
        guard let pattern = schema["pattern"]?.stringValue else { return true }
        let regex = try NSRegularExpression(pattern: pattern)
        let whole = NSRange(text.startIndex..., in: text)
        // An anchored pattern has to cover the whole text; NSRegularExpression's `$` would also stop before a final
        // line break, which ECMA-262's does not.
        return regex.matches(in: text, range: whole).contains { $0.range == whole }
    }

    /// Each text rule's schema admits exactly what the rule accepts: a sample the schema admits is accepted, and an
    /// accepted sample (as the rule keeps it) is admitted. Only the password's byte limit is beyond JSON Schema; its
    /// schema says it in the description.
    @Test(arguments: textRules.map(\.0))
    func textRuleAgreesWithItsSchema(field: String) throws {
        let rule = try #require(Self.textRules.first { $0.0 == field }?.1)
        let schema = rule.schema
        #expect(schema["type"] == "string")
        if rule.minLength > 0 { #expect(schema["minLength"] == .int(rule.minLength)) }
        if let max = rule.maxLength { #expect(schema["maxLength"] == .int(max)) }
        for sample in Self.samples(for: rule) {
            let kept = rule.normalized(sample)
            let accepted = rule.problem(kept) == nil
            let admitted = try Self.admits(schema, sample)
            let overBytes = rule.maxBytes.map { sample.utf8.count > $0 } ?? false
            if admitted, !overBytes {
                #expect(accepted, "\(field): the schema admits \(sample.debugDescription), the rule refuses it: \(String(describing: rule.problem(kept)))")
            }
            if accepted, kept == sample {
                #expect(admitted, "\(field): the rule accepts \(sample.debugDescription), the schema refuses it")
            }
        }
    }

    /// Text rules count Unicode scalars, as JSON Schema does, and check in a fixed order with a fixed message per
    /// problem (the Aksara API's wording).
    @Test func textRuleBoundaries() {
        let username = UserRules.usernameRule
        #expect(username.problem("abc") == nil && username.problem(String(repeating: "a", count: 50)) == nil)
        #expect(username.problem("ab") == .length && username.problem(String(repeating: "a", count: 51)) == .length)
        #expect(username.problem("ab!") == .character("!"))
        #expect(UserRules.username("ab") == "Username must be 3-50 characters")
        // A combining mark is a scalar of its own: 4000 scalars is the most a message holds, however they group.
        let marks = Self.text("e\u{301}", length: 4000)
        #expect(ChatRules.messageRule.problem(marks) == nil && ChatRules.messageRule.problem(marks + "x") == .length)
        #expect(throws: XalorraError.self) { try ChatRules.message(marks + "x") }
        #expect(UserRules.password(String(repeating: "é", count: 37)) == "Password must be at most 72 bytes (bcrypt limit)")
        #expect(UserRules.password(String(repeating: "é", count: 36)) == nil)
        #expect(UserRules.email("a@b.co") == nil && UserRules.email("a@b") == "Invalid email format")
        #expect(UserRules.email("a\u{202E}@b.co") == "Email must not contain control or bidirectional formatting characters")
        #expect(UserRules.fullNameRule.normalized("  Budi \t") == "Budi")
        #expect(ModelReference.nameRule.problem("-x") == .character("-") && ModelReference.nameRule.problem("x-1.5_z") == nil)
        #expect(NameRule.problem("evil\u{202E}") == "holds a control character (U+202E)")
    }

    /// A conversation's title made from its first message follows the title rule whatever the message holds: 60
    /// family emoji (7 scalars each) once made a 350-scalar title, which the store refused with a 500.
    @Test func derivedTitleFollowsTheTitleRule() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"
        let messages = [
            String(repeating: family, count: 60), String(repeating: "a", count: 60), "short",
            family + " " + String(repeating: "e\u{301}", count: 40),
        ]
        for message in messages {
            let title = ChatRules.title(fromFirstMessage: message)
            #expect(ChatRules.titleRule.problem(title) == nil && title.unicodeScalars.count <= 50, "\(title)")
        }
        #expect(ChatRules.title(fromFirstMessage: String(repeating: "a", count: 60)) == String(repeating: "a", count: 47) + "...")
        #expect(ChatRules.title(fromFirstMessage: " one\n two ") == "one two")
    }

    /// A scalar class written as a regular-expression class names the same scalars.
    @Test func scalarClassRegexNamesTheSameScalars() throws {
        let classes: [ScalarClass] = [
            .word, .controls, .whitespace, .all.subtracting(.nul), .all.subtracting(.controls).subtracting(.bidiControls),
            .all.subtracting(.whitespace).subtracting(.controls), ModelReference.nameRule.characters,
        ]
        let probes = (0...0x3100).compactMap(Unicode.Scalar.init) + ["😀", "\u{FEFF}", "\u{FFFF}", "\u{10FFFF}"]
        for set in classes {
            let regex = try NSRegularExpression(pattern: "^\(set.regex)$")
            for scalar in probes {
                let text = String(scalar)
                let matched = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
                #expect(matched == set.contains(scalar), "\(set.regex) and U+\(String(scalar.value, radix: 16))")
            }
        }
    }

    /// An integer rule allows its bounds and nothing past them, says so in words, and publishes the same bounds.
    @Test func integerRuleBoundaries() {
        let rule = IntegerRule(1...16)
        #expect(rule.problem(1) == nil && rule.problem(16) == nil)
        #expect(rule.problem(0) == "must be between 1 and 16" && rule.problem(17) == "must be between 1 and 16")
        #expect(rule.schema == .object([("type", "integer"), ("minimum", 1), ("maximum", 16)]))
        let open = IntegerRule(atLeast: 0)
        #expect(open.problem(-1) == "must be at least 0" && open.problem(IntegerRule.largestExact) == nil)
        // Past the JSON bound the message names that bound ("at least 0" would be false of the value).
        #expect(open.problem(IntegerRule.largestExact + 1) == "must be at most \(IntegerRule.largestExact)")
        #expect(open.problem(Int.max) == "must be at most \(IntegerRule.largestExact)")
        #expect(open.schema["maximum"] == .int(IntegerRule.largestExact))
    }

    /// A number rule tells inclusive from exclusive bounds, refuses what is not finite, and publishes
    /// `exclusiveMinimum`/`maximum` as it checks them.
    @Test func numberRuleBoundaries() {
        let rate = NumberRule(above: .int(0), atMost: .int(1))
        #expect(rate.problem(0) == "must be greater than 0 and at most 1")
        #expect(rate.problem(1e-9) == nil && rate.problem(1) == nil && rate.problem(1.000_001) != nil)
        #expect(rate.problem(.infinity) == "must be a finite number, greater than 0 and at most 1")
        #expect(rate.schema == .object([("type", "number"), ("exclusiveMinimum", 0), ("maximum", 1)]))
        let fraction = NumberRule(atLeast: .int(0), below: .int(1))
        #expect(fraction.problem(0) == nil && fraction.problem(0.999) == nil && fraction.problem(1) == "must be at least 0 and below 1")
        #expect(fraction.schema == .object([("type", "number"), ("minimum", 0), ("exclusiveMaximum", 1)]))
    }

    /// A field rule reads JSON and query text alike: numeric text is a number, `off`/`null` the absent value of a
    /// nullable rule, and each kind names what it wants.
    @Test func fieldRuleReadsJSONAndText() {
        let trees = FieldRule.integer(IntegerRule(1...10_000))
        #expect(trees.problem(trees.value(ofText: "10000")) == nil)
        #expect(trees.problem(trees.value(ofText: "10001")) == "must be between 1 and 10000")
        #expect(trees.problem(.number(.double(2.5))) == "must be a whole number")
        #expect(trees.problem(.number(.double(1e300))) == "must be between 1 and 10000")
        #expect(trees.problem("many") == "must be a number")
        let stopping = FieldRule.nullable(.integer(IntegerRule(atLeast: 1)))
        #expect(stopping.value(ofText: "off") == .null && stopping.problem(.null) == nil && stopping.problem(0) != nil)
        #expect(stopping.schema["type"] == .array(["integer", "null"]))
        #expect(FieldRule.choice(["a", "b"]).problem("c") == "must be one of a, b")
    }

    /// The training settings are read by their rules: the bounds hold at both ends for JSON numbers and query text,
    /// every problem is named in one 422.
    @Test func hyperparametersAreReadByTheirRules() throws {
        let parameters = try Hyperparameters(fields: [
            ("trees", 10_000), ("max_depth", "16"), ("learning_rate", .number(.double(1))), ("early_stopping", "off"),
            ("seed", .int(IntegerRule.largestExact)), ("objective", "binary"),
        ])
        #expect(parameters.trees == 10_000 && parameters.maxDepth == 16 && parameters.earlyStopping == nil)
        #expect(parameters.seed == UInt64(IntegerRule.largestExact) && parameters.objective == .binary)
        #expect(Hyperparameters.integerRange("trees") == 1...10_000 && Hyperparameters.integerRange("l2") == nil)
        #expect(Hyperparameters.integerRange("early_stopping") == 1...IntegerRule.largestExact)
        let error = #expect(throws: XalorraError.self) {
            try Hyperparameters(fields: [
                ("trees", 10_001), ("learning_rate", "0"), ("min_samples_leaf", .int(IntegerRule.largestExact + 1)),
                ("valid_fraction", 1), ("threads", 0), ("objective", "fast"), ("depth", 3),
            ])
        }
        let named = Dictionary(uniqueKeysWithValues: (error?.details ?? []).map { ($0.field, $0.message) })
        #expect(named["trees"] == "must be between 1 and 10000")
        #expect(named["learning_rate"] == "must be greater than 0 and at most 1")
        #expect(named["min_samples_leaf"] == "must be at most \(IntegerRule.largestExact)")
        #expect(named["valid_fraction"] == "must be at least 0 and below 1")
        #expect(named["threads"] == "must be between 1 and 256")
        #expect(named["objective"] == "must be one of auto, regression, binary, multiclass" && named["depth"] != nil)
    }

    /// The ML library guards its own input (`Hyperparameters.problems`, which cannot see Core's rules): every value
    /// a rule accepts, it accepts too, and just past each bound it refuses what the rule refuses, except where the
    /// rule's only upper bound is JSON's exact-integer limit. A bound changed on one side fails here.
    @Test func trainerGuardHasTheRulesBounds() throws {
        func problems(_ name: String, _ value: Double) throws -> [String] {
            var parameters = Hyperparameters()
            switch name {
            case "trees": parameters.trees = Int(value)
            case "max_depth": parameters.maxDepth = Int(value)
            case "learning_rate": parameters.learningRate = value
            case "min_samples_leaf": parameters.minSamplesLeaf = Int(value)
            case "l2": parameters.l2 = value
            case "bins": parameters.bins = Int(value)
            case "valid_fraction": parameters.validFraction = value
            case "early_stopping": parameters.earlyStopping = Int(value)
            case "seed": parameters.seed = UInt64(max(0, value))
            case "threads": parameters.threads = Int(value)
            default: Issue.record("no setter for \(name)")
            }
            return parameters.problems.filter { $0.name == name }.map(\.problem)
        }
        for (name, rule) in Hyperparameters.fields {
            switch rule {
            case .integer(let bounds), .nullable(.integer(let bounds)):
                #expect(try problems(name, Double(bounds.min)).isEmpty, "\(name) at \(bounds.min)")
                #expect(try problems(name, Double(bounds.max)).isEmpty, "\(name) at \(bounds.max)")
                if bounds.min > 0 { #expect(try !problems(name, Double(bounds.min - 1)).isEmpty, "\(name) below") }
                if bounds.max != IntegerRule.largestExact {
                    #expect(try !problems(name, Double(bounds.max + 1)).isEmpty, "\(name) above \(bounds.max)")
                }
            case .number(let bounds):
                for (bound, outward) in [(bounds.lower, -1e-9), (bounds.upper, 1e-9)] {
                    guard let bound else { continue }
                    let at = bound.value.doubleValue
                    #expect(try problems(name, at).isEmpty == bound.inclusive, "\(name) at \(at)")
                    #expect(try !problems(name, at + outward).isEmpty, "\(name) past \(at)")
                }
            case .choice, .text, .nullable: break
            }
        }
    }

    /// The default page size lives once: every list route publishes it as its `limit` default, with the list's own
    /// maximum, and every `--limit` option of the CLI shows it.
    @Test func pagingDefaultLivesOnce() throws {
        let maxima: [Endpoint: Int] = [
            .users: UserQuery.maxLimit, .conversations: ConversationQuery.maxLimit, .logs: LogQuery.maxLimit,
            .models: ModelQuery.maxLimit, .trainingJobs: TrainingJobQuery.maxLimit, .conversation: ChatRules.maxMessagesPage,
            .keys: APIKeyQuery.maxLimit, .adminKeys: APIKeyQuery.maxLimit, .audit: AuditQuery.maxLimit,
        ]
        for route in RouteTable.all {
            guard let limit = route.query.first(where: { $0.name == "limit" })?.schema else { continue }
            let expected = route.endpoint == .conversation ? ChatRules.defaultMessagesPage : Paging.defaultLimit
            #expect(limit["default"] == .int(expected), "\(route.key)")
            #expect(limit["minimum"] == 1 && limit["maximum"] == maxima[route.endpoint].map { .int($0) }, "\(route.key)")
            let offset = try #require(route.query.first { $0.name == "offset" }?.schema, "\(route.key)")
            #expect(offset["minimum"] == 0 && offset["default"] == 0, "\(route.key)")
        }
        var limits: [(String, OptionSpec)] = []
        func walk(_ command: CommandSpec, _ path: String) {
            for option in command.options where option.long == "--limit" { limits.append((path, option)) }
            for sub in command.subcommands { walk(sub, path + " " + sub.name) }
        }
        walk(CommandTable.root, "xalorra")
        #expect(limits.count >= 6)
        for (path, option) in limits {
            let expected = path == "xalorra chat show" ? ChatRules.defaultMessagesPage : Paging.defaultLimit
            #expect(option.defaultText == "\(expected)", "\(path)")
        }
    }
}

/// What `/openapi.json` publishes about each field is what a live server refuses: for every bound of every body
/// member and paging parameter, a value on the bound is not refused for that field, and one just past it is a 422
/// naming the field.
@Suite(.serialized)
struct FieldRuleLiveTests {
    /// One route's request as the test sends it: a body that is fine but for the member under test, or (for routes
    /// that would change something) one with a `poison` member that keeps the request from succeeding.
    struct Fixture {
        let method: String
        let path: String
        let base: [(String, JSONValue)]
        /// Another member made invalid, so the request is refused whatever the member under test holds; the second
        /// one is used when the first is the member under test.
        let poison: [(String, JSONValue)]
        /// Members whose bounds this fixture cannot test (a train `target` must also be a column).
        var skip: Set<String> = []
    }

    /// `length` characters that `schema`'s pattern admits, made of `unit` (an email gets `@b.io` at its end).
    static func filler(_ schema: JSONValue, length: Int, unit: String) throws -> String? {
        guard length >= 0 else { return nil }
        let pattern = schema["pattern"]?.stringValue ?? ""
        let text =
            pattern.contains("@")
            ? (length >= 6 ? FieldRuleTests.text(unit, length: length - 5) + "@b.io" : nil)
            : FieldRuleTests.text(unit, length: length)
        guard let text else { return nil }
        var lengthless = schema
        if case .object(let members) = schema { lengthless = .object(members.filter { !$0.0.hasSuffix("Length") }) }
        return try FieldRuleTests.admits(lengthless, text) ? text : nil
    }

    /// The values on and just past each bound of `schema`, with whether the schema admits them.
    static func boundaries(_ schema: JSONValue) throws -> [(value: JSONValue, admitted: Bool)] {
        if case .array(let alternatives)? = schema["anyOf"] {
            return try alternatives.flatMap { try boundaries($0) }
        }
        var cases: [(JSONValue, Bool)] = []
        switch schema["type"] {
        case "string"?:
            // A combining mark is a character of its own: a server counting what a reader sees as one would let
            // twice as many through.
            for unit in ["a", "e\u{301}"] {
                if case .number(let min)? = schema["minLength"] {
                    let min = Int(min.doubleValue)
                    if let text = try filler(schema, length: min, unit: unit) { cases.append((.string(text), true)) }
                    if let text = try filler(schema, length: min - 1, unit: unit) { cases.append((.string(text), false)) }
                }
                if case .number(let max)? = schema["maxLength"] {
                    let max = Int(max.doubleValue)
                    if let text = try filler(schema, length: max, unit: unit) { cases.append((.string(text), true)) }
                    if let text = try filler(schema, length: max + 1, unit: unit) { cases.append((.string(text), false)) }
                }
            }
        case "integer"?, .array(["integer", "null"])?:
            if case .number(let min)? = schema["minimum"] {
                cases += [(.number(min), true), (.int(Int64(min.doubleValue) - 1), false)]
            }
            if case .number(let max)? = schema["maximum"] {
                cases += [(.number(max), true), (.int(Int64(max.doubleValue) + 1), false)]
            }
        case "number"?:
            for (key, inclusive, step) in [
                ("minimum", true, -1e-6), ("exclusiveMinimum", false, 1e-6), ("maximum", true, 1e-6),
                ("exclusiveMaximum", false, -1e-6),
            ] {
                guard case .number(let bound)? = schema[key] else { continue }
                cases.append((.number(bound), inclusive))
                cases.append((.number(.double(bound.doubleValue + step)), !inclusive))
            }
        default: break
        }
        return cases
    }

    /// Every bound the document publishes for a body member or a paging parameter holds on the live server.
    @Test func publishedBoundsAreWhatTheServerRefuses() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let admin = try server.token(["--user", "root-admin", "--role", "admin"])
        let document = try JSONParser.parse(try await server.request("GET", "/openapi.json").body)
        let started = try JSONParser.parse(
            try await server.request("POST", "/chat/message", token: admin, body: #"{"message":"hi"}"#).body)
        let conversation = try #require(started["data"]?["conversation_id"]?.stringValue, "\(started)")
        let account: [(String, JSONValue)] = [
            ("username", "fieldrule"), ("email", "f@x.io"), ("nama_lengkap", "F"), ("password", "secret1"),
        ]
        let fixtures: [Fixture] = [
            Fixture(
                method: "POST", path: "/users/register", base: account,
                poison: [("email", "not-an-email"), ("username", "!")]),
            Fixture(
                method: "POST", path: "/admin/users", base: account + [("role", "user"), ("tenant", "t")],
                poison: [("email", "not-an-email"), ("username", "!")]),
            Fixture(method: "PATCH", path: "/admin/users/nobody_here", base: [], poison: []),
            Fixture(method: "PUT", path: "/users/profile", base: [], poison: []),
            Fixture(
                method: "POST", path: "/users/change-password",
                base: [("current_password", "wrong-one"), ("new_password", "secret12")], poison: []),
            Fixture(method: "POST", path: "/users/login", base: [("username", "nobody"), ("password", "x")], poison: []),
            Fixture(method: "POST", path: "/users/refresh", base: [("refresh_token", "x")], poison: []),
            Fixture(method: "POST", path: "/users/logout", base: [("refresh_token", "x")], poison: []),
            Fixture(method: "POST", path: "/chat/message", base: [("message", "hi")], poison: []),
            Fixture(method: "PUT", path: "/chat/histories/\(conversation)/title", base: [("title", "T")], poison: []),
            Fixture(method: "POST", path: "/admin/tokens", base: [], poison: []),
            // No target: every request is refused naming `target`, and the member under test is named or not.
            Fixture(
                method: "POST", path: "/train/m", base: [("columns", .array(["a", "b"])), ("rows", .array([.array([1, 2])]))], poison: [],
                skip: ["target"]),
        ]
        var checked = 0
        for fixture in fixtures {
            let template = fixture.path.replacingOccurrences(of: conversation, with: "{conversation_id}")
                .replacingOccurrences(of: "/train/m", with: "/train/{model}")
                .replacingOccurrences(of: "nobody_here", with: "{username}")
            let operation = try #require(document["paths"]?[template]?[fixture.method.lowercased()], "\(template)")
            let schema = try #require(operation["requestBody"]?["content"]?["application/json"]?["schema"])
            guard case .object(let properties)? = schema["properties"] else {
                Issue.record("\(template) has no properties")
                continue
            }
            for (member, memberSchema) in properties where !fixture.skip.contains(member) {
                for (value, admitted) in try Self.boundaries(memberSchema) {
                    var body = JSONValue.object(fixture.base).setting(member, value)
                    if let poison = fixture.poison.first(where: { $0.0 != member }) { body = body.setting(poison.0, poison.1) }
                    let answer = try await server.request(
                        fixture.method, fixture.path, token: admin, body: JSONWriter.compact(body))
                    Self.expect(
                        (answer.status, answer.body), field: member, admitted: admitted,
                        "\(fixture.method) \(template) \(JSONWriter.compact(body))")
                    checked += 1
                }
            }
        }
        guard case .object(let paths)? = document["paths"] else { throw XalorraError(.internal, "no paths") }
        for (path, item) in paths {
            guard case .array(let parameters)? = item["get"]?["parameters"] else { continue }
            let concrete = path.replacingOccurrences(of: "{conversation_id}", with: conversation)
            for parameter in parameters {
                guard let name = parameter["name"]?.stringValue, ["limit", "offset"].contains(name),
                    let schema = parameter["schema"]
                else { continue }
                for (value, admitted) in try Self.boundaries(schema) {
                    let target = "\(concrete)?\(name)=\(JSONWriter.compact(value))"
                    let answer = try await server.request("GET", target, token: admin)
                    Self.expect((answer.status, answer.body), field: name, admitted: admitted, "GET \(target)")
                    checked += 1
                }
            }
        }
        #expect(checked > 150, "only \(checked) bounds checked")
        // A first message of 60 family emoji (7 scalars each) makes a title within the rule, not a store error.
        let family = String(repeating: "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}", count: 60)
        let sent = try await server.request(
            "POST", "/chat/message", token: admin, body: JSONWriter.compact(.object([("message", .string(family))])))
        #expect(sent.status == 200, "\(sent.status) \(sent.body)")
    }

    /// A value the schema admits is not refused for `field`; one it does not admit is a 422 naming `field` (or the
    /// Aksara API's 400 for an empty chat message).
    static func expect(_ answer: (status: Int, body: String), field: String, admitted: Bool, _ label: String) {
        let named = (try? JSONParser.parse(answer.body))?["error"]?["details"]?.arrayValue?
            .contains { $0["field"]?.stringValue == field } ?? false
        #expect(answer.status < 500, "\(label): \(answer.status) \(answer.body)")
        if admitted {
            #expect(!named && answer.status != 400, "\(label) was refused: \(answer.status) \(answer.body)")
        } else {
            #expect(
                (answer.status == 422 && named) || (field == "message" && answer.status == 400),
                "\(label) was not refused for \(field): \(answer.status) \(answer.body)")
        }
    }
}
