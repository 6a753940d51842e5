import Testing
@testable import XalorraCLI
import XalorraCore
import XalorraML

/// The hand-written parser: every usage error names what is wrong, and valid lines parse into typed values.
struct ParserTests {
    private func usageError(_ arguments: [String]) -> UsageError? {
        do {
            _ = try ArgumentParser.parse(arguments)
            return nil
        } catch {
            return error
        }
    }

    private func parsed(_ arguments: [String]) throws -> ParsedArguments {
        guard case .run(let parsed) = try ArgumentParser.parse(arguments) else {
            Issue.record("expected a command to run for \(arguments)")
            throw UsageError("not a run", path: [])
        }
        return parsed
    }

    /// A misspelt option is refused with the closest valid spelling.
    @Test func unknownOptionSuggestsClosest() {
        let error = usageError(["logs", "--modle", "x"])
        #expect(error?.message == "Unknown option '--modle'. Did you mean '--model'?")
        #expect(error?.path == ["logs"])
    }

    /// A misspelt command is refused with the closest command.
    @Test func unknownCommandSuggestsClosest() {
        #expect(usageError(["prdict"])?.message == "Unknown command 'prdict'. Did you mean 'predict'?")
    }

    /// A bad feature value is named in the error.
    @Test func badFeatureIsNamed() {
        #expect(
            usageError(["predict", "m", "1", "x"])?.message
                == "The value 'x' is invalid for '<feature>': not a finite number.")
        for bad in ["nan", "inf", "-Infinity", "", "0x10", "1e", "1.2.3"] {
            #expect(usageError(["predict", "m", bad]) != nil, "\(bad) must be refused")
        }
    }

    /// A missing positional argument is named.
    @Test func missingArgument() {
        #expect(usageError(["predict"])?.message == "Missing expected argument '<model>'.")
        #expect(usageError(["token", "verify"])?.message == "Missing expected argument '<token>'.")
    }

    /// Extra positional values are refused.
    @Test func unexpectedArgument() {
        #expect(usageError(["routes", "extra"])?.message == "Unexpected argument 'extra'.")
    }

    /// Option values are checked against their kind, with a suggestion for choices.
    @Test func badOptionValues() {
        #expect(
            usageError(["logs", "--limit", "0"])?.message
                == "The value '0' is invalid for '--limit <n>': expected a whole number from 1 to 1000.")
        #expect(
            usageError(["token", "--role", "admn"])?.message
                == "The value 'admn' is invalid for '--role <role>': expected one of admin, user. Did you mean 'admin'?")
        #expect(usageError(["token", "--ttl", "soon"])?.message.contains("expected a duration") == true)
        #expect(usageError(["logs", "--since", "yesterday"])?.message.contains("ISO time") == true)
        #expect(usageError(["logs", "--limit"])?.message == "Missing value for '-n, --limit <n>'.")
        #expect(usageError(["routes", "--json=yes"])?.message == "The option '--json' does not take a value.")
    }

    /// An option of another command is refused even when it is valid elsewhere.
    @Test func optionOfAnotherCommand() {
        #expect(usageError(["routes", "--model", "x"])?.message.hasPrefix("Unknown option '--model'") == true)
        #expect(usageError(["token", "--ttl", "1h", "verify", "t"])?.message == "Unknown option '--ttl' for 'xalorra token verify'.")
    }

    /// Global options work before and after the subcommand; `--opt=value`, short clusters and `--` work.
    @Test func globalOptionsAnywhere() throws {
        let before = try parsed(["--json", "--home", "/tmp/h", "logs", "-n", "5"])
        let after = try parsed(["logs", "-n5", "--json", "--home=/tmp/h"])
        for line in [before, after] {
            #expect(line.path == ["logs"])
            #expect(line.has("--json"))
            #expect(line.text("--home") == "/tmp/h")
            #expect(line.integer("--limit") == 5)
        }
        let tail = try parsed(["logs", "-fn", "3"])
        #expect(tail.has("--tail") && tail.integer("--limit") == 3)
        let dashed = try parsed(["predict", "m", "--", "-5"])
        #expect(dashed.numbers("feature") == [.int(-5)])
    }

    /// Negative numbers are feature values, not options.
    @Test func negativeNumbersArePositional() throws {
        let line = try parsed(["predict", "xgb-v2", "-1", "2.5", "-.5", "1e3"])
        #expect(line.numbers("feature") == [.int(-1), .double(2.5), .double(-0.5), .double(1000)])
    }

    /// `--help` wins over errors and selects the command's help; `--version` prints the version.
    @Test func helpAndVersion() throws {
        guard case .help(let path) = try ArgumentParser.parse(["predict", "--bogus", "--help"]) else {
            Issue.record("expected help")
            return
        }
        #expect(path == ["predict"])
        guard case .version = try ArgumentParser.parse(["--version"]) else {
            Issue.record("expected version")
            return
        }
    }

    /// Relative times are turned into instants before now.
    @Test func relativeTimes() throws {
        let now = Timestamp(microseconds: 10_000_000_000_000)
        guard case .run(let line) = try ArgumentParser.parse(["logs", "--since", "2h"], now: now) else { return }
        #expect(line.time("--since") == now.adding(seconds: -7200))
        guard case .run(let iso) = try ArgumentParser.parse(["logs", "--until", "2025-07-20T14:21:11Z"], now: now)
        else { return }
        #expect(iso.time("--until")?.iso8601Seconds == "2025-07-20T14:21:11Z")
    }

    /// Suggestions only appear for near misses.
    @Test func suggestionDistance() {
        #expect(Suggestion.closest(to: "--modle", in: ["--model", "--limit"]) == "--model")
        #expect(Suggestion.closest(to: "--zzzzzz", in: ["--model", "--limit"]) == nil)
    }
}
