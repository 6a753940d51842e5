#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension StoreBackup {
    /// The rotating backups of `serve --backup-every`: `xalorra-YYYYMMDDTHHMMSSZ.db` in `directory` (0700), the
    /// oldest beyond `keep` removed once the new one is complete.
    /// - Returns: the new backup, and the names removed.
    public static func rotate(store storePath: String, directory: String, keep: Int, now: Timestamp = .now())
        async throws(XalorraError) -> (summary: Summary, removed: [String])
    {
        try FileSystem.makeDirectories(directory)
        let file = directory + "/" + name(at: now)
        let summary = try await write(store: storePath, to: file, force: true)
        let backups = list(directory)
        var removed: [String] = []
        for old in backups.dropLast(max(keep, 1)) where FileSystem.remove(directory + "/" + old) {
            removed.append(old)
        }
        return (summary, removed)
    }

    /// `xalorra-20261202T063000Z.db`: names that sort by time.
    static func name(at time: Timestamp) -> String {
        let compact = time.iso8601Seconds.filter { $0 != "-" && $0 != ":" }
        return "xalorra-\(compact).db"
    }

    /// The rotating backups in `directory`, oldest first (names only; other files are left alone).
    static func list(_ directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix("xalorra-"), name.hasSuffix("Z.db") { names.append(name) }
        }
        return names.sorted()
    }
}
