#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import Synchronization

/// Threads of the lowest scheduling priority for CPU-heavy work that must not compete with request handling
/// (bcrypt). On Linux, `nice` applies per thread: these run on idle CPU and yield to the event loops and the
/// cooperative pool whenever those have work, so a burst of logins slows logins, not every other request.
public final class BackgroundWorkers: Sendable {
    /// One per core.
    public static let shared = BackgroundWorkers(count: max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// The nice value the threads run at (19 is the lowest priority).
    public static let niceness: Int32 = 19

    private let jobs = Mutex<[@Sendable () -> Void]>([])
    private let ready = DispatchSemaphore(value: 0)

    /// Starts `count` threads at `niceness` (19: only idle CPU; 0: like any thread).
    init(count: Int, niceness: Int32 = BackgroundWorkers.niceness) {
        for _ in 0..<count {
            let thread = Thread { [self] in
                #if os(Linux)
                // Who 0 is the calling thread, not the process: Linux keeps a nice value per thread.
                if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
                #endif
                while true {
                    ready.wait()
                    guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
                    job()
                }
            }
            thread.start()
        }
    }

    /// Runs `work` on a background thread and returns its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            jobs.withLock { $0.append { continuation.resume(returning: work()) } }
            ready.signal()
        }
    }
}
