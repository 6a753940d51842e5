#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few file operations the product needs, on POSIX calls directly: explicit modes, no Foundation start-up cost.
public enum FileSystem {
    /// The contents of `path`, or `nil` when it does not exist.
    public static func read(_ path: String) throws(XalorraError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot read \(path)")
        }
        defer { close(fd) }
        return try readAll(fd: fd, name: path)
    }

    /// Everything readable from `fd` until end of file.
    public static func readAll(fd: Int32, name: String) throws(XalorraError) -> [UInt8] {
        var out: [UInt8] = []
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { out.reserveCapacity(Int(info.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read \(name)")
            }
            if count == 0 { return out }
            out.append(contentsOf: chunk[0..<count])
        }
    }

    /// Reads a file that holds a secret (`secret.key`, `credentials.json`), refusing it when group or others may
    /// read it; `nil` when it does not exist.
    public static func readPrivate(_ path: String) throws(XalorraError) -> [UInt8]? {
        guard let bytes = try read(path) else { return nil }
        if let mode = mode(of: path), mode & 0o077 != 0 {
            throw XalorraError(
                .insufficientPermissions,
                "\(path) is readable by other users (mode \(String(mode & 0o777, radix: 8))); refusing to use it",
                hint: "chmod 600 \(path)")
        }
        return bytes
    }

    /// Creates `path` with `mode` and writes `bytes`, failing when it already exists (so two processes generating
    /// the same secret cannot both win).
    public static func createExclusive(_ path: String, bytes: [UInt8], mode: mode_t) throws(XalorraError) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST { return false }
            throw failure("cannot create \(path)")
        }
        defer { close(fd) }
        try writeAll(fd: fd, bytes: bytes, name: path)
        fsync(fd)
        return true
    }

    /// Replaces `path` atomically (write to a temporary file, then rename) with `mode`.
    public static func replace(_ path: String, bytes: [UInt8], mode: mode_t) throws(XalorraError) {
        let temporary = "\(path).tmp.\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("cannot write \(path)") }
        do {
            try writeAll(fd: fd, bytes: bytes, name: path)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        fchmod(fd, mode)
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw failure("cannot write \(path)")
        }
    }

    /// Writes all of `bytes` to `fd`, retrying short and interrupted writes.
    public static func writeAll(fd: Int32, bytes: [UInt8], name: String) throws(XalorraError) {
        let ok = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        guard ok else { throw failure("cannot write \(name)") }
    }

    /// Creates `path` and its missing parents with `mode`.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o700) throws(XalorraError) {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/" + component
            if mkdir(built, mode) != 0, errno != EEXIST {
                throw failure("cannot create the directory \(built)")
            }
        }
    }

    /// The permission bits of `path`, or `nil` when it does not exist.
    public static func mode(of path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o7777
    }

    /// Whether `path` exists.
    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Deletes a file; true when it existed.
    @discardableResult
    public static func remove(_ path: String) -> Bool { unlink(path) == 0 }

    private static func failure(_ message: String) -> XalorraError {
        XalorraError(.internal, "\(message): \(String(cString: strerror(errno)))")
    }
}
