#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `$XALORRA_HOME/serve.lock`: every `serve` holds a shared `flock` on it for its lifetime, `restore` an exclusive one
/// for the moment it swaps the store, so a restore never pulls the file from under a running server.
///
/// Shared, not exclusive: several servers on one store remain allowed (the store supports it, and a server started
/// during another's shutdown must not be refused). The kernel drops the lock when the process ends, however it ends.
public final class ServeLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// The lock file's path in `home`.
    public static func path(home: String) -> String { home + "/serve.lock" }

    /// Takes the shared lock a server holds while it runs (waits only while a restore is swapping the store).
    public static func serving(home: String) throws(XalorraError) -> ServeLock {
        let fd = try openLockFile(home)
        guard flock(fd, LOCK_SH) == 0 else {
            close(fd)
            throw XalorraError(.internal, "cannot lock \(path(home: home)): \(String(cString: strerror(errno)))")
        }
        return ServeLock(descriptor: fd)
    }

    /// The exclusive lock, or `nil` at once when a server holds the store.
    public static func exclusive(home: String) throws(XalorraError) -> ServeLock? {
        let fd = try openLockFile(home)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            close(fd)
            if busy { return nil }
            throw XalorraError(.internal, "cannot lock \(path(home: home)): \(String(cString: strerror(errno)))")
        }
        return ServeLock(descriptor: fd)
    }

    private static func openLockFile(_ home: String) throws(XalorraError) -> Int32 {
        try FileSystem.makeDirectories(home)
        let fd = open(path(home: home), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw XalorraError(.internal, "cannot open \(path(home: home)): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
