import Foundation
import Testing
@testable import XalorraCore
import XalorraML

/// `PredictRequest`, the one decoded form of a prediction request: its wire form both ways (what the server reads is
/// what `RemoteAPI` writes), its refusals, and the one place where named columns meet a model's features.
struct PredictRequestTests {
    private func decode(_ body: String, maxRows: Int = 100) throws(XalorraError) -> PredictRequest {
        let json: JSONValue
        do { json = try JSONParser.parse(body) } catch { throw XalorraError(.badRequest, "\(error)") }
        return try PredictRequest(json: json, maxRows: maxRows)
    }

    private func matrix(_ columns: [String], _ rows: [[Number?]]) -> FeatureMatrix {
        var matrix = FeatureMatrix(columns: columns)
        for row in rows { matrix.append(row: row) }
        return matrix
    }

    /// The error a body is refused with, or `nil` when it is accepted.
    private func refusal(_ body: String, maxRows: Int = 100) -> XalorraError? {
        do {
            _ = try decode(body, maxRows: maxRows)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Decoding

    /// The seed's `{"features": [...]}` is one row; `{"instances": ...}` without names is a batch in the model's order
    /// with `null` as a missing value; `"columns"` beside `"instances"` names the cells.
    @Test func bodiesDecodeToTheirShape() throws {
        #expect(try decode(#"{"features":[1,2.5,-3]}"#) == .single([.int(1), .double(2.5), .int(-3)]))
        #expect(try decode(#"{"instances":[[1,null],[3,4]]}"#) == .batch(matrix([], [[.int(1), nil], [.int(3), .int(4)]])))
        #expect(
            try decode(#"{"columns":["c","b"],"instances":[[1,null],[3,4]]}"#)
                == .batch(matrix(["c", "b"], [[.int(1), nil], [.int(3), .int(4)]])))
        #expect(try decode(#"{"columns":null,"instances":[[1]]}"#) == .batch(matrix([], [[.int(1)]])))
        #expect(try decode(#"{"columns":["a"],"instances":[]}"#) == .batch(matrix(["a"], [])))
    }

    /// What `RemoteAPI` writes the server reads back as the same request: one row, and batches with and without
    /// names, with missing cells, names that need escaping, and numbers of every kind.
    @Test func theEncoderWritesWhatTheDecoderReads() throws {
        let requests: [PredictRequest] = [
            .single([.int(1), .double(-2.5e-7), .int(Int64.max)]),
            .batch(matrix([], [[.int(1), nil, .double(0.5)], [nil, nil, .int(-3)]])),
            .batch(matrix(["c", "b \"quoted\"", "ä\n"], [[.int(1), nil, .double(1e300)]])),
            .batch(matrix(["a"], [])),
        ]
        for request in requests {
            let body = request.body
            #expect(try decode(String(decoding: body, as: UTF8.self)) == request, "\(String(decoding: body, as: UTF8.self))")
        }
        #expect(String(decoding: PredictRequest.single([.int(1), .int(2)]).body, as: UTF8.self) == #"{"features":[1,2]}"#)
        #expect(
            String(decoding: PredictRequest.batch(matrix(["b", "a"], [[.int(1), nil]])).body, as: UTF8.self)
                == #"{"columns":["b","a"],"instances":[[1,null]]}"#)
    }

    /// Every malformed body is a 422 naming its field (a batch over the limit a 413), and nothing else is read
    /// into the request: names that are not strings, rows as wide as no column list, names beside a single row,
    /// `null` in a single row (offline, `predict m 1 '' 3` is refused too).
    @Test func malformedBodiesAreRefusedNamingTheField() {
        let cases: [(String, String, XalorraError.Code)] = [
            (#"[1,2]"#, "body", .validation),
            (#"{}"#, "features", .validation),
            (#"{"features":[1,null]}"#, "features[1]", .validation),
            (#"{"features":[]}"#, "features", .validation),
            (#"{"instances":{"a":1}}"#, "instances", .validation),
            (#"{"instances":[[1,"x"]]}"#, "instances[0][1]", .validation),
            (#"{"columns":"a,b","instances":[[1,2]]}"#, "columns", .validation),
            (#"{"columns":[],"instances":[]}"#, "columns", .validation),
            (#"{"columns":["a",2],"instances":[[1,2]]}"#, "columns[1]", .validation),
            (#"{"columns":["a","b"],"instances":[[1,2],[1]]}"#, "instances[1]", .validation),
            (#"{"columns":["a","b"],"instances":[[1,2,3]]}"#, "instances[0]", .validation),
            (#"{"columns":["a","b"],"features":[1,2]}"#, "columns", .validation),
            (#"{"instances":[[1],[2],[3]]}"#, "rows", .payloadTooLarge),
        ]
        for (body, field, code) in cases {
            let error = refusal(body, maxRows: 2)
            #expect(error?.code == code, "\(body): \(String(describing: error))")
            #expect(error?.details.contains { $0.field == field } == true, "\(body): \(String(describing: error))")
        }
        #expect(refusal(#"{"columns":["a","b"],"instances":[[1,2],[1]]}"#)?.message == "instances[1]: expected 2 values (one per column), got 1")
    }

    /// A batch larger than a server takes goes in parts: never more rows than allowed, never more bytes than allowed
    /// after the first row (the names counted in), every part carrying the names (or none, for rows without a
    /// header), every row once and in order, missing cells kept.
    @Test(arguments: [[], ["c", "b", "a"]])
    func partsCarryTheNamesAndEveryRowOnce(columns: [String]) throws {
        var rows = FeatureMatrix(columns: columns)
        for index in 0..<500 { rows.append(row: [.int(Int64(index)), .double(0.5), nil]) }
        for (maxRows, maxBytes) in [(7, 1_000_000), (500, 100), (3, 10), (1000, 5000)] {
            var start = 0
            var seen: [Int64] = []
            while start < rows.rowCount {
                let (body, end) = PredictRequest.batchPart(rows, from: start, maxRows: maxRows, maxBytes: maxBytes)
                #expect(end > start && end - start <= maxRows)
                #expect(end - start == 1 || body.count <= maxBytes)
                guard case .batch(let part) = try decode(String(decoding: body, as: UTF8.self), maxRows: maxRows) else {
                    Issue.record("a part is not a batch")
                    return
                }
                #expect(part.columns == columns && part.rowCount == end - start)
                for index in 0..<part.rowCount {
                    let row = Array(part.row(index))
                    if case .int(let first)? = row[0] { seen.append(first) }
                    #expect(row[2] == nil)
                }
                start = end
            }
            #expect(seen == (0..<500).map { Int64($0) }, "\(maxRows) rows, \(maxBytes) bytes")
        }
    }

    // MARK: Columns meet features

    private func version(_ features: [String]) -> ModelVersion {
        ModelVersion(
            name: "m", tenant: "default", version: 1, kind: .gbdt, hyperparameters: .object([]), metrics: nil,
            features: features, trees: 1, size: 1, createdAt: Timestamp(seconds: 0), createdBy: "t")
    }

    /// Named columns are put in the model's order whatever order they came in; extra ones are ignored; rows without
    /// names, or already in order, are taken as they are.
    @Test func columnsAreMatchedByName() throws {
        let model = version(["a", "b", "c"])
        let picked = try model.pickColumns(from: matrix(["z", "c", "b", "a"], [[9, 3, 2, 1], [nil, nil, 5, 4]].map {
            $0.map { $0.map { Number.int(Int64($0)) } }
        }))
        #expect(picked == matrix(["a", "b", "c"], [[.int(1), .int(2), .int(3)], [.int(4), .int(5), nil]]))
        #expect(try model.pickColumns(from: matrix([], [[.int(1), .int(2), .int(3)]])) == nil)
        #expect(try model.pickColumns(from: matrix(["a", "b", "c"], [[.int(1), .int(2), .int(3)]])) == nil)
    }

    /// A column the model reads that is missing, or given twice, is refused naming it (once for all of them); a
    /// repeated column it does not read is ignored like any other extra.
    @Test func missingAndRepeatedColumnsAreNamed() throws {
        let model = version(["a", "b", "c"])
        let row: [Number?] = [.int(1), .int(2), .int(3), .int(4)]
        #expect(throws: XalorraError.invalid("columns", "model m@1 reads its features by name, and the column 'c' is missing")) {
            try model.pickColumns(from: matrix(["a", "b", "z", "y"], [row]))
        }
        #expect(throws: XalorraError.invalid("columns", "model m@1 reads its features by name, and the columns 'a', 'c' are missing")) {
            try model.pickColumns(from: matrix(["b", "z"], [[.int(1), .int(2)]]))
        }
        #expect(
            throws: XalorraError.invalid(
                "columns", "model m@1 reads its features by name, and the column 'a' is given more than once: which one is meant is unclear")
        ) {
            try model.pickColumns(from: matrix(["a", "a", "b", "c"], [row]))
        }
        #expect(try model.pickColumns(from: matrix(["z", "a", "b", "c", "z"], [row + [.int(5)]])) == matrix(["a", "b", "c"], [[.int(2), .int(3), .int(4)]]))
    }

    /// A model with unnamed features (an XGBoost import: `f0, f1, …`) takes columns named `f0…` by name, in any
    /// order, and other names by position when the widths agree; otherwise it says what it reads.
    @Test func unnamedFeaturesTakeTheirNamesOrPositions() throws {
        let model = version(["f0", "f1", "f2"])
        let row: [Number?] = [.int(1), .int(2), .int(3)]
        #expect(try model.pickColumns(from: matrix(["f2", "f1", "f0"], [row])) == matrix(["f0", "f1", "f2"], [[.int(3), .int(2), .int(1)]]))
        #expect(try model.pickColumns(from: matrix(["x", "y", "z"], [row])) == nil)
        #expect(throws: XalorraError.self) { try model.pickColumns(from: matrix(["x", "y"], [[.int(1), .int(2)]])) }
    }
}
