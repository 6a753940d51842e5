/// `xalorra help [COMMAND [SUBCOMMAND]]`.
enum HelpCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let words = (context.arguments.arguments["command"] ?? []).compactMap { value -> String? in
            if case .text(let text) = value { return text }
            return nil
        }
        var path: [String] = []
        for word in words {
            guard let command = CommandTable.command(at: path), command.subcommand(word) != nil else {
                let names = CommandTable.command(at: path)?.subcommands.map(\.name) ?? []
                throw UsageError(
                    "Unknown command '\(word)'.\(Suggestion.phrase(for: word, in: names))", path: context.arguments.path)
            }
            path.append(word)
        }
        context.terminal.printText(HelpRenderer.help(for: path), terminator: false)
        return 0
    }
}
