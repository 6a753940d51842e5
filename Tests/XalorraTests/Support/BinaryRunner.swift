import Foundation
import GRDB

/// Runs the built `xalorra` binary as a user would: a real process, a temp `XALORRA_HOME`, real files.
struct BinaryRunner {
    /// What one run printed and how it ended.
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// The temp data directory of this runner.
    let home: URL
    /// Extra environment for every run.
    var environment: [String: String] = [:]

    /// A runner with a fresh, empty home under ``homes``.
    init() throws {
        home = URL(fileURLWithPath: Self.homes).appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    /// The directory under the system's temp directory that holds every runner's home of this test process,
    /// removed when the process exits (a full run of the suite used to leave about 300 homes behind). Named by the
    /// process and a random part, as two test processes in separate pid namespaces may share `/tmp`.
    static let homes: String = {
        let name = "xalorra-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
        atexit { try? FileManager.default.removeItem(atPath: BinaryRunner.homes) }
        return path
    }()

    /// A runner with a fresh home whose store is `database` (`postgres://…` or `sqlite:PATH`).
    init(database: String) throws {
        try self.init()
        environment["XALORRA_DATABASE_URL"] = database
    }

    /// The binary next to the test bundle (`swift build` puts both in the same folder).
    static let binary: URL = {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("xalorra")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        fatalError("the xalorra binary was not built next to the tests (\(bundle.path))")
    }()

    /// The process environment a run gets: a clean one with HOME, PATH, the temp XALORRA_HOME and `extra`.
    func processEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var base: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home.path, "XALORRA_HOME": home.path, "USER": "tester",
            // The lowest accepted bcrypt cost: the debug build's bcrypt is unoptimised C.
            "XALORRA_BCRYPT_COST": "10",
        ]
        base.merge(environment) { $1 }
        base.merge(extra) { $1 }
        return base
    }

    /// Starts the binary and returns the running process with pipes for its output.
    func start(
        _ arguments: [String], stdin: Data? = nil, environment extra: [String: String] = [:],
        directory: URL? = nil
    ) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = processEnvironment(extra)
        process.currentDirectoryURL = directory ?? home
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        return (process, out, err)
    }

    /// Runs the binary to completion.
    @discardableResult
    func run(
        _ arguments: [String], stdin: Data? = nil, environment extra: [String: String] = [:], directory: URL? = nil
    ) throws -> Result {
        let (process, out, err) = try start(arguments, stdin: stdin, environment: extra, directory: directory)
        // Read both pipes fully before waiting, so a large output cannot block the child.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// Writes `text` to a file in the home and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        let url = home.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Counts the stored predictions straight from the SQLite file (not through xalorra): a batch is one record of
    /// `row_count` rows.
    func storedPredictionCount() throws -> Int {
        let queue = try DatabaseQueue(path: home.appendingPathComponent("xalorra.db").path)
        return try queue.read { try Int.fetchOne($0, sql: "SELECT coalesce(sum(row_count), 0) FROM predictions") ?? -1 }
    }

    /// Runs a system tool and returns its stdout.
    static func shell(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
