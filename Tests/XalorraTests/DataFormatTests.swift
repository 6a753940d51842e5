import Testing
@testable import XalorraCore
import XalorraML

/// Numbers, CSV, NDJSON, JSON, time stamps and `.env`: the parsers every command relies on.
struct DataFormatTests {
    /// Finite numbers parse with their integer-ness kept; everything else is refused.
    @Test func numbers() {
        #expect(Number(text: "6") == .int(6))
        #expect(Number(text: "-12") == .int(-12))
        #expect(Number(text: "2.5") == .double(2.5))
        #expect(Number(text: "1e3") == .double(1000))
        #expect(Number(text: "99999999999999999999") == .double(1e20))
        for bad in ["", "-", "nan", "NaN", "inf", "-inf", "Infinity", "0x1p3", "1e", "1.2.3", " 1", "1,5", "1e999"] {
            #expect(Number(text: bad) == nil, "\(bad) must not parse")
        }
    }

    /// The baseline sums, keeping integers integral and falling back to doubles on overflow.
    @Test func baselineSums() {
        #expect(BaselineModel.predict([.int(1), .int(2), .int(3)]) == .int(6))
        #expect(BaselineModel.predict([.int(1), .double(2.5)]) == .double(3.5))
        #expect(BaselineModel.predict([]) == .int(0))
        #expect(BaselineModel.predict([.int(.max), .int(1)]) == .double(Double(Int64.max) + 1))
        #expect(BaselineModel.predict([.int(1), .int(2), .int(3)]).description == "6")
    }

    /// CSV: header, quotes, CRLF, BOM, blank lines and empty cells as missing values.
    @Test func csvReads() throws {
        let text = "\u{FEFF}a,\"b\",c\r\n1,2,3\r\n\r\n4, 5.5 ,\n\"7\",\"8\",9"
        let matrix = try CSVReader.read(Array(text.utf8))
        #expect(matrix.columns == ["a", "b", "c"])
        #expect(matrix.rowCount == 3)
        #expect(Array(matrix.row(0)) == [.int(1), .int(2), .int(3)])
        #expect(Array(matrix.row(1)) == [.int(4), .double(5.5), nil])
        #expect(Array(matrix.row(2)) == [.int(7), .int(8), .int(9)])
    }

