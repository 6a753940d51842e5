import Foundation
import GRDB
import Testing
@testable import XalorraCore
import XalorraML

/// `xalorra logs export` and `GET /logs/export`: every matching row, no cap, in id order, as NDJSON or CSV, under
/// the tenant rules of `GET /logs`, and the same bytes offline and remote.
@Suite(.serialized)
struct LogExportTests {
    // MARK: Fixtures

    /// A user name that CSV must quote: a comma, a double quote and a line feed.
    static let awkwardUser = "ann, \"the\" analyst\nsecond line"

    /// `count` predictions spread over tenants `t1` (two in three) and `t2`, models `a` and `b`, one user with an
    /// awkward name, inputs of mixed widths and kinds, one second apart from 2025-01-01T00:00:00Z.
    /// `width` sets the features of every row (else two or three).
    static func fill(_ database: AppDatabase, count: Int, start: Int = 0, width: Int? = nil) async throws {
        let repository = SQLitePredictionRepository(database: database)
        var batches: [PredictionBatch] = []
        for index in start..<start + count {
            var inputs = FeatureMatrix()
            if let width {
                inputs.append(row: (0..<width).map { Number.int(Int64(index &* 31 &+ $0)) })
            } else {
                inputs.append(row: index % 5 == 0 ? [.double(0.5), .int(-3)] : [.int(Int64(index)), .int(2), .double(1e-7)])
            }
            batches.append(PredictionBatch(
                timestamp: Timestamp(seconds: 1_735_689_600 + Int64(index)), tenant: index % 3 == 2 ? "t2" : "t1",
                userID: index % 7 == 0 ? awkwardUser : "bob", model: index % 2 == 0 ? "a" : "b", version: "baseline",
                inputs: inputs, predictions: [index % 4 == 0 ? .double(Double(index) / 8) : .int(Int64(index))],
                latencyMicros: Int64(index % 1000)))
        }
        _ = try await repository.insert(batches: batches)
    }

    /// An API on `database` acting as `caller`.
    static func api(_ database: AppDatabase, _ caller: Caller) throws -> LocalAPI {
        let settings = try Settings.resolve(
            flags: [:], environment: ["HOME": "/tmp", "XALORRA_PREDICTION_LOG": "off"], dotEnv: [:])
        return LocalAPI(settings: settings, caller: caller, database: database)
    }

    static let admin = Caller(user: "root", role: .admin, tenant: "default")

