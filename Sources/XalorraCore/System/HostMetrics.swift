#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU, memory and disk use of the host, read from `/proc` and `statvfs` (Linux); `nil` where unreadable.
public enum HostMetrics {
    /// Busy share of all CPUs over a 50 ms sample, in percent.
    public static func cpuPercent() async -> Double? {
        guard let first = cpuTimes() else { return nil }
        try? await Task.sleep(for: .milliseconds(50))
        guard let second = cpuTimes(), second.total > first.total else { return nil }
        let idle = Double(second.idle - first.idle)
        return 100 * (1 - idle / Double(second.total - first.total))
    }

    /// Used share of memory (`MemAvailable` against `MemTotal`), in percent.
    public static func memoryPercent() -> Double? {
        guard let text = try? FileSystem.read("/proc/meminfo").map({ String(decoding: $0, as: UTF8.self) }) else {
            return nil
        }
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2 { values[String(parts[0].dropLast())] = Double(parts[1]) }
        }
        guard let total = values["MemTotal"], let available = values["MemAvailable"], total > 0 else { return nil }
        return 100 * (1 - available / total)
    }

    /// Used share of the file system holding `path`, in percent.
    public static func diskPercent(path: String) -> Double? {
        var info = statvfs()
        guard statvfs(path, &info) == 0, info.f_blocks > 0 else { return nil }
        return 100 * (1 - Double(info.f_bavail) / Double(info.f_blocks))
    }

    private static func cpuTimes() -> (idle: UInt64, total: UInt64)? {
        guard let bytes = try? FileSystem.read("/proc/stat"), let line = String(decoding: bytes, as: UTF8.self)
            .split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard values.count >= 5 else { return nil }
        return (values[3] + values[4], values.reduce(0, +))
    }
}
