import Foundation
import Testing
@testable import XalorraCore
import XalorraML

/// The batch paths' shortcuts (issue 19): number arrays read without a JSON tree, doubles formatted into the
/// caller's memory, a batch's text log written into one buffer. Each must give exactly what the general path gives,
/// answers and refusals alike.
@Suite struct BatchParsingTests {
    /// What reading a body gave: the value, or the error's code, message and details.
    enum Outcome<Value: Equatable>: Equatable {
        case value(Value)
        case refused(String, String, [XalorraError.FieldError])

        init(_ body: () throws(XalorraError) -> Value) {
            do throws(XalorraError) {
                self = .value(try body())
            } catch {
                self = .refused(error.code.name, error.message, error.details)
            }
        }
    }

    /// The general path of an `infer` body: the whole body as a tree, then the request.
    static func treeRequest(_ body: String) throws(XalorraError) -> FeatureMatrix {
        let json: JSONValue
        do throws(JSONParseError) { json = try JSONParser.parse(body) } catch { throw error.badRequest(bodyIsEmpty: body.isEmpty) }
        return try InferenceRequest(json: json, maxRows: 1_000).rows
    }

    static func tensor(_ data: String, datatype: String = "FP32", shape: String = "[2,3]", extra: String = "") -> String {
        #"{"id":"a","inputs":[{"name":"x","shape":\#(shape),"datatype":"\#(datatype)","data":\#(data)\#(extra)}]}"#
    }

