import Foundation
import GRDB
import Synchronization
import Testing
@testable import XalorraCore
import XalorraML

/// Retention: `logs prune`, the server's XALORRA_LOG_RETENTION / XALORRA_AUDIT_RETENTION rounds, and the text log's
/// rotation by size.
@Suite(.serialized)
struct RetentionTests {
    private static let day: Int64 = 86_400

    /// A batch of `rows` rows of `model`, logged `daysAgo` days ago; row `i` has the features `[tag, i]`.
    private static func batch(model: String, daysAgo: Int64, rows: Int = 1, tag: Int = 0) -> PredictionBatch {
        var inputs = FeatureMatrix()
        for index in 0..<rows { inputs.append(row: [.int(Int64(tag)), .int(Int64(index))]) }
        return PredictionBatch(
            timestamp: Timestamp.now().adding(seconds: -daysAgo * day), tenant: "default", userID: "tester",
            model: model, version: "baseline", inputs: inputs,
            predictions: (0..<rows).map { .int(Int64(tag + $0)) }, latencyMicros: 1)
    }

    /// Logs `batches` straight into the store of `home`, as a server would have over the days.
    private static func fill(_ home: URL, _ batches: [PredictionBatch]) async throws {
        let database = try AppDatabase.open(path: home.appendingPathComponent("xalorra.db").path)
        _ = try await SQLitePredictionRepository(database: database).insert(batches: batches)
    }

