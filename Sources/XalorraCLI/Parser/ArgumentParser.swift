import XalorraCore

/// Turns argv into ``ParsedArguments`` by reading the command table, in two steps as ripgrep does: tokens into raw
/// option and argument strings for the selected command, then validated, typed values.
public enum ArgumentParser {
    /// What the command line asks for.
    public enum Outcome: Sendable {
        /// Run the command.
        case run(ParsedArguments)
        /// Print help for the command at this path.
        case help([String])
        /// Print the version.
        case version
    }

    /// Parses `arguments` (without the program name).
    public static func parse(_ arguments: [String], now: Timestamp = .now()) throws(UsageError) -> Outcome {
        var raw = RawArguments()
        var firstError: UsageError?
        func fail(_ message: String) {
            if firstError == nil { firstError = UsageError(message, path: raw.path) }
        }
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let token = arguments[index]
            index += 1
            if onlyPositionals {
                raw.positionals.append(token)
            } else if token == "--" {
                onlyPositionals = true
            } else if token.hasPrefix("--"), token.count > 2 {
                let body = token.dropFirst(2)
                let name = "--" + (body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "")
                let inline = body.contains("=") ? String(body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[1]) : nil
                guard let spec = raw.option(named: name) else {
                    fail("Unknown option '\(name)'.\(Suggestion.phrase(for: name, in: raw.optionNames))")
                    continue
                }
                if spec.value == nil {
                    if inline != nil { fail("The option '\(name)' does not take a value.") }
                    raw.options.append((spec, nil))
                } else if let inline {
                    raw.options.append((spec, inline))
                } else if index < arguments.count {
                    raw.options.append((spec, arguments[index]))
                    index += 1
                } else {
                    fail("Missing value for '\(spec.synopsis)'.")
                }
            } else if token.hasPrefix("-"), token.count > 1, !isNumeric(token) {
                var letters = Array(token.dropFirst())
                while !letters.isEmpty {
                    let letter = letters.removeFirst()
                    guard let spec = raw.option(short: letter) else {
                        fail("Unknown option '-\(letter)'.")
                        break
                    }
                    if spec.value == nil {
                        raw.options.append((spec, nil))
                    } else if !letters.isEmpty {
                        raw.options.append((spec, String(letters)))
                        letters = []
                    } else if index < arguments.count {
                        raw.options.append((spec, arguments[index]))
                        index += 1
                    } else {
                        fail("Missing value for '\(spec.synopsis)'.")
                    }
                }
            } else if raw.positionals.isEmpty, let sub = raw.command.subcommand(token) {
                raw.descend(into: sub)
            } else if raw.positionals.isEmpty, !raw.command.subcommands.isEmpty, raw.command.arguments.isEmpty {
                let names = raw.command.subcommands.map(\.name)
                fail("Unknown command '\(token)'.\(Suggestion.phrase(for: token, in: names))")
            } else {
                raw.positionals.append(token)
            }
        }
        if raw.options.contains(where: { $0.0.long == "--help" }) { return .help(raw.path) }
        if raw.options.contains(where: { $0.0.long == "--version" }) { return .version }
        if let firstError { throw firstError }
        return .run(try raw.typed(now: now))
    }

    /// `-1`, `-2.5`, `-.5`: negative numbers are values, not options.
    static func isNumeric(_ token: String) -> Bool {
        let second = token.utf8.dropFirst().first ?? 0
        return second &- 48 < 10 || second == UInt8(ascii: ".")
    }
}

/// Step one's result: the selected command and the strings given for it.
struct RawArguments {
    var command = CommandTable.root
    var path: [String] = []
    var options: [(OptionSpec, String?)] = []
    var positionals: [String] = []

    /// The options valid here: the command's own, then the global ones.
    var validOptions: [OptionSpec] { command.options + CommandTable.globalOptions }
    var optionNames: [String] { validOptions.map { $0.long } }

    func option(named long: String) -> OptionSpec? { validOptions.first { $0.long == long } }
    func option(short: Character) -> OptionSpec? { validOptions.first { $0.short == short } }

    mutating func descend(into sub: CommandSpec) {
        command = sub
        path.append(sub.name)
    }

    /// Step two: every value checked against its kind, arguments matched to positions.
    func typed(now: Timestamp) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments(path: path, command: command)
        for (spec, value) in options {
            guard command.options.contains(spec) || CommandTable.globalOptions.contains(spec) else {
                let full = ([CommandTable.program] + path).joined(separator: " ")
                throw UsageError("Unknown option '\(spec.long)' for '\(full)'.", path: path)
            }
            guard let kind = spec.value, let value else {
                parsed.options[spec.long, default: []].append(ParsedValue.text(""))
                continue
            }
            switch ParsedValue.make(value, as: kind, now: now) {
            case .success(let typed): parsed.options[spec.long, default: []].append(typed)
            case .failure(let problem):
                throw UsageError(Self.invalid(value, for: "\(spec.long) <\(spec.metaVar)>", problem), path: path)
            }
        }
        var remaining = positionals[...]
        for argument in command.arguments {
            if remaining.isEmpty {
                if argument.optional { continue }
                throw UsageError("Missing expected argument '<\(argument.name)>'.", path: path)
            }
            let taken = argument.repeating ? Array(remaining) : [remaining.first!]
            remaining = remaining.dropFirst(taken.count)
            for value in taken {
                switch ParsedValue.make(value, as: argument.kind, now: now) {
                case .success(let typed): parsed.arguments[argument.name, default: []].append(typed)
                case .failure(let problem):
                    throw UsageError(Self.invalid(value, for: "<\(argument.name)>", problem), path: path)
                }
            }
        }
        if let extra = remaining.first {
            throw UsageError("Unexpected argument '\(extra)'.", path: path)
        }
        return parsed
    }

    private static func invalid(_ value: String, for name: String, _ problem: ValueProblem) -> String {
        let hint = problem.suggestion.map { " Did you mean '\($0)'?" } ?? ""
        return "The value '\(value)' is invalid for '\(name)': \(problem.reason).\(hint)"
    }
}
