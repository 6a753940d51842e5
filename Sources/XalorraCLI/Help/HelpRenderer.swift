import XalorraCore

/// Help text in swift-argument-parser's layout (OVERVIEW, USAGE, ARGUMENTS, OPTIONS, SUBCOMMANDS), from the table.
public enum HelpRenderer {
    /// The column where descriptions start.
    static let column = 28

    /// Full help for the command at `path`.
    public static func help(for path: [String]) -> String {
        guard let command = CommandTable.command(at: path) else { return help(for: []) }
        var lines: [String] = ["OVERVIEW: \(command.summary)"]
        if let discussion = command.discussion { lines += ["", discussion] }
        lines += ["", "USAGE: \(usage(for: path))"]
        if !command.arguments.isEmpty {
            lines += ["", "ARGUMENTS:"] + command.arguments.map { row("<\($0.name)>", $0.help) }
        }
        if !command.options.isEmpty {
            lines += ["", "OPTIONS:"] + command.options.map(optionRow)
        }
        lines += ["", path.isEmpty ? "OPTIONS:" : "GLOBAL OPTIONS:"] + CommandTable.globalOptions.map(optionRow)
        if !command.subcommands.isEmpty {
            lines += ["", "SUBCOMMANDS:"] + command.subcommands.map { row($0.name, $0.summary) }
            lines += ["", "  See '\(CommandTable.program) help \(path.map { $0 + " " }.joined())<subcommand>' for detailed help."]
        }
        if path.isEmpty {
            lines += ["", "ENVIRONMENT:"] + SettingKey.all.map { key in
                row(key.environment, key.summary + (key.defaultValue.map { " (default: \($0))" } ?? ""))
            }
            lines += ["", "EXIT STATUS:", row("0", "success"), row("1", "the operation failed"),
                row("2", "usage error: bad arguments or input"), row("4", "authentication or permission refused")]
        }
        if !command.examples.isEmpty {
            lines += ["", "EXAMPLES:"] + command.examples.map { "  " + $0 }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `xalorra predict <model> [<feature> ...] [--file <path>] [--format <format>]`.
    public static func usage(for path: [String]) -> String {
        guard let command = CommandTable.command(at: path) else { return CommandTable.program }
        var parts = [CommandTable.program] + path
        if !command.subcommands.isEmpty {
            parts.append(command.run == nil ? "<subcommand>" : "[<subcommand>]")
        }
        parts += command.arguments.map(\.synopsis)
        parts += command.options.map { "[\($0.long)\($0.value == nil ? "" : " <\($0.metaVar)>")]" }
        return parts.joined(separator: " ")
    }

    private static func optionRow(_ option: OptionSpec) -> String {
        var help = option.help
        if let defaultText = option.defaultText { help += " (default: \(defaultText))" }
        return row(option.synopsis, help)
    }

    private static func row(_ label: String, _ help: String) -> String {
        let indented = "  " + label
        if indented.count + 2 > column { return indented + "\n" + String(repeating: " ", count: column) + help }
        return indented + String(repeating: " ", count: column - indented.count) + help
    }
}
