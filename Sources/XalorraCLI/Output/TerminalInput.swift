#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCore

/// What a command asks on the terminal: passwords (a prompt without echo, or standard input with
/// `--password-stdin`; never the command line, where other users' `ps` would see them), confirmations, and the
/// lines of an interactive chat.
enum TerminalInput {
    /// One password: the first line of stdin with `--password-stdin`, else asked (twice when `confirm`).
    static func read(_ context: CommandContext, prompt: String, confirm: Bool) throws -> String {
        if context.arguments.has("--password-stdin") { return try stdinLines(count: 1)[0] }
        try requireTerminal(context)
        let password = try ask(prompt, echo: false)
        if confirm, try ask("Again: ", echo: false) != password {
            throw XalorraError(.validation, "the two passwords differ; nothing was changed")
        }
        return password
    }

    /// The current and the new password: two lines of stdin with `--password-stdin`, else asked.
    static func readChange(_ context: CommandContext) throws -> (current: String, new: String) {
        if context.arguments.has("--password-stdin") {
            let lines = try stdinLines(count: 2)
            return (lines[0], lines[1])
        }
        try requireTerminal(context)
        let current = try ask("Current password: ", echo: false)
        let new = try ask("New password: ", echo: false)
        guard try ask("Again: ", echo: false) == new else {
            throw XalorraError(.validation, "the two new passwords differ; nothing was changed")
        }
        return (current, new)
    }

    /// Writes `prompt` to stderr (escaped for the terminal: it may quote a name, and in `style` when given) and
    /// reads one line from the terminal on stdin, with echo off unless `echo`.
    static func ask(_ prompt: String, echo: Bool, style: Terminal.Color? = nil) throws -> String {
        let shown = Terminal.paint(TerminalText.escaped(prompt), style, on: style != nil)
        try FileSystem.writeAll(fd: 2, bytes: Array(shown.utf8), name: "standard error")
        var saved = termios()
        let hidden = !echo && tcgetattr(0, &saved) == 0
        if hidden {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(0, TCSANOW, &quiet)
        }
        defer {
            if hidden {
                tcsetattr(0, TCSANOW, &saved)
                try? FileSystem.writeAll(fd: 2, bytes: [0x0A], name: "standard error")
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = Glibc.read(0, &byte, 1)
            if count < 0, errno == EINTR { continue }
            guard count == 1 else {
                if line.isEmpty { throw XalorraError(.validation, "no input: standard input ended") }
                break
            }
            if byte == 0x0A { break }
            line.append(byte)
        }
        if line.last == 0x0D { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }

    private static func requireTerminal(_ context: CommandContext) throws {
        guard context.terminal.stdinIsTTY else {
            throw UsageError(
                "no terminal to ask for the password on: pass --password-stdin and write it to standard input",
                path: context.arguments.path)
        }
    }

    /// The first `count` lines of standard input, without their line ends.
    private static func stdinLines(count: Int) throws -> [String] {
        let text = String(decoding: try FileSystem.readAll(fd: 0, name: "standard input"), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if lines.last == "" { lines.removeLast() }
        guard lines.count >= count else {
            throw XalorraError(
                .validation,
                count == 1
                    ? "--password-stdin: standard input is empty"
                    : "--password-stdin: expected \(count) lines (the current password, then the new one)")
        }
        return Array(lines.prefix(count))
    }
}
