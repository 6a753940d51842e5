#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import XalorraML

/// The seed's text log, `$XALORRA_HOME/logs/predictions.log`: a copy for people and `tail -f`; the store is the
/// source of truth, so a row is committed before its line is written.
///
/// One writer per process keeps the file open (a server would otherwise open it and create its directory for every
/// request) and reopens it when it has been rotated away.
///
/// Rotation by size (`XALORRA_LOG_MAX_SIZE`, `XALORRA_LOG_KEEP`): before a write, a file at or over `maxSize` is
/// renamed to `predictions.log.1` (`.1` to `.2` …, the last of `keep` dropped) and a new one created. Several
/// processes append to the same file (the server and one-shot `predict`s): every write is one `O_APPEND` write of
/// whole lines, so a line lands whole in whichever file its descriptor names, and rotating is only renames. The
/// rotating process holds an exclusive `flock` on the file it rotates; another writer that finds the file over the
/// size waits for that lock, sees the path now names a new file, and reopens instead of rotating again.
public final class PredictionLogFile: Sendable {
    /// The file's path.
    public let path: String
    /// Rotate once the file has this many bytes; `nil` never rotates.
    public let maxSize: Int?
    /// How many rotated files are kept.
    public let keep: Int
    private let descriptor = Mutex<Int32>(-1)

    /// Creates a writer for `path`; nothing is opened until the first line.
    /// - Parameters:
    ///   - maxSize: rotate when the file reaches this many bytes; `nil` never rotates.
    ///   - keep: rotated files kept (`path.1` newest … `path.keep` oldest), at least 1.
    public init(path: String, maxSize: Int? = nil, keep: Int = 5) {
        self.path = path
        self.maxSize = maxSize
        self.keep = max(keep, 1)
    }

    /// The writer `settings` describe: `$XALORRA_HOME/logs/predictions.log`, rotated as they say.
    public convenience init(settings: Settings) {
        self.init(path: settings.predictionLogPath, maxSize: settings.logMaxSize, keep: settings.logKeep)
    }

    deinit { descriptor.withLock { if $0 >= 0 { close($0) } } }

    /// Appends one line per row of `batch`, in as few `write` calls as fit in 1 MiB buffers.
    public func append(_ batch: PredictionBatch) throws(XalorraError) { try append([batch]) }

    /// Appends the lines of every batch, in order, with as few writes as a 1 MiB buffer allows (one for a
    /// group-committed transaction of single predictions).
    public func append(_ batches: [PredictionBatch]) throws(XalorraError) {
        try descriptor.withLock { (fd: inout Int32) throws(XalorraError) in
            try openIfNeeded(&fd)
            if let maxSize { try rotateIfNeeded(&fd, maxSize: maxSize) }
            try write(batches, to: fd)
        }
    }

    /// Opens the file on first use, and again when it was renamed or deleted (log rotation).
    private func openIfNeeded(_ fd: inout Int32) throws(XalorraError) {
        if fd >= 0 {
            // Still the file at `path`? A rotation renames it (same link count) or deletes it.
            var open = stat()
            var named = stat()
            if fstat(fd, &open) == 0, stat(path, &named) == 0, open.st_ino == named.st_ino, open.st_dev == named.st_dev {
                return
            }
            close(fd)
            fd = -1
        }
        if let slash = path.lastIndex(of: "/") { try FileSystem.makeDirectories(String(path[..<slash])) }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw XalorraError(.internal, "cannot open \(path) for appending") }
    }

    /// Rotates the file `fd` names when it has reached `maxSize`, then reopens `path`. Under the file's `flock`, so
    /// that of several processes over the size only the first rotates; the others find `path` renamed away.
    private func rotateIfNeeded(_ fd: inout Int32, maxSize: Int) throws(XalorraError) {
        var open = stat()
        guard fstat(fd, &open) == 0, Int(open.st_size) >= maxSize else { return }
        guard flock(fd, LOCK_EX) == 0 else { return }
        var named = stat()
        let stillCurrent = stat(path, &named) == 0 && named.st_ino == open.st_ino && named.st_dev == open.st_dev
        if stillCurrent {
            _ = unlink("\(path).\(keep)")
            for index in stride(from: keep - 1, through: 1, by: -1) {
                _ = rename("\(path).\(index)", "\(path).\(index + 1)")
            }
            _ = rename(path, "\(path).1")
        }
        flock(fd, LOCK_UN)
        // Rotated by us or by another process: either way `path` is not this file any more.
        try openIfNeeded(&fd)
    }

    /// The batches' lines were formatted when each batch was made (``PredictionBatch``), a large batch's are formatted
    /// now a block at a time: here they are written, as one buffer of up to 1 MiB at a time, or a batch's own buffer
    /// as it is.
    private func write(_ batches: [PredictionBatch], to fd: Int32) throws(XalorraError) {
        let writeAll = { (bytes: [UInt8]) throws(XalorraError) in
            try FileSystem.writeAll(fd: fd, bytes: bytes, name: self.path)
        }
        if batches.count == 1 {
            try batches[0].writeLogLines(writeAll)
            return
        }
        var out: [UInt8] = []
        func flush() throws(XalorraError) {
            if !out.isEmpty { try writeAll(out) }
            out.removeAll(keepingCapacity: true)
        }
        for batch in batches where batch.textLog {
            guard !batch.logLines.isEmpty, batch.logLines.count <= 1 << 20 else {
                try flush()
                try batch.writeLogLines(writeAll)
                continue
            }
            if out.count + batch.logLines.count > 1 << 20 { try flush() }
            out.append(contentsOf: batch.logLines)
        }
        try flush()
    }
}