    /// CSV errors name the line and the column.
    @Test func csvErrors() {
        #expect(throws: DatasetError(line: 3, column: "b", reason: "'x' is not a number")) {
            try CSVReader.read(Array("a,b\n1,2\n3,x\n".utf8))
        }
        #expect(throws: DatasetError(line: 2, reason: "3 cells, but the header has 2")) {
            try CSVReader.read(Array("a,b\n1,2,3\n".utf8))
        }
        #expect(throws: DatasetError(line: 2, reason: "a quoted cell is not closed")) {
            try CSVReader.read(Array("a\n\"1\n".utf8))
        }
        #expect(throws: DatasetError.self) { try CSVReader.read([]) }
    }

    /// NDJSON rows may differ in length and carry `null` for missing values.
    @Test func ndjsonReads() throws {
        let matrix = try NDJSONReader.read(Array("{\"features\":[1,2,3]}\n\n{\"id\":7,\"features\":[1.5,null]}\n".utf8))
        #expect(matrix.rowCount == 2)
        #expect(Array(matrix.row(1)) == [.double(1.5), nil])
        #expect(throws: DatasetError.self) { try NDJSONReader.read(Array("{\"features\":[1,\"x\"]}".utf8)) }
        #expect(throws: DatasetError.self) { try NDJSONReader.read(Array("[1,2]".utf8)) }
        #expect(throws: DatasetError.self) { try NDJSONReader.read(Array("{\"features\":[NaN]}".utf8)) }
    }

    /// The JSON parser is strict and round-trips through the writer.
    @Test func jsonStrict() throws {
        let text = #"{"a":[1,2.5,-3e2,true,null],"b":"x\"\u00e9\ud83d\ude00","c":{}}"#
        let value = try JSONParser.parse(text)
        #expect(JSONWriter.compact(value) == #"{"a":[1,2.5,-300.0,true,null],"b":"x\"é😀","c":{}}"#)
        let bad = ["", "{", "[1,]", "{'a':1}", "01", "1.", "NaN", "[1] x", "\"\u{01}\"", #""\ud800""#, "+1", ".5"]
        for text in bad {
            #expect(throws: JSONParseError.self, "\(text) must be refused") { try JSONParser.parse(text) }
        }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    /// Time stamps format as the seed log does and parse back.
    @Test func timestamps() {
        let time = Timestamp(microseconds: 1_753_021_271_768_594)
        #expect(time.logText == "2025-07-20T14:21:11.768594")
        #expect(time.iso8601 == "2025-07-20T14:21:11.768594Z")
        #expect(Timestamp(iso: "2025-07-20T14:21:11.768594") == time)
        #expect(Timestamp(iso: "2025-07-20T16:21:11.768594+02:00") == time)
        #expect(Timestamp(iso: "2025-07-20")?.logText == "2025-07-20T00:00:00.000000")
        #expect(Timestamp(microseconds: -1).logText == "1969-12-31T23:59:59.999999")
        #expect(Timestamp(iso: "2025-13-01") == nil)
        #expect(Timestamp(iso: "yesterday") == nil)
    }

    /// Durations parse in every unit and refuse nonsense.
    @Test func durations() {
        #expect(TimeSpan("90s")?.seconds == 90)
        #expect(TimeSpan("15m")?.seconds == 900)
        #expect(TimeSpan("30d")?.seconds == 2_592_000)
        #expect(TimeSpan("1h")?.description == "1h")
        for bad in ["", "h", "0s", "-5m", "1y", "1.5h", "١h"] { #expect(TimeSpan(bad) == nil, "\(bad)") }
    }

    /// The seed's log line format.
    @Test func logLine() {
        let record = PredictionRecord(
            id: 1, timestamp: Timestamp(microseconds: 1_753_021_271_768_594), model: "xgb-v2", version: "baseline",
            input: [.int(1), .int(2), .int(3)], prediction: .int(6), userID: "u", tenant: "t", latencyMicros: 12)
        #expect(record.logLine == "[2025-07-20T14:21:11.768594] model=xgb-v2 input=[1, 2, 3] prediction=6")
    }

    /// `.env` files: comments, export, quotes.
    @Test func dotEnv() {
        let values = DotEnv.parse("# c\nexport SECRET_KEY = \"a b\" \nJWT_ALGORITHM=HS384 # note\nEMPTY=\nbad line\n")
        #expect(values == ["SECRET_KEY": "a b", "JWT_ALGORITHM": "HS384", "EMPTY": ""])
    }

    /// Settings precedence is flag > environment > .env > default.
    @Test func settingsPrecedence() throws {
        let dotEnv = ["XALORRA_HOME": "/from-dotenv", "JWT_ALGORITHM": "HS512", "XALORRA_USER": "dot"]
        let environment = ["XALORRA_HOME": "/from-env", "HOME": "/home/x", "USER": "os"]
        let settings = try Settings.resolve(flags: ["--home": "/from-flag"], environment: environment, dotEnv: dotEnv)
        #expect(settings.home == "/from-flag")
        #expect(settings.algorithm == .hs512)
        #expect(settings.user == "dot")
        let defaults = try Settings.resolve(flags: [:], environment: ["HOME": "/home/x", "USER": "os"], dotEnv: [:])
        #expect(defaults.home == "/home/x/.xalorra" && defaults.user == "os" && defaults.algorithm == .hs256)
        #expect(Settings.stripBearer("Bearer  abc ") == "abc")
        #expect(Settings.stripBearer("bEaReR x.Y") == "x.Y" && Settings.stripBearer(" x.Y") == "x.Y")
        #expect(Settings.stripBearer("Bearerx") == "Bearerx" && Settings.stripBearer("Bearer\u{0}x") == "Bearer\u{0}x")
        #expect(Settings.stripBearer("bearer") == "bearer" && Settings.stripBearer("Bearer ") == "Bearer")
        #expect(Settings.stripBearer("Bearer \u{301}tok").unicodeScalars.elementsEqual("\u{301}tok".unicodeScalars))
        #expect(throws: XalorraError.self) {
            try Settings.resolve(flags: [:], environment: ["JWT_ALGORITHM": "RS256"], dotEnv: [:])
        }
    }

    /// Model names are validated, with an optional pinned version.
    @Test func modelReferences() throws {
        #expect(try ModelReference("xgb-v2").name == "xgb-v2")
        #expect(try ModelReference("price@3").version == 3)
        for bad in ["", "../etc", "a b", "x@0", "x@y", "-x", String(repeating: "a", count: 129), "a;drop"] {
            #expect(throws: XalorraError.self, "\(bad)") { try ModelReference(bad) }
        }
        #expect(try ModelReference(name: "price", version: "3").description == "price@3")
        #expect(try ModelReference(name: "price", version: "latest").description == "price")
        for (name, version) in [("price", "0"), ("price", "x"), ("price", "-1"), ("a@1", "latest"), ("a@1", "2")] {
            #expect(throws: XalorraError.self, "\(name) \(version)") { try ModelReference(name: name, version: version) }
        }
    }
}

/// The NDJSON fast path accepts exactly what the full parser accepts for the `{"features": [...]}` shape.
struct NDJSONFastPathTests {
    /// Lines in the common shape take the fast path and give the same rows as the parser.
    @Test(arguments: [
        #"{"features":[1,2,3]}"#, #" { "features" : [ 1 , -2.5e3 , null ] } "#, #"{"features":[]}"#,
        #"{"features":[0,-0,0.25]}"#,
    ])
    func fastPathMatchesParser(line: String) throws {
        var fast: [Number?] = []
        let bytes = Array(line.utf8)
        let took = bytes.withUnsafeBufferPointer { NDJSONReader.fastRow($0, into: &fast) }
        #expect(took)
        let parsed = try NDJSONReader.read(bytes)
        #expect(Array(parsed.row(0)) == fast)
    }

    /// Anything JSON refuses is left to the parser, which reports it.
    @Test(arguments: [
        #"{"features":[+1]}"#, #"{"features":[.5]}"#, #"{"features":[5.]}"#, #"{"features":[01]}"#,
        #"{"features":[1,]}"#, #"{"features":[NaN]}"#, #"{"features":[1]"#, #"{"features":[1]} x"#,
        #"{"features":[1e]}"#,
    ])
    func invalidLinesAreRefused(line: String) {
        var row: [Number?] = []
        let took = Array(line.utf8).withUnsafeBufferPointer { NDJSONReader.fastRow($0, into: &row) }
        #expect(!took)
        #expect(throws: DatasetError.self) { try NDJSONReader.read(Array(line.utf8)) }
    }
}

/// The fast writers used on batch paths say exactly what the general ones say.
struct FastWriterTests {
    /// `Prediction.writeJSON` (batch output) matches `Prediction.json` (the seed's body) byte for byte.
    @Test(arguments: [[Number.int(1), .int(2), .int(3)], [.double(2.5), .int(-7)], []])
    func predictionBodies(input: [Number]) {
        let prediction = Prediction(model: "x\"g", input: input, prediction: BaselineModel.predict(input), version: "3")
        var fast: [UInt8] = []
        Prediction.writeJSON(
            model: prediction.model, input: input, prediction: prediction.prediction, version: prediction.version,
            into: &fast)
        #expect(String(decoding: fast, as: UTF8.self) == JSONWriter.compact(prediction.json))
    }

    /// Integers of every size format as `String(_:)` does.
    @Test func integers() {
        for value: Int64 in [0, 7, -7, 10, 99, -100, 1_234_567, .max, .min] {
            var out: [UInt8] = []
            JSONWriter.appendInteger(value, into: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
    }
}
