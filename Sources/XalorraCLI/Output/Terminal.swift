#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCore

/// Standard output and error for one command: buffered stdout, unbuffered stderr, colour only on a TTY without
/// `NO_COLOR`. Writes go to the file descriptors directly (Glibc's `stdout` is not concurrency-safe in Swift 6).
///
/// Every writer makes its text safe for a terminal (``TerminalText``): what a command prints may quote stored data
/// (a user's email, a feature name, a chat title, a server's error message), and none of it may reach the terminal
/// as a control sequence. `print`, `printError`, `error` and `warning` write one line each, so a line feed inside
/// them is escaped too; `printText` keeps the line feeds of content that has lines (chat replies, help). Colour is
/// asked for with a `style`, never written into the text, so the only escape sequences that reach the terminal are
/// the ones this type writes.
public final class Terminal: @unchecked Sendable {
    // @unchecked: `buffer` is the only mutable state and is never touched by two tasks at once: a command writes
    // from its own task, and `logs --tail` hands writing to its follow task while the command task only awaits it.
    private var buffer: [UInt8] = []
    private let outFD: Int32
    private let errFD: Int32
    /// Whether standard output is a terminal.
    public let stdoutIsTTY: Bool
    /// Whether standard error is a terminal.
    public let stderrIsTTY: Bool
    /// Whether standard input is a terminal.
    public let stdinIsTTY: Bool
    /// Whether to colour what goes to stderr.
    public let colorErrors: Bool
    /// Whether to colour what goes to stdout.
    public let colorOutput: Bool

    /// A terminal on the process's standard streams.
    public init(environment: [String: String], outFD: Int32 = 1, errFD: Int32 = 2) {
        self.outFD = outFD
        self.errFD = errFD
        stdoutIsTTY = isatty(outFD) == 1
        stderrIsTTY = isatty(errFD) == 1
        stdinIsTTY = isatty(0) == 1
        let noColor = environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        let dumb = environment["TERM"] == "dumb"
        colorOutput = stdoutIsTTY && !noColor && !dumb
        colorErrors = stderrIsTTY && !noColor && !dumb
        buffer.reserveCapacity(1 << 16)
    }

    // MARK: Standard output

    /// Appends one line to stdout (without its newline when `terminator` is false), every control character in it
    /// escaped, in `style` when stdout is a colour terminal.
    public func print(_ line: String, style: Color? = nil, terminator: Bool = true) {
        append(paint(TerminalText.escaped(line), style, on: colorOutput), terminator: terminator)
    }

    /// Appends text that has lines of its own to stdout: its line feeds and tabs stay, every other control
    /// character is escaped.
    public func printText(_ text: String, terminator: Bool = true) {
        append(TerminalText.escaped(text, .text), terminator: terminator)
    }

    /// Appends one line of JSON to stdout: the text as written, except that characters JSON allows raw but a
    /// terminal obeys are written as `\u` escapes (the same JSON value).
    public func printJSON(_ json: String) {
        append(bytes: TerminalText.jsonSafe(Array(json.utf8)) + [0x0A])
    }

    /// Appends a JSON document's bytes to stdout (an exported model, batch predictions): as they are into a pipe or
    /// a file, made safe as ``printJSON(_:)`` does when stdout is a terminal.
    public func write(_ bytes: [UInt8]) { append(bytes: stdoutIsTTY ? TerminalText.jsonSafe(bytes) : bytes) }

    /// Writes what is buffered for stdout.
    public func flush() {
        guard !buffer.isEmpty else { return }
        try? FileSystem.writeAll(fd: outFD, bytes: buffer, name: "standard output")
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: Standard error

    /// Writes one line to stderr at once, every control character in it escaped, in `style` on a colour terminal.
    public func printError(_ line: String, style: Color? = nil) {
        writeError(paint(TerminalText.escaped(line), style, on: colorErrors) + "\n")
    }

    /// `label message` on stderr, the label coloured on a colour terminal (`error:`, `hint:`, `warning:`): the one
    /// place these prefixes are rendered, reached through `error` and `warning`.
    private func printError(label: String, _ color: Color, _ message: String) {
        writeError(paint(label, color, on: colorErrors) + " " + TerminalText.escaped(message) + "\n")
    }

    /// `error: message`, the prefix in red when stderr is a colour terminal, and `hint: …` when there is one. Every
    /// failure the CLI reports, usage errors included, starts this way (as git and cargo print it).
    public func error(_ message: String, hint: String? = nil) {
        printError(label: "error:", .red, message)
        if let hint { printError(label: "hint:", .yellow, hint) }
    }

    /// `warning: message` on stderr.
    public func warning(_ message: String) { printError(label: "warning:", .yellow, message) }

    /// Replaces the status line on stderr (progress) with `line`, escaped.
    func redrawStatus(_ line: String) { writeError(Self.clearLine + TerminalText.escaped(line)) }

    /// Clears the status line on stderr.
    func clearStatus() { writeError(Self.clearLine) }

    // MARK: Styles

    /// ANSI colours used.
    public enum Color: String, Sendable {
        case red = "31", yellow = "33", bold = "1", dim = "2", cyan = "36", green = "32"
    }

    /// `text` wrapped in an ANSI colour when `on` and a colour is given. `text` must already be safe: this is the
    /// one place escape sequences are made.
    static func paint(_ text: String, _ color: Color?, on: Bool) -> String {
        guard on, let color else { return text }
        return "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m"
    }

    private func paint(_ text: String, _ color: Color?, on: Bool) -> String { Self.paint(text, color, on: on) }

    /// Back to the start of the line, and erase it.
    private static let clearLine = "\r\u{1B}[2K"

    // MARK: Writing

    private func append(_ text: String, terminator: Bool) {
        buffer.append(contentsOf: text.utf8)
        if terminator { buffer.append(0x0A) }
        if buffer.count >= 1 << 16 { flush() }
    }

    private func append(bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    private func writeError(_ text: String) {
        try? FileSystem.writeAll(fd: errFD, bytes: Array(text.utf8), name: "standard error")
    }
}