    /// An `infer` body gives the same rows, or the same refusal, whether its `data` is read straight into cells or
    /// through the tree: flat and nested data, FP32 rounding, integers, BOOL, missing and extra values, values of the
    /// wrong kind, data given twice or with binary data, several inputs, bad JSON.
    @Test func inferBodiesReadAsTheTreeReadsThem() throws {
        let bodies = [
            Self.tensor("[1,2,3,4,5,6]"), Self.tensor("[[1,2,3],[4,5,6]]"), Self.tensor("[[1,2,3],4,5,6]"),
            Self.tensor("[0.1,0.2,0.30000001192092896,1e-7,-2.5e3,123456789012]"),
            Self.tensor("[1,2,3,4,5,6]", datatype: "INT8"), Self.tensor("[1,2,3,4,5,600]", datatype: "INT8"),
            Self.tensor("[1,0,1,0,1,1]", datatype: "BOOL"), Self.tensor("[true,false,true,false,true,1]", datatype: "BOOL"),
            Self.tensor("[1,0,1,0,1,2]", datatype: "BOOL"), Self.tensor("[1,2,3,4,5,6.5]", datatype: "UINT16"),
            Self.tensor("[1,2,3,4,5]"), Self.tensor("[1,2,3,4,5,6,7]"), Self.tensor("[1,2,null,4,5,6]"),
            Self.tensor(#"[1,2,"3",4,5,6]"#), Self.tensor("[[[1,2,3]],[4,5,6]]"), Self.tensor("[[],[1,2,3,4,5,6]]"),
            Self.tensor("[1,2,3,4,5,6]", extra: #","data":[1,2,3,4,5,6]"#),
            Self.tensor("[1,2,3,4,5,6]", extra: #","parameters":{"binary_data_size":24}"#),
            Self.tensor("[1,2,3,4,5,6]", datatype: "FP16"), Self.tensor("[1,2,3,4,5,1e6]", datatype: "FP16"),
            Self.tensor("[1,2,3,4,5,1e39]"), Self.tensor("[1,2,3,4,5,6]", shape: "[6]"), Self.tensor("[]", shape: "[0,3]"),
            Self.tensor("7", shape: "[1]"), Self.tensor("[1,2,3,4,5,6 ]"), Self.tensor("[ 1 , 2,3,4,5,6]"),
            Self.tensor("[1,2,3,4,5,6,]"), Self.tensor("[1,2,3,4,5,01]"), Self.tensor("[1,2,3,4,5,-]"),
            Self.tensor("[1,2,3,4,5,6"), Self.tensor("{\"a\":1}"),
            #"{"inputs":[{"name":"a","shape":[2],"datatype":"FP64","data":[1,2]},{"name":"b","shape":[2,1],"datatype":"INT32","data":[[3],[4]]}]}"#,
            #"{"inputs":[{"data":[1,2,3],"name":"a","shape":[3],"datatype":"FP64"}]}"#,
            #"{"inputs":[{"data":[1,2,3],"name":"a","shape":[3],"datatype":"FP64"}],"inputs":[]}"#,
            #"{"inputs":[{"name":"a","shape":[3],"datatype":"FP64"}]}"#, #"{"inputs":[5]}"#, #"{"inputs":{}}"#,
            #"{"inputs":[]}"#, #"[1,2]"#, "", "{", #"{"inputs":[{"name":"a","shape":[3],"datatype":"FP64","data":[1,2,3]}]} x"#,
        ]
        for body in bodies {
            let fast = Outcome { () throws(XalorraError) in
                try InferenceRequest(body: Array(body.utf8), headerLength: nil, maxRows: 1_000).rows
            }
            let tree = Outcome { () throws(XalorraError) in try Self.treeRequest(body) }
            #expect(fast == tree, "\(body)")
            if case .value(let rows) = fast, case .value(let same) = tree {
                // Equality compares doubles by value; the cells must also keep integer against double.
                #expect(rows.values.map { $0.map(String.init(describing:)) } == same.values.map { $0.map(String.init(describing:)) })
            }
        }
    }

    /// A `POST /predict` body gives the same request and explain flag, or the same refusal, whether its
    /// `instances` are read straight into cells or through the tree: missing values, columns, rows of the wrong
    /// width, empty rows, values of the wrong kind, too many rows, `features`, bad JSON.
    @Test func predictBodiesReadAsTheTreeReadsThem() throws {
        let bodies = [
            #"{"instances":[[1,2,3],[4,null,6.5]]}"#, #"{"instances":[[1,2,3],[4,5]]}"#, #"{"instances":[]}"#,
            #"{"columns":["a","b"],"instances":[[1,2],[3,4]]}"#, #"{"columns":["a","b"],"instances":[[1,2],[3]]}"#,
            #"{"instances":[[1,2],[]]}"#, #"{"instances":[[1,"2"]]}"#, #"{"instances":[[1,[2]]]}"#, #"{"instances":[1,2]}"#,
            #"{"instances":[[1,true]]}"#, #"{"instances":[[1,2]],"explain":true}"#, #"{"explain":1,"instances":[[1]]}"#,
            #"{"instances":[[1],[2],[3],[4],[5],[6]]}"#, #"{"instances":[[1]],"instances":[[2]]}"#,
            #"{"features":[1,2,3]}"#, #"{"features":[1,null]}"#, #"{"instances":[[1,2]],"features":[1]}"#,
            #"{"instances":[[1,2]"#, #"{"instances":[[1,2]]}x"#, #"{"instances":{"a":1}}"#, "[]", "", " { \"instances\" : [ [ 1 , 2 ] ] } ",
            #"{"instances":[[1e400]]}"#, #"{"instances":[[-0.0,1E5,12345678901234567890]]}"#,
        ]
        for body in bodies {
            let fast = Outcome { () throws(XalorraError) in
                let decoded = try PredictRequest.decode(body: Array(body.utf8), maxRows: 5)
                return "\(decoded.request) \(decoded.explain)"
            }
            let tree = Outcome { () throws(XalorraError) in
                let json: JSONValue
                do throws(JSONParseError) { json = try JSONParser.parse(body) } catch { throw error.badRequest(bodyIsEmpty: body.isEmpty) }
                let request = try PredictRequest(json: json, maxRows: 5)
                return "\(request) \(try PredictRequest.explains(json))"
            }
            #expect(fast == tree, "\(body)")
        }
    }

    /// Doubles are written exactly as `description` writes them, over every binary exponent and the edge values.
    @Test func doublesAreWrittenAsDescriptionWritesThem() {
        var random = SystemRandomNumberGenerator()
        var values: [Double] = [
            0, -0.0, 1, -1, 0.1, 0.5, 1e-5, 1e-4, 123456.789, 1e15, 1e16, 9_007_199_254_740_992, 9_007_199_254_740_994,
            .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            Double(Float(0.1)), 0.30000000000000004, 1e300, 2.5e-300, 100, 1e22, 1e23,
        ]
        for _ in 0..<200_000 {
            let value = Double(bitPattern: random.next())
            if value.isFinite { values.append(value) }
            values.append(Double(Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))))
            values.append(Double(Int64.random(in: -1_000_000...1_000_000)) / 1_000)
        }
        var mismatches: [String] = []
        for value in values where value.isFinite {
            var out: [UInt8] = [0x41]
            JSONWriter.appendDouble(value, into: &out)
            if out != [0x41] + Array(value.description.utf8) { mismatches.append("\(value.bitPattern)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// A batch's text log is one seed line per row, exactly as ``PredictionRecord/appendLogLine`` writes each:
    /// integers (the extremes too), doubles, missing values, rows of different widths, integer predictions; a large
    /// batch's too, formatted a block of rows at a time as it is written.
    @Test func batchLogLinesAreTheRowsLines() throws {
        var inputs = FeatureMatrix()
        let rows: [[Number?]] = [
            [.int(1), nil, .double(0.1)], [.int(Int64.min), .int(Int64.max), .int(0), .int(-7)],
            [.double(-1.5e-300), .double(1e22), .double(Double(Float(0.7)))], [nil], [.double(3)],
        ]
        for row in rows { inputs.append(row: row) }
        let predictions: [Number] = [.double(0.25), .int(-3), .double(1e-7), .int(Int64.min), .double(6)]
        let time = Timestamp(microseconds: 1_753_021_271_768_594)
        var expected: [UInt8] = []
        for (index, row) in rows.enumerated() {
            PredictionRecord.appendLogLine(
                timestamp: time, model: "m-1", input: row, prediction: predictions[index], into: &expected)
            expected.append(0x0A)
        }
        let lines = PredictionBatch.logLines(
            timestamp: time, model: "m-1", inputs: inputs, predictions: predictions, rows: 0..<rows.count)
        #expect(String(decoding: lines, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(PredictionBatch.logLines(
            timestamp: time, model: "m", inputs: FeatureMatrix(), predictions: [], rows: 0..<0).isEmpty)
        // A large batch's lines are formatted when written, a block of rows at a time: the same text.
        var large = FeatureMatrix()
        var outputs: [Number] = []
        var whole: [UInt8] = []
        for index in 0..<2_500 {
            let row: [Number?] = [.int(Int64(index)), index % 7 == 0 ? nil : .double(Double(index) / 3)]
            large.append(row: row)
            outputs.append(.double(Double(index) * 0.5))
            PredictionRecord.appendLogLine(timestamp: time, model: "big", input: row, prediction: outputs[index], into: &whole)
            whole.append(0x0A)
        }
        let batch = PredictionBatch(
            timestamp: time, tenant: "t", userID: "u", model: "big", version: "1", inputs: large, predictions: outputs,
            latencyMicros: 1)
        #expect(batch.logLines.isEmpty)
        var written: [[UInt8]] = []
        try batch.writeLogLines { written.append($0) }
        #expect(written.count == 3 && written.joined().elementsEqual(whole))
    }
}
