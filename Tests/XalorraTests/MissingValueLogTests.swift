import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import Testing
@testable import XalorraCore
import XalorraML

/// A missing value (an empty CSV cell, a JSON `null`, an OIP binary NaN) is logged as missing, in its place: `null` in
/// every JSON form of the row, an empty cell in the CSV export, `null` in the text log; never dropped, which shortened
/// the row so that it no longer said which feature was missing and could not be replayed.
@Suite struct MissingValueLogTests {
    /// A raw `POST` with `bytes` as the body (an OIP binary request is not text).
    static func post(
        _ server: LiveServer, _ path: String, token: String, bytes: [UInt8], headers: [(String, String)]
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: server.url + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// The items of a `{"data": [...]}` page.
    static func items(_ text: String) -> [JSONValue]? {
        guard case .array(let items)? = (try? JSONParser.parse(text))?["data"] else { return nil }
        return items
    }

    /// A gbdt model (which routes missing values) trained on a, b, c, rows predicted with a gap offline from a CSV
    /// file, over HTTP with JSON `null` and as an OIP binary NaN: `GET /logs`, `logs --json` and `logs` (offline and
    /// remote, the same), the text log file, and both exports (offline and remote, the same) show each gap in place.
    @Test func gapsAreLoggedInPlaceEverywhere() async throws {
        let world = try await DifferentialTests.World()
        defer { world.server.stop() }
        let data = try world.cli.write("train.csv", DifferentialTests.training)
        let trained = try world.offline(
            ["train", "m", "--data", data, "--target", "y", "--trees", "10", "--max-depth", "3",
             "--min-samples-leaf", "5", "--threads", "1"])
        try #require(trained.status == 0, "\(trained.stderr)")

        // An empty CSV cell, offline and remote: the answer's `input` shows it too.
        _ = try world.cli.write("gaps.csv", "a,b,c\n3,,1\n")
        let answered = try world.expectSame(["predict", "m", "--file", "gaps.csv", "--json"])
        #expect(answered.status == 0 && answered.stdout.contains(#""input":[3,null,1]"#), "\(answered.stdout)")
        // JSON `null` in a batch.
        let null = try await world.server.request(
            "POST", "/predict/m", token: world.admin, body: #"{"instances":[[null,2,1]]}"#)
        #expect(null.status == 200, "\(null.body)")
        // An OIP binary FP32 NaN (how tritonclient sends a missing value).
        let header = #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","parameters":{"binary_data_size":12}}]}"#
        let floats: [Float] = [.nan, 0.5, 0.7]
        let binary = try await Self.post(
            world.server, "/v2/models/m/infer", token: world.admin,
            bytes: Array(header.utf8) + InferenceBinaryTests.bytes(floats),
            headers: [("Inference-Header-Content-Length", "\(header.utf8.count)")])
        #expect(binary.status == 200, "\(binary.body)")

        // Oldest first, as every form below lists them.
        let expected = ["[3,null,1]", "[3,null,1]", "[null,2,1]", "[null,0.5,0.699999988079071]"]
        let spaced = expected.map { $0.replacingOccurrences(of: ",", with: ", ") }

        let logs = try await world.server.request("GET", "/logs?model=m", token: world.admin)
        let items = try #require(Self.items(logs.body), "\(logs.body)")
        #expect(items.reversed().compactMap { $0["input"].map(JSONWriter.compact) } == expected, "\(logs.body)")

        let listed = try world.expectSame(["logs", "--model", "m", "--json"])
        let page = try #require(Self.items(listed.stdout), "\(listed.stdout)")
        #expect(page.reversed().compactMap { $0["input"].map(JSONWriter.compact) } == expected, "\(listed.stdout)")

        let lines = try world.expectSame(["logs", "--model", "m"])
        #expect(Self.inputs(ofLogLines: lines.stdout) == spaced, "\(lines.stdout)")
        let file = try String(
            contentsOf: world.cli.home.appendingPathComponent("logs/predictions.log"), encoding: .utf8)
        #expect(Self.inputs(ofLogLines: file) == spaced, "\(file)")

        let ndjson = try world.expectSame(["logs", "export", "--model", "m", "--format", "ndjson"])
        let exported = ndjson.stdout.split(separator: "\n").map { line in
            (try? JSONParser.parse(String(line)))?["input"].map(JSONWriter.compact) ?? "?"
        }
        #expect(exported == expected, "\(ndjson.stdout)")

        let csv = try world.expectSame(["logs", "export", "--model", "m", "--format", "csv"])
        let rows = LogExportTests.parseCSV(csv.stdout).dropFirst()
        #expect(rows.map { $0.last ?? "?" } == ["3  1", "3  1", " 2 1", " 0.5 0.699999988079071"], "\(csv.stdout)")
    }

    /// A new empty directory for a store.
    static func temporaryDirectory() throws -> URL {
        let name = "xalorra-gaps-\(UUID().uuidString)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The `input=[…]` of every seed-format line of `text`, in order.
    static func inputs(ofLogLines text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            guard let start = line.range(of: " input="), let end = line.range(of: " prediction=") else { return nil }
            return String(line[start.upperBound..<end.lowerBound])
        }
    }

    /// The store keeps a gap in its place and reads rows stored before gaps were logged (no `null`) as before; the
    /// `GET /logs` item reads back into the same record (how `RemoteAPI` decodes it).
    @Test func storeAndItemKeepTheGap() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try AppDatabase.open(path: directory.path + "/x.db")
        var rows = FeatureMatrix()
        rows.append(row: [Number.int(1), nil, .double(0.25)])
        rows.append(row: [Number.int(4), .int(5), .int(6)])
        let batch = PredictionBatch(
            timestamp: Timestamp(microseconds: 1_753_021_271_768_594), tenant: "t", userID: "u", model: "m",
            version: "1", inputs: rows, predictions: [.double(1.5), .int(15)], latencyMicros: 3)
        let repository = SQLitePredictionRepository(database: database)
        _ = try await repository.insert(batches: [batch])
        // A row logged before gaps were (and before a batch was one record): JSON text without `null`.
        try await database.writer.write { db in
            try db.execute(sql: """
                INSERT INTO predictions (timestamp, tenant, user_id, model, version, latency_us, input, prediction)
                VALUES (1, 't', 'u', 'm', '1', 2, '[7,8.5]', '15.5')
                """)
        }
        let records = try await repository.records(after: 0, matching: try LogQuery(tenant: "t"))
        #expect(records.map(\.input) == [[.int(1), nil, .double(0.25)], [.int(4), .int(5), .int(6)], [.int(7), .double(8.5)]])
        #expect(records.map(\.id) == [1, 2, 3])
        #expect(records.last?.prediction == .double(15.5))
        let gap = try #require(records.first)
        #expect(JSONWriter.compact(gap.json).contains(#""input":[1,null,0.25]"#))
        #expect(try PredictionRecord(json: gap.json) == gap)
        #expect(gap.logLine == "[2025-07-20T14:21:11.768594] model=m input=[1, null, 0.25] prediction=1.5")
        var csv: [UInt8] = []
        LogExportFormat.csv.append(gap, into: &csv)
        #expect(String(decoding: csv, as: UTF8.self).hasSuffix(",1.5,1  0.25\n"))
        // An item whose input holds anything but numbers and null is not a logged row.
        let bad = try JSONParser.parse(JSONWriter.compact(gap.json).replacingOccurrences(of: "null", with: "true"))
        #expect(throws: XalorraError.self) { try PredictionRecord(json: bad) }
    }

    /// A live subscriber (`GET /logs/stream`, `/ws/predictions`) gets the gap in its place.
    @Test func feedKeepsTheGap() async throws {
        let feed = PredictionFeed()
        let stream = feed.subscribe(try LogQuery())
        var rows = FeatureMatrix()
        rows.append(row: [nil, Number.int(2)])
        feed.publish(
            PredictionBatch(
                timestamp: .now(), tenant: "t", userID: "u", model: "m", version: "1", inputs: rows,
                predictions: [.int(2)], latencyMicros: 1),
            ids: [7])
        feed.finishAll()
        var received: [PredictionRecord] = []
        for await record in stream { received.append(record) }
        #expect(received.map(\.input) == [[nil, .int(2)]])
    }

    // MARK: Each row formatted once

    /// Numbers of every form the log meets: integers (the extremes too), doubles short and long, with exponents,
    /// float32 values widened (as OIP binary tensors arrive), subnormals, and missing cells.
    static let awkwardRows: [[Number?]] = [
        [.int(1), .int(-2), .int(0), .int(.max), .int(.min)],
        [.double(0.1), .double(-0.0), .double(1e-7), .double(1e16), .double(1e22), .double(123_456.789)],
        [.double(Double(Float(0.7))), nil, .double(Double(Float(-2.9999998))), .double(.leastNonzeroMagnitude), nil],
        [nil],
        [.double(.greatestFiniteMagnitude), .double(.leastNormalMagnitude), .double(2.5e-5), .double(6)],
    ]

    /// A double is written exactly as `Double.description` writes it (the bytes every stored row and log line had),
    /// now without a `String`: checked on random bit patterns and float32 values.
    @Test func doublesAreWrittenAsDescriptionWritesThem() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [
            0, -0.0, 0.1, 1e-7, 1e16, 1e15, 1e21, 1e22, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        for _ in 0..<200_000 {
            let double = Double(bitPattern: generator.next())
            if double.isFinite { values.append(double) }
            values.append(Double(Float.random(in: -3...3, using: &generator)))
        }
        var mismatches: [Double] = []
        var out: [UInt8] = []
        for value in values {
            out.removeAll(keepingCapacity: true)
            JSONWriter.write(number: .double(value), into: &out)
            if out != Array(value.description.utf8) { mismatches.append(value) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    /// The store gives every row back exactly (each number's value and whether it was an integer, each gap), and the
    /// text log's line is the one ``PredictionRecord/logLine`` writes for the row read back.
    @Test func eachRowReadsBackExactlyFromStoreAndLog() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var rows = FeatureMatrix()
        for row in Self.awkwardRows { rows.append(row: row) }
        let predictions: [Number] = [.int(-7), .double(0.30000000000000004), .double(1e-7), .int(0), .double(1e300)]
        let batch = PredictionBatch(
            timestamp: Timestamp(microseconds: 1_753_021_271_768_594), tenant: "t", userID: "u", model: "m",
            version: "1", inputs: rows, predictions: predictions, latencyMicros: 3)
        let database = try AppDatabase.open(path: directory.path + "/x.db")
        let repository = SQLitePredictionRepository(database: database)
        _ = try await repository.insert(batches: [batch])
        let stored = try await repository.records(after: 0, matching: try LogQuery())
        #expect(stored.map(\.input) == Self.awkwardRows)
        #expect(stored.map(\.prediction) == predictions)
        // Bit for bit: -0.0 == 0.0, so compare the doubles' bits too.
        let bits = { (rows: [[Number?]]) in rows.flatMap { $0.map { cell -> UInt64? in
            if case .double(let value)? = cell { value.bitPattern } else { nil } } } }
        #expect(bits(stored.map(\.input)) == bits(Self.awkwardRows))
        let log = PredictionLogFile(path: directory.path + "/logs/predictions.log")
        try log.append(batch)
        let lines = try String(contentsOfFile: log.path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == stored.map(\.logLine))
        #expect(lines[2] == "[2025-07-20T14:21:11.768594] model=m input=[0.699999988079071, null, -2.999999761581421, "
            + "5e-324, null] prediction=1e-07")
    }
}