    /// The whole export as bytes.
    static func collect(_ chunks: AsyncThrowingStream<[UInt8], any Error>) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in chunks { bytes += chunk }
        return bytes
    }

    /// Every record `GET /logs` lists for `query`'s filters, oldest first, read a page at a time.
    static func listed(_ api: LocalAPI, _ query: LogQuery) async throws -> [PredictionRecord] {
        var records: [PredictionRecord] = []
        var page = query
        page.limit = LogQuery.maxLimit
        while true {
            let items = try await api.logs(page).items
            records += items
            if items.count < page.limit { break }
            page.offset += items.count
        }
        return records.reversed()
    }

    /// The records of CSV `text` (RFC 4180: quoted fields, doubled quotes, line feeds inside quotes).
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text).makeIterator()
        var pending: Character?
        while let character = pending ?? characters.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    let following = characters.next()
                    if following == "\"" { field.append("\"") } else { quoted = false; pending = following }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                row.append(field)
                field = ""
            } else if character == "\n" {
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.append(character)
            }
        }
        return rows
    }

    // MARK: Offline, in process

    /// Every row, past `GET /logs`' 1,000 cap and across pages, in id order, each line the `GET /logs` item's JSON.
    @Test func ndjsonHasEveryRowAsTheLogsItem() async throws {
        let database = try AppDatabase.inMemory()
        try await Self.fill(database, count: 2_345)
        let api = try Self.api(database, Self.admin)
        let bytes = try await Self.collect(api.exportLogs(LogExportRequest()))
        let expected = try await Self.listed(api, LogQuery())
        #expect(expected.count == 2_345)
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2_346 && lines.last == "", "one line per row, each ended by a line feed")
        #expect(lines.dropLast().map(String.init) == expected.map { JSONWriter.compact($0.json) })
    }

    /// The CSV export parses back (header, quoting) to the same rows as the NDJSON one: same ids, texts, numbers,
    /// and the input as its numbers joined by spaces.
    @Test func csvParsesBackToTheNDJSONRows() async throws {
        let database = try AppDatabase.inMemory()
        try await Self.fill(database, count: 1_500)
        let api = try Self.api(database, Self.admin)
        let csv = try await Self.collect(api.exportLogs(LogExportRequest(format: .csv)))
        let ndjson = try await Self.collect(api.exportLogs(LogExportRequest()))
        let rows = Self.parseCSV(String(decoding: csv, as: UTF8.self))
        #expect(rows.first == LogExportFormat.csvColumns)
        let items = try String(decoding: ndjson, as: UTF8.self).split(separator: "\n").map { line in
            try JSONParser.parse(Array(line.utf8))
        }
        #expect(rows.count - 1 == items.count && items.count == 1_500)
        for (row, item) in zip(rows.dropFirst(), items) {
            func text(_ name: String) -> String {
                switch item[name] {
                case .string(let value)?: value
                case .number(let value)?: value.description
                default: "?"
                }
            }
            guard case .array(let cells)? = item["input"] else { Issue.record("no input"); continue }
            let input = cells.map { cell in if case .number(let value) = cell { value.description } else { "?" } }
                .joined(separator: " ")
            #expect(row == ["id", "timestamp", "model", "version", "user_id", "tenant", "latency_ms", "prediction"].map(text) + [input])
        }
        #expect(rows.contains { $0[4] == Self.awkwardUser }, "the quoted user name reads back whole")
    }

    /// The filters of `GET /logs` apply: model, since and until, tenant.
    @Test func filtersMatchTheLogsRoute() async throws {
        let database = try AppDatabase.inMemory()
        try await Self.fill(database, count: 1_200)
        let api = try Self.api(database, Self.admin)
        let since = Timestamp(seconds: 1_735_689_600 + 100), until = Timestamp(seconds: 1_735_689_600 + 1_100)
        let request = try LogExportRequest(model: "b", since: since, until: until, tenant: "t2")
        let bytes = try await Self.collect(api.exportLogs(request))
        let expected = try await Self.listed(api, LogQuery(model: "b", since: since, until: until, tenant: "t2"))
        #expect(!expected.isEmpty)
        #expect(String(decoding: bytes, as: UTF8.self) == expected.map { JSONWriter.compact($0.json) + "\n" }.joined())
    }

    /// A user exports its own tenant only, and naming another is refused before any byte; an admin may name any
    /// tenant, or none for all of them.
    @Test func tenantRulesAreThoseOfTheLogsRoute() async throws {
        let database = try AppDatabase.inMemory()
        try await Self.fill(database, count: 300)
        let user = try Self.api(database, Caller(user: "bob", role: .user, tenant: "t2"))
        let own = try await Self.collect(user.exportLogs(LogExportRequest()))
        let lines = String(decoding: own, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 100)
        #expect(lines.allSatisfy { $0.contains(#""tenant":"t2""#) })
        do {
            _ = try await user.exportLogs(LogExportRequest(tenant: "t1"))
            Issue.record("another tenant's export was not refused")
        } catch {
            #expect(error.code == .insufficientPermissions)
        }
        let admin = try Self.api(database, Self.admin)
        #expect(String(decoding: try await Self.collect(admin.exportLogs(LogExportRequest(tenant: "t1"))), as: UTF8.self)
            .split(separator: "\n").count == 200)
        #expect(String(decoding: try await Self.collect(admin.exportLogs(LogExportRequest())), as: UTF8.self)
            .split(separator: "\n").count == 300)
    }

    /// An export ends at the newest row of when it began: rows logged meanwhile are left out, so an export of a busy
    /// server finishes.
    @Test func rowsLoggedDuringTheExportAreLeftOut() async throws {
        let database = try AppDatabase.inMemory()
        try await Self.fill(database, count: 2_500)
        let api = try Self.api(database, Self.admin)
        var iterator = try await api.exportLogs(LogExportRequest()).makeAsyncIterator()
        var bytes = try #require(try await iterator.next())
        try await Self.fill(database, count: 3_000, start: 2_500)
        while let chunk = try await iterator.next() { bytes += chunk }
        #expect(String(decoding: bytes, as: UTF8.self).split(separator: "\n").count == 2_500)
    }

    /// The keyset read of a tenant walks the rowids from the last id instead of sorting the whole tenant for every
    /// page (which made an export quadratic and cost a followed log the whole tenant on each poll).
    @Test func keysetReadDoesNotSortTheTenant() async throws {
        let database = try AppDatabase.inMemory()
        for query in [try LogQuery(tenant: "t1"), try LogQuery(model: "a", tenant: "t1"), try LogQuery(model: "a")] {
            let (sql, arguments) = SQLitePredictionRepository.keysetSQL(query, after: 5)
            let plan = try await database.writer.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
            }
            #expect(!plan.joined().contains("TEMP B-TREE"), "\(sql): \(plan)")
        }
    }

    /// The query of `GET /logs/export` reads back what `RemoteAPI` writes, to the microsecond, and a bad format or
    /// time is a 422 naming the parameter.
    @Test func queryParametersRoundTrip() throws {
        let request = try LogExportRequest(
            model: "m", since: Timestamp(microseconds: 1_735_689_600_123_456), until: Timestamp(seconds: 1_800_000_000),
            tenant: "t 1&x", format: .csv)
        #expect(try LogExportRequest(parameters: Dictionary(uniqueKeysWithValues: request.parameters)) == request)
        #expect(try LogExportRequest(parameters: [:]).format == .ndjson)
        for (name, value) in [("format", "xml"), ("since", "yesterday"), ("until", "1x")] {
            do {
                _ = try LogExportRequest(parameters: [name: value])
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect(error.code == .validation && error.details.first?.field == name)
            }
        }
    }

    // MARK: The binary, offline and remote

    /// A bad `--format` is a usage error (exit 2) that names the option and the formats.
    @Test func badFormatIsAUsageError() throws {
        let cli = try BinaryRunner()
        let result = try cli.run(["logs", "export", "--format", "xml"])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("error: ") && result.stderr.contains("--format") && result.stderr.contains("ndjson, csv"))
        #expect(result.stdout.isEmpty)
    }

    /// `--output` writes the file (mode 0600) and says how many rows; a file it cannot write leaves nothing behind.
    @Test func outputFileIsWrittenWhole() async throws {
        let cli = try BinaryRunner()
        try cli.run(["predict", "m", "1", "2"])
        try cli.run(["predict", "m", "3"])
        let target = cli.home.appendingPathComponent("log.csv").path
        let result = try cli.run(["logs", "export", "--format", "csv", "-o", target])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("exported 2 predictions to \(target)"))
        let rows = Self.parseCSV(try String(contentsOfFile: target, encoding: .utf8))
        #expect(rows.count == 3 && rows[1][8] == "1 2" && rows[2][8] == "3")
        #expect(FileSystem.mode(of: target) == 0o600)
        let missing = cli.home.appendingPathComponent("no/such/dir/log.csv").path
        let failed = try cli.run(["logs", "export", "-o", missing])
        #expect(failed.status == 1 && failed.stderr.hasPrefix("error: cannot write \(missing)"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.home.path).allSatisfy { !$0.contains(".tmp.") })
    }

    /// Offline and with `--url` on the same store print the same bytes, in both formats and with filters, past the
    /// 1,000-row page; a user's token exports its tenant only and is refused another with exit 4.
    @Test func remotePrintsTheOfflineBytes() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let database = try AppDatabase.open(path: server.cli.home.appendingPathComponent("xalorra.db").path)
        try await Self.fill(database, count: 2_100)
        let admin = try server.token(["--role", "admin"])
        for arguments in [
            ["logs", "export"], ["logs", "export", "--format", "csv"],
            ["logs", "export", "--format", "csv", "--model", "a", "--tenant", "t2", "--since", "2025-01-01T00:10:00Z"],
            ["logs", "export", "--until", "2025-01-01T00:20:00.5Z", "--tenant", "nobody"],
        ] {
            let offline = try server.cli.run(arguments)
            let remote = try server.cli.run(arguments + ["--url", server.url, "--token", admin])
            #expect(offline.status == 0 && remote.status == 0, "\(arguments): \(offline.stderr) \(remote.stderr)")
            #expect(offline.stdout == remote.stdout, "\(arguments): stdout differs")
            #expect(offline.stderr == remote.stderr)
        }
        #expect(try server.cli.run(["logs", "export"]).stdout.split(separator: "\n").count == 2_100)
        let user = try server.token(["--role", "user", "--tenant", "t2"])
        let own = try server.cli.run(["logs", "export", "--url", server.url, "--token", user])
        #expect(own.status == 0 && own.stdout.split(separator: "\n").count == 700)
        #expect(own.stdout == (try server.cli.run(["logs", "export", "--tenant", "t2"])).stdout)
        let other = try server.cli.run(["logs", "export", "--tenant", "t1", "--url", server.url, "--token", user])
        #expect(other.status == 4 && other.stderr.hasPrefix("error: tenant 't1' is not yours") && other.stdout.isEmpty)
    }

    /// Over HTTP: the media types, a 422 envelope for a bad format, a 401 without a token, and `HEAD`.
    @Test func routeAnswersWithItsMediaTypes() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        try server.cli.run(["predict", "m", "1"])
        let token = try server.token(["--role", "admin"])
        let csv = try await server.request("GET", "/logs/export?format=csv", token: token)
        #expect(csv.status == 200 && csv.headers.first(name: "Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.body.hasPrefix(LogExportFormat.csvColumns.joined(separator: ",") + "\n"))
        let ndjson = try await server.request("GET", "/logs/export", token: token)
        #expect(ndjson.status == 200 && ndjson.headers.first(name: "Content-Type") == "application/x-ndjson")
        #expect(ndjson.body.hasSuffix("}\n") && ndjson.body.split(separator: "\n").count == 1)
        let bad = try await server.request("GET", "/logs/export?format=xml", token: token)
        #expect(bad.status == 422 && bad.body.contains(#""code":"VALIDATION_ERROR""#) && bad.body.contains("format"))
        #expect(try await server.request("GET", "/logs/export").status == 401)
    }

    /// A client that reads slowly still gets every row: the server waits for it instead of cutting the response
    /// (a live feed's relay ends a stream once 4 MiB wait for the socket; an export must never end short). While the
    /// client sleeps its receive buffer stays at its initial size, so what it has not read waits in the server.
    @Test
    func slowReaderGetsEveryRow() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let database = try AppDatabase.open(path: server.cli.home.appendingPathComponent("xalorra.db").path)
        let rows = 32_000
        try await Self.fill(database, count: rows, width: 60)
        let connection = try await RawHTTP.connect(port: server.port)
        defer { connection.close() }
        let token = try server.token(["--role", "admin"])
        #expect(await connection.send(RawHTTP.request("GET", "/logs/export", token: token)))
        // Long enough for the server to read the whole log, were it not waiting for this client.
        try await Task.sleep(for: .seconds(3))
        let received = try await Self.readToEnd(connection.fd)
        let head = try #require(received.firstRange(of: Array("\r\n\r\n".utf8)))
        #expect(String(decoding: received[..<head.lowerBound], as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        let body = Self.dechunk(Array(received[head.upperBound...]))
        #expect(body.count > 12 << 20, "more than the socket buffers (4 MiB at most) and the relay's 4 MiB together")
        #expect(body.lazy.filter { $0 == 0x0A }.count == rows)
    }

    /// Everything the server sends on `fd` until it closes the connection.
    static func readToEnd(_ fd: Int32) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = recv(fd, &buffer, buffer.count, 0)
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else { break }
                    received += buffer[0..<count]
                }
                continuation.resume(returning: received)
            }
        }
    }

    /// The body of a chunked transfer: up to the last whole chunk.
    static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        var index = 0
        while let lineEnd = bytes[index...].firstRange(of: [0x0D, 0x0A])?.lowerBound,
            let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16), size > 0,
            lineEnd + 2 + size <= bytes.count
        {
            body += bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]
            index = lineEnd + 2 + size + 2
        }
        return body
    }
}
