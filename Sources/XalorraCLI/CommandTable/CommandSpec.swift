/// What a value on the command line must look like: the parser validates it, completions offer it.
public enum ValueKind: Sendable, Equatable {
    /// Any text.
    case text
    /// A whole number within a range.
    case integer(ClosedRange<Int>)
    /// A finite number (`6`, `-1.5`).
    case number
    /// A length of time: `90s`, `15m`, `1h`, `30d`.
    case duration
    /// An ISO time, or a duration meaning that long ago (`15m`).
    case time
    /// One of a fixed set of words.
    case choice([String])
    /// A file path (`-` for standard input where the help says so).
    case file
}

/// One `--option` of a command.
public struct OptionSpec: Sendable, Equatable {
    /// The long spelling, with its dashes (`--model`).
    public let long: String
    /// The one-letter spelling, if any (`f` for `-f`).
    public let short: Character?
    /// The value it takes; `nil` for a flag.
    public let value: ValueKind?
    /// The value's placeholder in help (`<model>`).
    public let metaVar: String
    /// The default, as help shows it.
    public let defaultText: String?
    /// One line for help.
    public let help: String

    /// An option that takes a value.
    public static func value(
        _ long: String, short: Character? = nil, _ kind: ValueKind, metaVar: String, default defaultText: String? = nil,
        _ help: String
    ) -> OptionSpec {
        OptionSpec(long: long, short: short, value: kind, metaVar: metaVar, defaultText: defaultText, help: help)
    }

    /// An option without a value.
    public static func flag(_ long: String, short: Character? = nil, _ help: String) -> OptionSpec {
        OptionSpec(long: long, short: short, value: nil, metaVar: "", defaultText: nil, help: help)
    }

    /// `-f, --file <path>` or `--json`, as help and usage print it.
    public var synopsis: String {
        var text = short.map { "-\($0), " } ?? ""
        text += long
        if value != nil { text += " <\(metaVar)>" }
        return text
    }
}

/// One positional argument of a command.
public struct ArgumentSpec: Sendable, Equatable {
    /// The name help shows (`model` appears as `<model>`).
    public let name: String
    /// The value it takes.
    public let kind: ValueKind
    /// Whether it may be left out.
    public let optional: Bool
    /// Whether it takes every remaining positional value.
    public let repeating: Bool
    /// One line for help.
    public let help: String

    /// Creates a text argument.
    public init(_ name: String, optional: Bool = false, repeating: Bool = false, _ help: String) {
        self.init(name, .text, optional: optional, repeating: repeating, help)
    }

    /// Creates an argument whose values are of `kind`.
    public init(_ name: String, _ kind: ValueKind, optional: Bool = false, repeating: Bool = false, _ help: String) {
        self.name = name
        self.kind = kind
        self.optional = optional
        self.repeating = repeating
        self.help = help
    }

    /// `<model>`, `[<feature> ...]`.
    public var synopsis: String {
        let core = "<\(name)>" + (repeating ? " ..." : "")
        return optional ? "[\(core)]" : core
    }
}

/// A command or subcommand: the unit of help, parsing and dispatch.
public struct CommandSpec: Sendable {
    /// The word that selects it.
    public let name: String
    /// One line for lists and the OVERVIEW.
    public let summary: String
    /// More text for its own help, if any.
    public let discussion: String?
    /// Positional arguments, in order.
    public let arguments: [ArgumentSpec]
    /// Its own options (global options are added by the table).
    public let options: [OptionSpec]
    /// Its subcommands.
    public let subcommands: [CommandSpec]
    /// Example invocations for help and the man page.
    public let examples: [String]
    /// What runs it; `nil` for a group whose subcommands do the work.
    public let run: (@Sendable (CommandContext) async throws -> Int32)?

    /// Creates a command.
    public init(
        _ name: String, summary: String, discussion: String? = nil, arguments: [ArgumentSpec] = [],
        options: [OptionSpec] = [], subcommands: [CommandSpec] = [], examples: [String] = [],
        run: (@Sendable (CommandContext) async throws -> Int32)? = nil
    ) {
        self.name = name
        self.summary = summary
        self.discussion = discussion
        self.arguments = arguments
        self.options = options
        self.subcommands = subcommands
        self.examples = examples
        self.run = run
    }

    /// The subcommand called `name`.
    public func subcommand(_ name: String) -> CommandSpec? { subcommands.first { $0.name == name } }
}
