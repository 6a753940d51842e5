#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCore

/// `xalorra logs export`: every logged prediction matching the filters, oldest first, as NDJSON or CSV, written as it
/// is read (offline) or received (with `--url`, from `GET /logs/export`).
enum LogsExportCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let request = try LogExportRequest(
            model: arguments.text("--model"), since: arguments.time("--since"), until: arguments.time("--until"),
            tenant: arguments.text("--tenant"),
            format: arguments.text("--format").flatMap(LogExportFormat.init(rawValue:)) ?? .standard)
        let target = arguments.text("--output") ?? "-"
        let chunks = try await context.api().exportLogs(request)
        guard target != "-" else {
            context.terminal.flush()
            for try await chunk in chunks {
                // A terminal gets the bytes made safe to show (as every JSON document the CLI prints); a pipe gets
                // them as they are.
                let shown = context.terminal.stdoutIsTTY ? TerminalText.jsonSafe(chunk) : chunk
                guard try writeStandardOutput(shown) else { return brokenPipeStatus }
            }
            return 0
        }
        let file = try ExportFile(path: target)
        var rows = RowCounter(format: request.format)
        do {
            for try await chunk in chunks {
                try file.write(chunk)
                rows.count(chunk)
            }
            try file.commit()
        } catch {
            file.discard()
            throw error
        }
        if !context.json {
            let noun = rows.rows == 1 ? "prediction" : "predictions"
            context.terminal.print(
                "exported \(rows.rows) \(noun) to \(target) (\(ModelText.bytes(file.written)))")
        }
        return 0
    }

    /// What a shell reports for a process that SIGPIPE ended (128 + 13).
    static let brokenPipeStatus: Int32 = 141

    /// Writes `bytes` to standard output; `false` when its reader has gone (`xalorra logs export | head`). Offline,
    /// SIGPIPE ends the process there; with `--url` the HTTP client has SIGPIPE ignored, so without this check the
    /// export would go on downloading the whole log into a closed pipe. Either way the export stops, with the status
    /// a shell shows for SIGPIPE.
    static func writeStandardOutput(_ bytes: [UInt8]) throws(XalorraError) -> Bool {
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                offset += written
            }
        }
        if failure == EPIPE { return false }
        guard failure == 0 else {
            throw XalorraError(.internal, "cannot write standard output: \(String(cString: strerror(failure)))")
        }
        return true
    }

    /// Counts the rows of an export as its chunks pass: line feeds outside quotes, less the CSV header's.
    struct RowCounter {
        let format: LogExportFormat
        private var lines = 0
        private var quoted = false

        init(format: LogExportFormat) { self.format = format }

        /// The rows seen so far.
        var rows: Int { format == .csv ? max(0, lines - 1) : lines }

        mutating func count(_ chunk: [UInt8]) {
            for byte in chunk {
                // In CSV a quote toggles; a doubled quote inside a field toggles twice. JSON escapes its line feeds.
                if byte == UInt8(ascii: "\""), format == .csv { quoted.toggle() }
                if byte == 0x0A, !quoted { lines += 1 }
            }
        }
    }

    /// The `--output` file: written under a temporary name beside it and renamed into place at the end, so that a
    /// failed export leaves no partial file behind, nor a half-replaced earlier one. Mode 0600: the log holds
    /// every tenant's inputs.
    final class ExportFile {
        private let path: String
        private let temporary: String
        private var fd: Int32
        /// Bytes written so far.
        private(set) var written = 0

        init(path: String) throws(XalorraError) {
            self.path = path
            self.temporary = "\(path).tmp.\(getpid())"
            fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                throw XalorraError(.internal, "cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }

        func write(_ bytes: [UInt8]) throws(XalorraError) {
            try FileSystem.writeAll(fd: fd, bytes: bytes, name: path)
            written += bytes.count
        }

        /// Flushes the file to disk and renames it into place.
        func commit() throws(XalorraError) {
            fsync(fd)
            close(fd)
            fd = -1
            guard rename(temporary, path) == 0 else {
                let reason = String(cString: strerror(errno))
                unlink(temporary)
                throw XalorraError(.internal, "cannot write \(path): \(reason)")
            }
        }

        /// Removes the temporary file.
        func discard() {
            if fd >= 0 { close(fd) }
            fd = -1
            unlink(temporary)
        }
    }
}
