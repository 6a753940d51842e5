import Foundation
import Testing

/// A throwaway PostgreSQL server for the tests: Debian's `initdb` and `pg_ctl` (`/usr/lib/postgresql/*/bin`), a
/// cluster in a temporary directory on a free loopback port, run as the unprivileged `postgres` user when the tests
/// run as root (CI). One cluster per test process, started on first use and stopped when the process exits (an
/// `atexit` handler, and a watchdog process for a test run that is killed); each test gets a database of its own.
/// Absent PostgreSQL, its tests are skipped visibly; under `CI=true` absence is a failure (as ``PythonClients``).
actor PostgresCluster {
    /// The one cluster of this process.
    static let shared = PostgresCluster()

    /// The password of the cluster's superuser `postgres` (the server asks for it: scram-sha-256 over TCP).
    static let password = "xalorra-test-pw"

    /// Debian's server binaries, the newest version installed; `nil` when PostgreSQL is not installed.
    static let binDirectory: String? = {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }()

    /// Whether PostgreSQL is installed here.
    static var isInstalled: Bool { binDirectory != nil }

    /// Whether a test that needs PostgreSQL runs: when it is installed, and always under CI (where it then fails).
    static var enabled: Bool { PythonClients.isCI || isInstalled }

    /// The reason shown when such a test is skipped.
    static let skipReason: Comment = "PostgreSQL is not installed (apt-get install postgresql)"

    private var port: Int?
    private var databases = 0

    /// A new, empty database on the cluster (started if needed): its `postgres://` URL.
    func freshDatabase() throws -> String {
        let port = try start()
        databases += 1
        let name = "t_\(getpid())_\(databases)"
        try psql(port: port, "CREATE DATABASE \(name)")
        return Self.url(port: port, database: name)
    }

    /// A new database whose character classes follow `C.UTF-8` (the cluster's own follow the environment, often C):
    /// where `lower()` folds every script's letters, not only A-Z, as most production databases do.
    func freshUTF8Database() throws -> String {
        let port = try start()
        databases += 1
        let name = "t_\(getpid())_\(databases)_utf8"
        try psql(
            port: port,
            "CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8' LC_COLLATE 'C.UTF-8'")
        return Self.url(port: port, database: name)
    }

    /// `postgres://postgres:…@127.0.0.1:PORT/NAME?sslmode=disable`.
    static func url(port: Int, database: String) -> String {
        "postgres://postgres:\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// The port of the running cluster (starting it on first use).
    func start() throws -> Int {
        if let port { return port }
        guard let bin = Self.binDirectory else {
            throw ClusterError("PostgreSQL is not installed: apt-get install postgresql")
        }
        let directory = try Self.makeTemporaryDirectory()
        let asRoot = getuid() == 0
        if asRoot { try Self.run(["chown", "-R", "postgres:postgres", directory]) }
        let passwordFile = directory + "/pw"
        try Self.password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
        if asRoot { try Self.run(["chown", "postgres:postgres", passwordFile]) }
        let data = directory + "/data"
        try Self.run(Self.asServer([
            bin + "/initdb", "-D", data, "-U", "postgres", "--pwfile", passwordFile, "-A", "scram-sha-256",
            "--auth-local", "trust", "-E", "UTF8", "--no-sync", "--no-instructions",
        ]))
        // A free loopback port: bind to port 0, read it, close (another process could take it meanwhile: retried).
        var lastError: (any Error)?
        for _ in 0..<5 {
            let candidate = try Self.freePort()
            do {
                // Through files, not pipes: the server inherits pg_ctl's output, and a pipe would never see EOF.
                let start = Self.asServer([
                    bin + "/pg_ctl", "-D", data, "-l", directory + "/server.log", "-w", "-t", "60", "-o",
                    "-p \(candidate) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off "
                        + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                    "start",
                ])
                try Self.run([
                    "bash", "-c",
                    Self.closeInheritedFiles + "exec " + start.map(Self.quoted).joined(separator: " ")
                        + " </dev/null >\(directory)/pg_ctl.log 2>&1",
                ])
                port = candidate
                Self.registerCleanup(bin: bin, data: data, directory: directory)
                return candidate
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ClusterError("the cluster did not start")
    }

    /// Runs one statement as the superuser over the Unix socket.
    func psql(port: Int, _ sql: String) throws {
        guard let bin = Self.binDirectory, let directory = Self.cleanup.directory else {
            throw ClusterError("no cluster")
        }
        try Self.run(Self.asServer([
            bin + "/psql", "-h", directory, "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-v",
            "ON_ERROR_STOP=1", "-q", "-c", sql,
        ]))
    }

    // MARK: Processes

    /// Closes every file descriptor above 2 that the shell inherited (pipes of this process, which a server left
    /// holding one would keep open: its reader would never see the end).
    static let closeInheritedFiles =
        #"for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-"; fi; done 2>/dev/null; "#

    /// `text` in single quotes for `sh`.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// `command` run as the `postgres` user when this process is root (initdb refuses root).
    private static func asServer(_ command: [String]) -> [String] {
        getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + command : command
    }

    @discardableResult
    private static func run(_ command: [String]) throws -> String {
        let result = try PythonClients.run(command, timeout: .seconds(120))
        guard result.status == 0 else {
            throw ClusterError("\(command.prefix(2).joined(separator: " ")) failed (\(result.status)): \(result.output)")
        }
        return result.output
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array("/tmp/xalorra-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw ClusterError("mkdtemp failed") }
        let path = String(cString: made)
        chmod(path, 0o755)
        return path
    }

    /// A loopback port nothing listens on (for unreachable-server tests).
    static func unusedPort() throws -> Int { try freePort() }

    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ClusterError("socket failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw ClusterError("bind failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: Cleanup

    /// What the exit handler stops and removes (set once, before the handler can run).
    nonisolated(unsafe) private static var cleanup: (bin: String?, data: String?, directory: String?) = (nil, nil, nil)

    /// Stops the cluster when this process exits: `atexit` for a normal exit, and a watchdog (`setsid`, polling this
    /// process's pid every second) for a killed one. Either removes the directory; neither outlives the cluster.
    private static func registerCleanup(bin: String, data: String, directory: String) {
        cleanup = (bin, data, directory)
        let stop = asServer([bin + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]).map(quoted)
            .joined(separator: " ")
        let script = closeInheritedFiles + """
            while kill -0 \(getpid()) 2>/dev/null && [ -d \(data) ]; do sleep 1; done
            [ -f \(data)/postmaster.pid ] && \(stop) >/dev/null 2>&1
            rm -rf \(directory)
            """
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
        watchdog.arguments = ["bash", "-c", script]
        watchdog.standardInput = FileHandle.nullDevice
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        try? watchdog.run()
        atexit {
            guard let bin = PostgresCluster.cleanup.bin, let data = PostgresCluster.cleanup.data,
                let directory = PostgresCluster.cleanup.directory
            else { return }
            let command = PostgresCluster.asServer([bin + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
                .map(PostgresCluster.quoted).joined(separator: " ")
            _ = system("\(command) >/dev/null 2>&1; rm -rf '\(directory)'")
        }
    }
}

/// A failure to set up the test cluster.
struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension PostgresCluster {
    /// A cluster of one test's own (never the shared one), which the test may stop, start and restart: for faults
    /// such as the database going away under load. Started by `init`, removed by ``destroy()`` (also at `deinit`,
    /// and by a watchdog if the test process is killed).
    final class Own: @unchecked Sendable {
        // @unchecked: the fields are set once in init.
        let port: Int
        private let bin: String
        private let directory: String
        private let data: String

        /// initdb into a new temporary directory and start on a free loopback port.
        init() throws {
            guard let bin = PostgresCluster.binDirectory else {
                throw ClusterError("PostgreSQL is not installed: apt-get install postgresql")
            }
            self.bin = bin
            directory = try PostgresCluster.makeTemporaryDirectory()
            data = directory + "/data"
            let asRoot = getuid() == 0
            if asRoot { try PostgresCluster.run(["chown", "-R", "postgres:postgres", directory]) }
            let passwordFile = directory + "/pw"
            try PostgresCluster.password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
            if asRoot { try PostgresCluster.run(["chown", "postgres:postgres", passwordFile]) }
            try PostgresCluster.run(PostgresCluster.asServer([
                bin + "/initdb", "-D", data, "-U", "postgres", "--pwfile", passwordFile, "-A", "scram-sha-256",
                "--auth-local", "trust", "-E", "UTF8", "--no-sync", "--no-instructions",
            ]))
            port = try PostgresCluster.freePort()
            let watched = directory, stop = PostgresCluster.asServer([bin + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
                .map(PostgresCluster.quoted).joined(separator: " ")
            let watchdog = Process()
            watchdog.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
            watchdog.arguments = [
                "bash", "-c",
                PostgresCluster.closeInheritedFiles + """
                    while kill -0 \(getpid()) 2>/dev/null && [ -d \(watched)/data ]; do sleep 1; done
                    [ -f \(watched)/data/postmaster.pid ] && \(stop) >/dev/null 2>&1
                    rm -rf \(watched)
                    """,
            ]
            watchdog.standardInput = FileHandle.nullDevice
            watchdog.standardOutput = FileHandle.nullDevice
            watchdog.standardError = FileHandle.nullDevice
            try? watchdog.run()
            try start()
        }

        /// `pg_ctl start`, waiting until it accepts connections.
        func start() throws {
            let start = PostgresCluster.asServer([
                bin + "/pg_ctl", "-D", data, "-l", directory + "/server.log", "-w", "-t", "60", "-o",
                "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off "
                    + "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                "start",
            ])
            try PostgresCluster.run([
                "bash", "-c",
                PostgresCluster.closeInheritedFiles + "exec " + start.map(PostgresCluster.quoted).joined(separator: " ")
                    + " </dev/null >>\(directory)/pg_ctl.log 2>&1",
            ])
        }

        /// `pg_ctl stop -m fast`: sessions are terminated, the server is gone when it returns.
        func stop() throws {
            try PostgresCluster.run(PostgresCluster.asServer([bin + "/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]))
        }

        /// A new, empty database: its `postgres://` URL.
        func freshDatabase(_ name: String) throws -> String {
            try PostgresCluster.run(PostgresCluster.asServer([
                bin + "/psql", "-h", directory, "-p", "\(port)", "-U", "postgres", "-d", "postgres", "-v",
                "ON_ERROR_STOP=1", "-q", "-c", "CREATE DATABASE \(name)",
            ]))
            return PostgresCluster.url(port: port, database: name)
        }

        /// Stops the server at once and removes its directory. Idempotent.
        func destroy() {
            guard FileManager.default.fileExists(atPath: data) else { return }
            let stop = PostgresCluster.asServer([bin + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
                .map(PostgresCluster.quoted).joined(separator: " ")
            _ = system("\(stop) >/dev/null 2>&1; rm -rf '\(directory)'")
        }

        deinit { destroy() }
    }
}
