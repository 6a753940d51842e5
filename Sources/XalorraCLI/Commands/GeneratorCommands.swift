/// `xalorra completions SHELL` and `xalorra man`: files generated from the command table.
enum GeneratorCommands {
    static func completions(_ context: CommandContext) async throws -> Int32 {
        context.terminal.printText(script(for: context.arguments.argument("shell") ?? ""), terminator: false)
        return 0
    }

    static func man(_ context: CommandContext) async throws -> Int32 {
        context.terminal.printText(ManPage.render(), terminator: false)
        return 0
    }

    /// The completion script for `shell` (`bash`, `zsh` or `fish`; the parser has checked it).
    static func script(for shell: String) -> String {
        switch shell {
        case "zsh": ZshCompletion.render()
        case "fish": FishCompletion.render()
        default: BashCompletion.render()
        }
    }

    /// The committed files and their generated contents, for `scripts` and the consistency test.
    public static let generatedFiles: [(path: String, render: @Sendable () -> String)] = [
        ("completions/xalorra.bash", BashCompletion.render),
        ("completions/_xalorra", ZshCompletion.render),
        ("completions/xalorra.fish", FishCompletion.render),
        ("man/xalorra.1", ManPage.render),
    ]
}
