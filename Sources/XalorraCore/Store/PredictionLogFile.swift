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
public final class PredictionLogFile: Sendable {
    /// The file's path.
    public let path: String
    private let descriptor = Mutex<Int32>(-1)

    /// Creates a writer for `path`; nothing is opened until the first line.
    public init(path: String) { self.path = path }

    deinit { descriptor.withLock { if $0 >= 0 { close($0) } } }

    /// Appends one line per row of `batch`, in as few `write` calls as fit in 1 MiB buffers.
    public func append(_ batch: PredictionBatch) throws(XalorraError) { try append([batch]) }

    /// Appends the lines of every batch, in order, with as few writes as a 1 MiB buffer allows (one for a
    /// group-committed transaction of single predictions).
    public func append(_ batches: [PredictionBatch]) throws(XalorraError) {
        try descriptor.withLock { (fd: inout Int32) throws(XalorraError) in
            try openIfNeeded(&fd)
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

    /// The batches' lines were formatted when each batch was made (``PredictionBatch``): here they are only written,
    /// as one buffer of up to 1 MiB at a time, or a large batch's own buffer as it is.
    private func write(_ batches: [PredictionBatch], to fd: Int32) throws(XalorraError) {
        if batches.count == 1 {
            if !batches[0].logLines.isEmpty { try FileSystem.writeAll(fd: fd, bytes: batches[0].logLines, name: path) }
            return
        }
        var out: [UInt8] = []
        for batch in batches where !batch.logLines.isEmpty {
            if out.count + batch.logLines.count > 1 << 20 {
                if !out.isEmpty { try FileSystem.writeAll(fd: fd, bytes: out, name: path) }
                out.removeAll(keepingCapacity: true)
                if batch.logLines.count > 1 << 20 {
                    try FileSystem.writeAll(fd: fd, bytes: batch.logLines, name: path)
                    continue
                }
            }
            out.append(contentsOf: batch.logLines)
        }
        if !out.isEmpty { try FileSystem.writeAll(fd: fd, bytes: out, name: path) }
    }
}
