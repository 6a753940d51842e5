#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCore

/// Standard output and error for one command: buffered stdout, unbuffered stderr, colour only on a TTY without
/// `NO_COLOR`. Writes go to the file descriptors directly (Glibc's `stdout` is not concurrency-safe in Swift 6).
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

    /// Appends `text`, and a newline unless `terminator` is false, to stdout.
    public func print(_ text: String, terminator: Bool = true) {
        buffer.append(contentsOf: text.utf8)
        if terminator { buffer.append(0x0A) }
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Appends raw bytes to stdout.
    public func write(_ bytes: [UInt8]) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    /// Writes what is buffered for stdout.
    public func flush() {
        guard !buffer.isEmpty else { return }
        try? FileSystem.writeAll(fd: outFD, bytes: buffer, name: "standard output")
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes a line to stderr at once.
    public func printError(_ text: String) {
        try? FileSystem.writeAll(fd: errFD, bytes: Array((text + "\n").utf8), name: "standard error")
    }

    /// Writes to stderr without a newline (progress lines).
    public func writeError(_ text: String) {
        try? FileSystem.writeAll(fd: errFD, bytes: Array(text.utf8), name: "standard error")
    }

    /// `error: message`, the prefix in red when stderr is a colour terminal.
    public func error(_ message: String, hint: String? = nil) {
        printError(paint("error:", .red, on: colorErrors) + " " + message)
        if let hint { printError(paint("hint:", .yellow, on: colorErrors) + " " + hint) }
    }

    /// `warning: message` on stderr.
    public func warning(_ message: String) {
        printError(paint("warning:", .yellow, on: colorErrors) + " " + message)
    }

    /// ANSI colours used.
    public enum Color: String {
        case red = "31", yellow = "33", bold = "1", dim = "2", cyan = "36", green = "32"
    }

    /// `text` wrapped in an ANSI colour when `on`.
    public func paint(_ text: String, _ color: Color, on: Bool) -> String {
        on ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }
}
