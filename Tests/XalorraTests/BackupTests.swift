import Foundation
import GRDB
import Testing
@testable import XalorraCore

/// Backups and restores of the store, black-box: the real binary, a real server writing while the copy is taken.
@Suite(.serialized)
struct BackupTests {
    private func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A backup taken while 6 clients predict restores to a store holding every prediction answered before the
    /// backup started; restore is refused (exit 2, store untouched) while the server runs, and works once it stopped.
    @Test func backupUnderLoadRestoresEveryAcknowledgedPrediction() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let load = LoadGenerator(clients: 6) { client, sequence in
            let answer = try await server.request(
                "POST", "/predict/m", token: token, body: #"{"features":[\#(client),\#(sequence)]}"#)
            return (answer.status, answer.body)
        }
        _ = try await load.wait(seconds: 30) { $0.count { $0.status == 200 } >= 150 }
        let acknowledged = Set(load.results.filter { $0.status == 200 }.map { "[\($0.client),\($0.sequence)]" })
        let file = server.cli.home.appendingPathComponent("copy.db").path
        let cli = server.cli
        let backup = try await offThePool { try cli.run(["backup", file, "--json"]) }
        // The load went on during the copy.
        let during = load.results.count
        try await Task.sleep(for: .milliseconds(300))
        #expect(load.results.count > during, "the server stopped answering during the backup")
        #expect(backup.status == 0, "\(backup.stderr)")
        let summary = try json(backup.stdout)
        #expect(summary["integrity"] == .string("ok"))
        guard case .number(let predictions)? = summary["predictions"] else {
            Issue.record("no prediction count in \(backup.stdout)")
            return
        }
        #expect(Int(predictions.doubleValue) >= acknowledged.count)
        #expect(FileSystem.mode(of: file).map { $0 & 0o777 } == 0o600)

        let refused = try await offThePool { try cli.run(["restore", file]) }
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("running `xalorra serve`"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.home.appendingPathComponent("xalorra.db.before-restore").path))

