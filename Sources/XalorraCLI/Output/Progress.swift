#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress display on stderr, drawn only when stderr is a terminal, redrawn at most 10 times a second.
/// Labels may quote data (a file or model name): the terminal escapes them like any other line.
final class Progress {
    private let terminal: Terminal
    private let enabled: Bool
    private var lastDraw: Int64 = 0
    private let started: Int64

    init(terminal: Terminal) {
        self.terminal = terminal
        self.enabled = terminal.stderrIsTTY
        self.started = Progress.nowMillis()
    }

    /// Shows `label` with a bar for `done` of `total` (or a count when the total is unknown).
    func update(_ label: String, done: Int, total: Int?) {
        guard enabled else { return }
        let now = Progress.nowMillis()
        guard now - lastDraw >= 100 || (total != nil && done == total) else { return }
        lastDraw = now
        var line = label
        if let total, total > 0 {
            let width = 30
            let filled = min(width, done * width / total)
            line += " [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
            line += " \(done * 100 / total)%"
        } else {
            line += " \(done)"
        }
        let tenths = (now - started) / 100
        line += " \(tenths / 10).\(tenths % 10)s"
        terminal.redrawStatus(line)
    }

    /// Shows a phase without a count.
    func status(_ label: String) {
        guard enabled else { return }
        terminal.redrawStatus(label)
    }

    /// Clears the line.
    func finish() {
        guard enabled else { return }
        terminal.clearStatus()
    }

    private static func nowMillis() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
