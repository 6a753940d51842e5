import Foundation

/// The third-party clients the tests run (Python packages from PyPI, `promtool`), and the rule for their absence:
/// skipped visibly on a developer's machine, a failure under `CI=true` (`.ci/run` installs them all), so that CI
/// cannot pass by skipping.
enum PythonClients {
    /// Whether this run is CI's (`CI=true`): then a missing client is a failure, not a skip.
    static let isCI = ProcessInfo.processInfo.environment["CI"] != nil

    /// Whether `python3` can import `module` (an import name: `tritonclient.http`, `openai`, `sseclient`, …).
    static func has(_ module: String) -> Bool {
        (try? run(["python3", "-c", "import \(module)"]).status) == 0
    }

    /// Whether `tool` is on the PATH.
    static func hasTool(_ tool: String) -> Bool {
        (try? run(["sh", "-c", "command -v \(tool)"]).status) == 0
    }

    /// Whether a test that needs `modules` runs: when all are importable, and always under CI (where it then
    /// fails on the missing one).
    static func enabled(_ modules: String...) -> Bool { isCI || modules.allSatisfy(has) }

    /// The repository's `scripts/clients/` folder.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/clients")

    /// Runs `scripts/clients/<program>` with `arguments` and returns its exit status and output (stdout, then
    /// stderr). Loopback calls bypass any proxy of the environment; output is unbuffered so a hang shows its cause.
    static func runProgram(_ program: String, _ arguments: [String], timeout: Duration = .seconds(300)) throws
        -> (status: Int32, output: String)
    {
        try run(["python3", folder.appendingPathComponent(program).path] + arguments, timeout: timeout)
    }

    /// Runs `command` (through `/usr/bin/env`) and returns its exit status and combined output; past `timeout` it
    /// is killed and the status is that of the kill.
    static func run(_ command: [String], stdin: Data? = nil, timeout: Duration = .seconds(60)) throws
        -> (status: Int32, output: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        var environment = ProcessInfo.processInfo.environment
        environment["NO_PROXY"] = "127.0.0.1,localhost"
        environment["no_proxy"] = "127.0.0.1,localhost"
        environment["PYTHONUNBUFFERED"] = "1"
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        process.environment = environment
        let output = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(
            deadline: .now() + .milliseconds(Int(timeout.components.seconds * 1000)), execute: killer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        killer.cancel()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