        await load.stop()
        #expect(server.stop() == 0)
        let liveCount = try await StoreInspector.inputs(cli.home, model: "m").count
        let restored = try await offThePool { try cli.run(["restore", file]) }
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("xalorra.db.before-restore"))
        let inputs = Set(try await StoreInspector.inputs(cli.home, model: "m"))
        let missing = acknowledged.subtracting(inputs)
        #expect(missing.isEmpty, "\(missing.count) acknowledged before the backup but not restored: \(missing.prefix(5))")
        // The replaced store is kept whole, with what was written after the backup.
        let kept = try DatabaseQueue(path: cli.home.appendingPathComponent("xalorra.db.before-restore").path)
        let keptRows = try await kept.read { db in try SQLitePredictionRepository.rowCount(db) }
        #expect(keptRows == liveCount)
        #expect(try StoreInspector.consistency(cli.home).integrity == "ok")
    }

    /// An existing file is refused and left as it was; --force replaces it.
    @Test func backupRefusesToOverwriteWithoutForce() throws {
        let cli = try BinaryRunner()
        #expect(try cli.run(["predict", "m", "1", "2"]).status == 0)
        let file = try cli.write("taken.db", "not a backup")
        let refused = try cli.run(["backup", file])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("exists") && refused.stderr.contains("--force"))
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "not a backup")
        let forced = try cli.run(["backup", file, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.contains("1 predictions") && forced.stdout.contains("integrity ok"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cli.home.path).filter { $0.contains("partial") }
        #expect(leftovers.isEmpty)
    }

    /// backup and restore act on the local file: over --url they say so and exit 2; on PostgreSQL they name its tools, and serve needs SECRET_KEY.
    @Test func backupAndRestoreRefuseRemoteMode() throws {
        let cli = try BinaryRunner()
        for command in [["backup", "x.db"], ["restore", "x.db"], ["logs", "prune", "--older-than", "1d"]] {
            let result = try cli.run(command + ["--url", "http://127.0.0.1:9"])
            #expect(result.status == 2, "\(command)")
            #expect(result.stderr.contains("local store"), "\(command): \(result.stderr)")
        }
        // On PostgreSQL the database's own tools are the answer (the URL is never dialled for this).
        for command in [["backup", "x.db"], ["restore", "x.db"]] {
            let result = try cli.run(command + ["--database", "postgres://u:pw@127.0.0.1:9/x"])
            #expect(result.status == 2, "\(command): \(result)")
            #expect(result.stderr.contains("pg_dump") && result.stderr.contains("pg_basebackup"), "\(result.stderr)")
            #expect(!result.stderr.contains("pw"), "the password is never printed")
        }
        // Instances on one database share the token secret: serve on PostgreSQL refuses to start without SECRET_KEY.
        let serve = try cli.run(["serve", "--port", "0", "--database", "postgres://u:pw@127.0.0.1:9/x"])
        #expect(serve.status == 2 && serve.stderr.contains("SECRET_KEY"), "\(serve)")
    }

    /// restore refuses (exit 2, store untouched) a file that is not SQLite, not a xalorra store, damaged, or of a
    /// newer schema.
    @Test func restoreRefusesBadFiles() throws {
        let cli = try BinaryRunner()
        #expect(try cli.run(["predict", "m", "4", "5"]).status == 0)
        let good = cli.home.appendingPathComponent("good.db").path
        #expect(try cli.run(["backup", good]).status == 0)

        let text = try cli.write("notes.txt", String(repeating: "hello\n", count: 100))
        let foreign = cli.home.appendingPathComponent("foreign.db").path
        try DatabaseQueue(path: foreign).write { db in try db.execute(sql: "CREATE TABLE t (x); INSERT INTO t VALUES (1)") }
        let newer = cli.home.appendingPathComponent("newer.db").path
        try FileManager.default.copyItem(atPath: good, toPath: newer)
        try DatabaseQueue(path: newer).writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = 999") }
        let damaged = cli.home.appendingPathComponent("damaged.db").path
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: good)))
        for index in stride(from: 4096 + 16, to: bytes.count, by: 4096) { bytes[index] ^= 0xFF }
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))

        let cases: [(String, String)] = [
            (text, "not an SQLite database"), (foreign, "not a xalorra store"), (newer, "newer xalorra"),
            (damaged, "damaged"), (cli.home.appendingPathComponent("absent.db").path, "cannot read"),
        ]
        for (file, reason) in cases {
            let result = try cli.run(["restore", file])
            #expect(result.status != 0, "\(file)")
            #expect(result.stderr.contains(reason), "\(file): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.home.appendingPathComponent("xalorra.db.before-restore").path))
        #expect(try cli.run(["logs"]).stdout.contains("input=[4, 5]"))
    }

    /// serve --backup-every writes checked backups into $XALORRA_HOME/backups and keeps only --backup-keep of them.
    @Test func serveWritesRotatingBackups() async throws {
        let server = try await LiveServer(arguments: ["--backup-every", "1s", "--backup-keep", "2"])
        defer { server.stop() }
        let directory = server.cli.home.appendingPathComponent("backups")
        func backups() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".db") }
                .sorted()
        }
        let deadline = Date().addingTimeInterval(30)
        var seen = Set<String>()
        while Date() < deadline, seen.count < 4 {
            seen.formUnion(backups())
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(seen.count >= 4, "\(seen)")
        #expect(server.stop() == 0)
        let kept = backups()
        #expect(kept.count == 2, "\(kept)")
        for name in kept {
            let check = try server.cli.run(["restore", directory.appendingPathComponent(name).path], environment: [
                "XALORRA_HOME": server.cli.home.appendingPathComponent("scratch-\(name)").path,
            ])
            #expect(check.status == 0, "\(name): \(check.stderr)")
        }
    }
}