    private static func json(_ text: String) throws -> JSONValue {
        try JSONParser.parse(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `logs prune --older-than` deletes exactly the predictions logged before the cutoff, batches and single rows
    /// alike, in more than one transaction; --model limits it; --dry-run only counts; the deletion is audited.
    @Test func pruneDeletesOnlyWhatIsOlder() async throws {
        let cli = try BinaryRunner()
        var batches: [PredictionBatch] = []
        for index in 0..<1_200 { batches.append(Self.batch(model: "a", daysAgo: 100, tag: index)) }
        batches.append(Self.batch(model: "a", daysAgo: 95, rows: 3_000, tag: 5))
        batches.append(Self.batch(model: "b", daysAgo: 95, rows: 10, tag: 6))
        batches.append(Self.batch(model: "a", daysAgo: 10, rows: 2, tag: 7))
        batches.append(Self.batch(model: "b", daysAgo: 1, rows: 1, tag: 8))
        try await Self.fill(cli.home, batches)

        let dry = try cli.run(["logs", "prune", "--older-than", "90d", "--model", "a", "--dry-run", "--json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try Self.json(dry.stdout)["deleted_rows"] == .int(4_200))
        #expect(try cli.storedPredictionCount() == 1_200 + 3_000 + 10 + 2 + 1)

        let byModel = try cli.run(["logs", "prune", "--older-than", "90d", "--model", "a", "--json"])
        #expect(byModel.status == 0, "\(byModel.stderr)")
        #expect(try Self.json(byModel.stdout)["deleted_rows"] == .int(4_200))
        #expect(try Self.json(byModel.stdout)["deleted_records"] == .int(1_200 + 3))
        let all = try cli.run(["logs", "prune", "--older-than", "90d"])
        #expect(all.stdout.contains("deleted 10 predictions"), "\(all.stdout)")
        let left = try await StoreInspector.records(cli.home)
        #expect(left.map(\.model) == ["a", "a", "b"])
        let audit = try cli.run(["audit", "--action", "logs.prune"])
        #expect(audit.stdout.contains("older than 90d, model a") && audit.stdout.contains("4200 predictions deleted"))
    }

    /// The newest record is kept even when it is old enough, so the ids of later predictions never repeat ids that
    /// were handed out (followers and exports continue after the last id they saw).
    @Test func pruneNeverReusesIDs() async throws {
        let cli = try BinaryRunner()
        try await Self.fill(cli.home, [Self.batch(model: "a", daysAgo: 50), Self.batch(model: "a", daysAgo: 40)])
        let before = try await StoreInspector.records(cli.home).map(\.id)
        let pruned = try cli.run(["logs", "prune", "--older-than", "30d"])
        #expect(pruned.stdout.contains("deleted 1 prediction "), "\(pruned.stdout)")
        #expect(try cli.run(["predict", "a", "1"]).status == 0)
        let after = try await StoreInspector.records(cli.home).map(\.id)
        #expect(after.count == 2 && after[1] > before.max()!, "\(before) then \(after)")
    }

    /// Old records logged after new ones (a clock set back, a store copied in) are found too: the walk does not stop
    /// at the first new record.
    @Test func pruneFindsOldRecordsAfterNewOnes() async throws {
        let cli = try BinaryRunner()
        try await Self.fill(cli.home, [
            Self.batch(model: "a", daysAgo: 1, tag: 1), Self.batch(model: "a", daysAgo: 60, rows: 4, tag: 2),
            Self.batch(model: "a", daysAgo: 0, tag: 3),
        ])
        let pruned = try cli.run(["logs", "prune", "--older-than", "30d", "--json"])
        #expect(try Self.json(pruned.stdout)["deleted_rows"] == .int(4), "\(pruned.stdout)")
        #expect(try await StoreInspector.records(cli.home).map(\.input) == [[.int(1), .int(0)], [.int(3), .int(0)]])
    }

    /// A server with XALORRA_LOG_RETENTION and XALORRA_AUDIT_RETENTION deletes old predictions and audit rows
    /// soon after it starts, and keeps the rest.
    @Test func serveAppliesRetention() async throws {
        let cli = try BinaryRunner()
        try await Self.fill(cli.home, [
            Self.batch(model: "a", daysAgo: 30, rows: 5), Self.batch(model: "a", daysAgo: 2, rows: 1, tag: 9),
        ])
        let database = try AppDatabase.open(path: cli.home.appendingPathComponent("xalorra.db").path)
        let audit = SQLiteAuditRepository(database: database)
        for daysAgo: Int64 in [400, 10] {
            try await audit.append(
                at: Timestamp.now().adding(seconds: -daysAgo * Self.day), actor: "old", keyID: nil, origin: "local",
                action: "users.create", object: "u\(daysAgo)", outcome: "success")
        }
        let server = try await LiveServer(
            environment: ["XALORRA_LOG_RETENTION": "7d", "XALORRA_AUDIT_RETENTION": "365d"], home: cli)
        defer { server.stop() }
        let deadline = Date().addingTimeInterval(20)
        var models: [PredictionRecord] = []
        repeat {
            try await Task.sleep(for: .milliseconds(200))
            models = try await StoreInspector.records(cli.home)
        } while models.count > 1 && Date() < deadline
        #expect(models.count == 1 && models.first?.input == [.int(9), .int(0)])
        let rows = try await audit.list(try AuditQuery(user: "old"))
        #expect(rows.items.map(\.object) == ["u10"])
    }

    /// Bad retention and size settings are refused with a clear message, not ignored.
    @Test func badSettingsAreRefused() throws {
        let cli = try BinaryRunner()
        for (name, value) in [
            ("XALORRA_LOG_RETENTION", "ninety"), ("XALORRA_AUDIT_RETENTION", "-1d"), ("XALORRA_LOG_MAX_SIZE", "100XB"),
            ("XALORRA_LOG_KEEP", "0"), ("XALORRA_BACKUP_EVERY", "soon"),
        ] {
            let result = try cli.run(["logs"], environment: [name: value])
            #expect(result.status == 2, "\(name)=\(value)")
            #expect(result.stderr.contains("\(name)=\(value)"), "\(result.stderr)")
        }
        #expect(Settings.parseByteSize("100MB") == 100 << 20)
        #expect(Settings.parseByteSize("1GiB") == 1 << 30)
        #expect(Settings.parseByteSize("4096") == 4096)
        #expect(Settings.parseByteSize("0") == nil && Settings.parseByteSize("MB") == nil)
    }

    /// Two writers (as the server and a one-shot predict would be) appending to one text log that rotates every
    /// few kilobytes lose no line and break none: every line is whole, once, in one of the files.
    @Test func rotationLosesNoLineAcrossWriters() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rotation-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("logs/predictions.log").path
        let writers = (0..<2).map { _ in PredictionLogFile(path: path, maxSize: 8_192, keep: 1_000) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, writer) in writers.enumerated() {
                group.addTask {
                    for sequence in 0..<400 {
                        try writer.append(Self.batch(model: "w\(index)", daysAgo: 0, rows: 1 + sequence % 3, tag: sequence))
                    }
                }
            }
            try await group.waitForAll()
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("logs").path)
        #expect(names.count > 5, "the log was not rotated: \(names)")
        var lines: [String] = []
        for name in names {
            let text = try String(contentsOfFile: directory.appendingPathComponent("logs/\(name)").path, encoding: .utf8)
            #expect(text.isEmpty || text.hasSuffix("\n"))
            lines += text.split(separator: "\n").map(String.init)
        }
        let expected = 2 * (0..<400).reduce(0) { $0 + 1 + $1 % 3 }
        #expect(lines.count == expected)
        #expect(Set(lines).count == expected, "a line was written twice")
        let wellFormed = lines.filter { $0.hasPrefix("[") && $0.contains(" model=w") && $0.contains(" prediction=") }
        #expect(wellFormed.count == expected)
        let sizes = try names.map { name in
            try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("logs/\(name)").path)[.size]
                as? Int ?? 0
        }
        #expect(sizes.allSatisfy { $0 < 8_192 + 4_096 }, "\(sizes)")
    }

    /// Only XALORRA_LOG_KEEP rotated files are kept, the newest as predictions.log.1.
    @Test func rotationKeepsTheNewestFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rotation-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("predictions.log").path
        let writer = PredictionLogFile(path: path, maxSize: 100, keep: 2)
        for sequence in 0..<10 { try writer.append(Self.batch(model: "m", daysAgo: 0, rows: 2, tag: sequence)) }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(names == ["predictions.log", "predictions.log.1", "predictions.log.2"])
        let current = try String(contentsOfFile: path, encoding: .utf8)
        let newest = try String(contentsOfFile: path + ".1", encoding: .utf8)
        #expect(current.contains("input=[9, 1]") && newest.contains("input=[8, 1]"))
    }
}
