#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraML

/// The seed's text log, `$XALORRA_HOME/logs/predictions.log`: a copy for people and `tail -f`; the store is the
/// source of truth, so a row is committed before its line is written.
public struct PredictionLogFile: Sendable {
    /// The file's path.
    public let path: String

    /// Creates a writer for `path`.
    public init(path: String) { self.path = path }

    /// Appends one line per row of `batch`, in as few `write` calls as fit in 1 MiB buffers.
    public func append(_ batch: PredictionBatch) throws(XalorraError) {
        if let slash = path.lastIndex(of: "/") { try FileSystem.makeDirectories(String(path[..<slash])) }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw XalorraError(.internal, "cannot open \(path) for appending") }
        defer { close(fd) }
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20 + 4096)
        // Every row of a batch shares its time stamp and model: format that prefix once.
        var prefix: [UInt8] = []
        PredictionRecord.appendLogLine(timestamp: batch.timestamp, model: batch.model, input: [], prediction: .int(0), into: &prefix)
        prefix.removeLast(" input=[] prediction=0".utf8.count)
        for index in 0..<batch.predictions.count {
            out.append(contentsOf: prefix)
            PredictionRecord.appendLogFields(
                input: batch.inputs.row(index).lazy.compactMap { $0 }, prediction: batch.predictions[index], into: &out)
            out.append(0x0A)
            if out.count >= 1 << 20 {
                try FileSystem.writeAll(fd: fd, bytes: out, name: path)
                out.removeAll(keepingCapacity: true)
            }
        }
        if !out.isEmpty { try FileSystem.writeAll(fd: fd, bytes: out, name: path) }
    }
}
