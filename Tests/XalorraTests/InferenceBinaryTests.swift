import CompressNIO
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import XalorraCore
import XalorraML

/// The Open Inference Protocol's binary tensor data extension (raw little-endian tensors after an
/// `Inference-Header-Content-Length`-long JSON header, in and out) and compressed request bodies
/// (`Content-Encoding: gzip`/`deflate`, limited after decoding), as `tritonclient` and `kserve` send them.
@Suite struct InferenceBinaryTests {
    // MARK: Bodies

    /// Little-endian bytes of `values`.
    static func bytes(_ values: [Float]) -> [UInt8] { values.flatMap { le($0.bitPattern) } }
    static func bytes(_ values: [Double]) -> [UInt8] { values.flatMap { le($0.bitPattern) } }
    static func bytes(_ values: [Int32]) -> [UInt8] { values.flatMap { le($0) } }
    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

    /// A binary request: the JSON header then the tensors' bytes; the header's length for the field.
    static func frame(_ header: String, _ tensors: [UInt8]...) -> (body: [UInt8], length: String) {
        (Array(header.utf8) + tensors.flatMap { $0 }, "\(header.utf8.count)")
    }

    /// One `[rows, 3]` input of `datatype` sent as `size` bytes of binary data, and optional request members.
    static func header(_ datatype: String = "FP32", rows: Int = 2, size: Int? = nil, extra: String = "") -> String {
        let size = size ?? rows * 3 * (datatype == "FP64" ? 8 : 4)
        return #"{"id":"r1","inputs":[{"name":"x","shape":[\#(rows),3],"datatype":"\#(datatype)","#
            + #""parameters":{"binary_data_size":\#(size)}}]\#(extra)}"#
    }

    /// ``RouterTests/modelDocument`` (1 below a = 0.5, else 2) with a missing `a` going left (`missingLeft`) or right.
    static func model(missingLeft: Bool) -> String {
        RouterTests.modelDocument.replacingOccurrences(
            of: #""default_left":[1,1,1]"#, with: #""default_left":[\#(missingLeft ? 1 : 0),1,1]"#)
    }

    static func gzip(_ bytes: [UInt8], _ algorithm: ZlibAlgorithm = .gzip) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        return Array(try buffer.compress(with: algorithm).readableBytesView)
    }

    /// One answer with its raw body.
    struct Reply: CustomStringConvertible {
        let status: Int
        let headers: HTTPFields
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONParser.parse(body) }
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
        /// The inference protocol's error message.
        var error: String { json?["error"]?.stringValue ?? "" }
        var description: String { "\(status) \(text.prefix(400))" }

        /// The binary answer's JSON header and its data, split where `Inference-Header-Content-Length` says.
        func binary() throws -> (header: JSONValue, data: [UInt8]) {
            let length = try #require(header("Inference-Header-Content-Length").flatMap { Int($0) }, "\(self)")
            try #require(length <= body.count)
            return (try JSONParser.parse(Array(body[..<length])), Array(body[length...]))
        }
    }

    /// `POST uri` with raw `body` bytes and `headers`.
    static func post(
        _ app: RouterHarness, _ uri: String, token: String, body: [UInt8], headers: [(String, String)] = []
    ) async throws -> Reply {
        var fields = HTTPFields()
        fields[.authorization] = "Bearer \(token)"
        for (name, value) in headers { fields.append(HTTPField(name: try #require(HTTPField.Name(name)), value: value)) }
        let response = try await app.client.executeRequest(
            uri: uri, method: .post, headers: fields, body: ByteBuffer(bytes: body))
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(response.body.readableBytesView))
    }

    /// A binary `infer` of `model`.
    static func infer(
        _ app: RouterHarness, _ model: String, token: String, _ framed: (body: [UInt8], length: String),
        headers: [(String, String)] = []
    ) async throws -> Reply {
        try await post(
            app, "/v2/models/\(model)/infer", token: token, body: framed.body,
            headers: [("Inference-Header-Content-Length", framed.length)] + headers)
    }

    /// The `input` of every row `GET /logs` shows for model `m`.
    static func loggedInputs(_ app: RouterHarness, token: String) async throws -> [JSONValue] {
        let logs = try await app.request("GET", "/logs?model=m&limit=100", token: token)
        guard case .array(let items)? = logs.json?["data"] else { throw XalorraError(.internal, "\(logs)") }
        return items.compactMap { $0["input"] }
    }

    static func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { at in
            Float(bitPattern: bytes[at..<at + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
        }
    }

    static func doubles(_ bytes: [UInt8]) -> [Double] {
        stride(from: 0, to: bytes.count, by: 8).map { at in
            Double(bitPattern: bytes[at..<at + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) })
        }
    }

    static func integers(_ bytes: [UInt8]) -> [Int64] {
        stride(from: 0, to: bytes.count, by: 8).map { at in
            Int64(bitPattern: bytes[at..<at + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) })
        }
    }

    // MARK: Binary tensors

    /// Binary FP32/FP64/INT32 inputs predict what the same values as JSON predict; the answer is JSON unless the
    /// client asks for binary output, which is then FP32 for FP32 inputs, FP64 otherwise, INT64 for the baseline's
    /// whole numbers, with its header length and `application/octet-stream`. Before, every binary body was a 400.
    @Test func binaryTensorsInAndOut() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            try await RouterTests.importModel(app, "m", token: token)
            let rows: [Float] = [0.2, 0, 0, 0.9, 0, 0]

            // As numpy's tolist() writes a float32 array (tritonclient's JSON tensors): every value a float.
            let json = try await app.request(
                "POST", "/v2/models/m/infer", token: token,
                body: #"{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[0.2,0.0,0.0,0.9,0.0,0.0]}]}"#)
            #expect(json.status == 200 && json.json?["outputs"]?[0]?["data"]?.doubles == [1, 2], "\(json)")
            let jsonLogged = try await Self.loggedInputs(app, token: token)

            let plain = try await Self.infer(app, "m", token: token, Self.frame(Self.header(), Self.bytes(rows)))
            #expect(plain.status == 200 && plain.header("Content-Type") == "application/json", "\(plain)")
            #expect(plain.json?["outputs"]?[0]?["data"]?.doubles == [1, 2] && plain.json?["id"] == "r1", "\(plain)")
            #expect(plain.json?["outputs"]?[0]?["datatype"] == "FP64")
            // The binary rows are logged exactly as the same values sent as JSON are.
            let bothLogged = try await Self.loggedInputs(app, token: token)
            #expect(jsonLogged.count == 2 && bothLogged.count == 4, "\(bothLogged)")
            #expect(bothLogged.filter { !jsonLogged.contains($0) }.isEmpty, "\(jsonLogged) then \(bothLogged)")

            let asked = try await Self.infer(
                app, "m", token: token,
                Self.frame(Self.header(extra: #","parameters":{"binary_data_output":true}"#), Self.bytes(rows)))
            #expect(asked.status == 200 && asked.header("Content-Type") == "application/octet-stream", "\(asked)")
            let (header, data) = try asked.binary()
            #expect(header["outputs"]?[0]?["datatype"] == "FP32" && header["outputs"]?[0]?["shape"] == .array([2]), "\(header)")
            #expect(header["outputs"]?[0]?["parameters"]?["binary_data_size"] == 8 && header["outputs"]?[0]?["data"] == nil)
            #expect(header["model_version"] == "1" && header["id"] == "r1")
            #expect(Self.floats(data) == [1, 2])

            let fp64 = try await Self.infer(
                app, "m", token: token,
                Self.frame(
                    Self.header("FP64", extra: #","outputs":[{"name":"predict","parameters":{"binary_data":true}}]"#),
                    Self.bytes(rows.map(Double.init))))
            let (fp64Header, fp64Data) = try fp64.binary()
            #expect(fp64Header["outputs"]?[0]?["datatype"] == "FP64" && Self.doubles(fp64Data) == [1, 2], "\(fp64)")

            // The output's own flag wins over the request's.
            let overridden = try await Self.infer(
                app, "m", token: token,
                Self.frame(
                    Self.header(extra: #","parameters":{"binary_data_output":true},"outputs":[{"name":"predict","parameters":{"binary_data":false}}]"#),
                    Self.bytes(rows)))
            #expect(overridden.header("Content-Type") == "application/json" && overridden.json?["outputs"]?[0]?["data"]?.doubles == [1, 2])

            // One binary input per column, by name, in any order; the baseline's whole sums come back as INT64.
            let columns = #"{"inputs":[{"name":"c","shape":[2],"datatype":"FP64","parameters":{"binary_data_size":16}},"#
                + #"{"name":"a","shape":[2],"datatype":"FP64","data":[0.2,0.9]},"#
                + #"{"name":"b","shape":[2,1],"datatype":"FP64","parameters":{"binary_data_size":16}}]}"#
            let byColumn = try await Self.infer(
                app, "m", token: token, Self.frame(columns, Self.bytes([0.0, 0]), Self.bytes([0.0, 0])))
            #expect(byColumn.json?["outputs"]?[0]?["data"]?.doubles == [1, 2], "\(byColumn)")

            let baseline = try await Self.infer(
                app, "sums", token: token,
                Self.frame(
                    #"{"inputs":[{"name":"x","shape":[2,2],"datatype":"INT32","parameters":{"binary_data_size":16}}],"#
                        + #""parameters":{"binary_data_output":true}}"#, Self.bytes([Int32(1), 2, 3, -4])))
            let (baselineHeader, baselineData) = try baseline.binary()
            #expect(baselineHeader["outputs"]?[0]?["datatype"] == "INT64" && Self.integers(baselineData) == [3, -1])

            // Every row is logged, as a JSON request's are.
            let logs = try await app.request("GET", "/logs?model=m&limit=100", token: token)
            #expect(logs.json?["pagination"]?["total"] == 12, "\(logs)")
        }
    }

    /// A binary NaN is a missing value: the trees send it the way their default direction says (left in one model,
    /// right in the other), and the baseline, which has no direction, refuses it with a 422 naming the row.
    @Test func nanFollowsTheDefaultDirection() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            for (name, left) in [("left", true), ("right", false)] {
                let imported = try await app.request(
                    "POST", "/models/\(name)/import", token: token, body: Self.model(missingLeft: left))
                #expect(imported.status == 201, "\(imported)")
            }
            let output = #","parameters":{"binary_data_output":true}"#
            for (name, expected) in [("left", Float(1)), ("right", 2)] {
                let fp32 = try await Self.infer(
                    app, name, token: token,
                    Self.frame(Self.header(extra: output), Self.bytes([Float.nan, 0, 0, 0.9, 0, 0])))
                #expect(try Self.floats(fp32.binary().data) == [expected, 2], "\(name): \(fp32)")
                let fp64 = try await Self.infer(
                    app, name, token: token,
                    Self.frame(Self.header("FP64", extra: output), Self.bytes([-Double.nan, 0, 0, 0.2, 0, 0])))
                #expect(try Self.doubles(fp64.binary().data) == [Double(expected), 1], "\(name): \(fp64)")
            }
            let baseline = try await Self.infer(
                app, "sums", token: token, Self.frame(Self.header(), Self.bytes([1, 2, 3, 4, .nan, 6] as [Float])))
            #expect(baseline.status == 422 && baseline.error.contains("rows[1]"), "\(baseline)")
        }
    }

    /// Each datatype's bytes read as the JSON path reads its numbers: FP16 (normal, subnormal, NaN as missing),
    /// signed integers sign-extended, UINT64 above Int64.max as a whole double, BOOL 0/1; an FP16 infinity and a
    /// BOOL byte 2 are refused naming the element.
    @Test func everyDatatypeDecodes() throws {
        func read(_ datatype: String, _ bytes: [UInt8], count: Int) throws(XalorraError) -> [Number?] {
            let header = #"{"inputs":[{"name":"x","shape":[1,\#(count)],"datatype":"\#(datatype)","#
                + #""parameters":{"binary_data_size":\#(bytes.count)}}]}"#
            let request = try InferenceRequest(
                body: Array(header.utf8) + bytes, headerLength: "\(header.utf8.count)", maxRows: 10)
            return Array(request.rows.row(0))
        }
        #expect(try read("FP16", [0x00, 0x3C, 0x00, 0xC1, 0x01, 0x00, 0x00, 0x7E], count: 4)
            == [.double(1), .double(-2.5), .double(0x1p-24), nil])
        #expect(try read("INT8", [0xFF, 0x80], count: 2) == [.int(-1), .int(-128)])
        #expect(try read("UINT8", [0xFF, 0x80], count: 2) == [.int(255), .int(128)])
        #expect(try read("INT16", Self.le(Int16(-300)) + Self.le(Int16.max), count: 2) == [.int(-300), .int(32767)])
        #expect(try read("UINT16", Self.le(UInt16.max), count: 1) == [.int(65535)])
        #expect(try read("UINT32", Self.le(UInt32.max), count: 1) == [.int(4_294_967_295)])
        #expect(try read("INT64", Self.le(Int64.min), count: 1) == [.int(.min)])
        #expect(try read("UINT64", Self.le(UInt64.max) + Self.le(UInt64(7)), count: 2) == [.double(0x1p64), .int(7)])
        #expect(try read("BOOL", [1, 0], count: 2) == [.int(1), .int(0)])
        #expect(try read("FP32", Self.bytes([Float(0.1)]), count: 1) == [.double(Double(Float(0.1)))])
        #expect(try read("FP64", Self.bytes([0.1, -.nan]), count: 2) == [.double(0.1), nil])
        for (datatype, bytes, field) in [
            ("FP16", [0x00, 0x3C, 0x00, 0xFC] as [UInt8], "inputs[0].data[1]"), ("BOOL", [0, 2], "inputs[0].data[1]"),
            ("FP64", Self.bytes([1.0, -.infinity]), "inputs[0].data[1]"),
        ] {
            do throws(XalorraError) {
                _ = try read(datatype, bytes, count: 2)
                Issue.record("\(datatype) \(bytes) accepted")
            } catch {
                #expect(error.code == .validation && error.details.first?.field == field, "\(error)")
            }
        }
    }

    /// FP16 values sent as JSON are rounded to FP16, as the same values arrive as binary FP16: one tensor, one answer
    /// (JSON FP16 was rounded to FP32 and `[0.1, 0.1, 0.1]` summed to 0.30000000447 as JSON, 0.29993 as binary).
    @Test func fp16AsJSONAndAsBinaryAgree() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            let json = try await app.request(
                "POST", "/v2/models/base/infer", token: token,
                body: #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP16","data":[0.1,0.1,0.1]}]}"#)
            let header = #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP16","parameters":{"binary_data_size":6}}]}"#
            let half: [UInt8] = [0x66, 0x2E, 0x66, 0x2E, 0x66, 0x2E]  // 0.1 as FP16 (0x2E66), three times
            let binary = try await Self.infer(app, "base", token: token, Self.frame(header, half))
            let fromJSON = json.json?["outputs"]?[0]?["data"]?.doubles
            #expect(fromJSON == [0.2999267578125] && binary.json?["outputs"]?[0]?["data"]?.doubles == fromJSON, "\(json) \(binary)")
            // The edges: the largest FP16, the smallest subnormal, below half of it (0), a tie rounding to even (1).
            let edges = try await app.request(
                "POST", "/v2/models/base/infer", token: token,
                body: #"{"inputs":[{"name":"x","shape":[4,1],"datatype":"FP16","data":[65504,-5.960464477539063e-8,1.4901161193847656e-8,1.00048828125]}]}"#)
            #expect(edges.json?["outputs"]?[0]?["data"]?.doubles == [65504, -0x1p-24, 0, 1], "\(edges)")
        }
    }

    /// FP32 in, FP32 out, unless a prediction has no finite FP32 form: a sum past 3.4e38 answers FP64 instead of
    /// turning into infinity (it answered FP32 +inf, while the JSON answer was the finite 6.8e38).
    @Test func binaryOutputTooLargeForFP32IsFP64() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            let reply = try await Self.post(
                app, "/v2/models/base/infer", token: token,
                body: Array(#"{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP32","data":[3.4e38,3.4e38]}],"parameters":{"binary_data_output":true}}"#.utf8))
            let (header, data) = try reply.binary()
            #expect(header["outputs"]?[0]?["datatype"] == "FP64", "\(header)")
            #expect(Self.doubles(data).first.map { $0.isFinite && $0 > 6.7e38 } == true, "\(Self.doubles(data))")
        }
    }

    /// Every malformed binary request is a clear 400 (framing) or 422 (naming the input or output), never a crash
    /// or a 500, and nothing is logged.
    @Test func malformedBinaryRequestsAreRefused() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            try await RouterTests.importModel(app, "m", token: token)
            let six = Self.bytes([Float](repeating: 0.5, count: 6))
            let header = Self.header()
            let cases: [(String, (body: [UInt8], length: String), Int, String)] = [
                ("size not shape × element", Self.frame(Self.header(size: 20), Array(six[..<20])), 422,
                 "inputs[0].parameters.binary_data_size"),
                ("short data", Self.frame(header, Array(six[..<20])), 400, "only 20 bytes"),
                ("no data", Self.frame(header), 400, "only 0 bytes"),
                ("extra data", Self.frame(header, six, [1, 2, 3]), 400, "3 bytes after"),
                ("bytes without binary inputs",
                 Self.frame(#"{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2,3]}]}"#, [0]), 400,
                 "no input has parameters.binary_data_size"),
                ("header past the body", (Array(header.utf8) + six, "\(header.utf8.count + 25)"), 400, "only"),
                ("header not a number", (Array(header.utf8) + six, "12a"), 400, "Inference-Header-Content-Length"),
                ("negative header", (Array(header.utf8) + six, "-1"), 400, "Inference-Header-Content-Length"),
                ("header cuts the JSON", (Array(header.utf8) + six, "10"), 400, "Malformed JSON body"),
                ("data and binary both",
                 Self.frame(
                    #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3],"parameters":{"binary_data_size":12}}]}"#,
                    Array(six[..<12])), 422, "inputs[0].data"),
                ("bad binary_data_size",
                 Self.frame(#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","parameters":{"binary_data_size":"12"}}]}"#,
                    Array(six[..<12])), 422, "binary_data_size"),
                ("infinity", Self.frame(header, Self.bytes([0, 0, 0, Float.infinity, 0, 0])), 422, "inputs[0].data[3]"),
                ("BOOL byte 2",
                 Self.frame(#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"BOOL","parameters":{"binary_data_size":3}}]}"#, [0, 1, 2]),
                 422, "inputs[0].data[2]"),
                ("unknown output", Self.frame(Self.header(extra: #","outputs":[{"name":"scores"}]"#), six), 422,
                 "outputs[0].name"),
                ("classification",
                 Self.frame(Self.header(extra: #","outputs":[{"name":"predict","parameters":{"classification":2}}]"#), six),
                 422, "classification"),
                ("input in shared memory",
                 Self.frame(#"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","parameters":{"shared_memory_region":"r","shared_memory_byte_size":12}}]}"#),
                 422, "inputs[0].parameters.shared_memory_region"),
                ("output to shared memory",
                 Self.frame(Self.header(extra: #","outputs":[{"name":"predict","parameters":{"shared_memory_region":"r"}}]"#), six),
                 422, "outputs[0].parameters.shared_memory_region"),
                ("binary_data_output not a flag",
                 Self.frame(Self.header(extra: #","parameters":{"binary_data_output":"yes"}"#), six), 422,
                 "parameters.binary_data_output"),
            ]
            for (name, framed, status, message) in cases {
                let answer = try await Self.infer(app, "m", token: token, framed)
                #expect(answer.status == status && answer.error.contains(message), "\(name): \(answer)")
                #expect(answer.header("Content-Type") == "application/json", "\(name)")
            }
            // Binary data without the field that says where the JSON ends.
            let unframed = try await Self.post(app, "/v2/models/m/infer", token: token, body: Array(header.utf8))
            #expect(unframed.status == 400 && unframed.error.contains("Inference-Header-Content-Length"), "\(unframed)")
            let logs = try await app.request("GET", "/logs?model=m", token: token)
            #expect(logs.json?["pagination"]?["total"] == 0, "\(logs)")
        }
    }

    /// A `Content-Encoding` on a request without a body is no reason to refuse it: there is nothing to decode.
    @Test func encodingWithoutABodyIsIgnored() async throws {
        try await RouterHarness.run { app in
            let health = try await app.request("GET", "/health", headers: [("Content-Encoding", "br")])
            #expect(health.status == 200, "\(health)")
        }
    }

    /// `GET /v2` advertises the extension under Triton's name for it.
    @Test func serverMetadataAdvertisesBinaryTensorData() async throws {
        try await RouterHarness.run { app in
            let server = try await app.request("GET", "/v2")
            #expect(server.status == 200 && server.json?["extensions"] == .array(["binary_tensor_data"]), "\(server)")
        }
    }

    // MARK: Compressed bodies

    /// gzip, zlib-format deflate and raw deflate bodies are decoded on every route that takes a body (the inference
    /// protocol's and the seed's predict; binary ones in ``binaryInferOverASocket()``); `identity` is no encoding.
    /// Before, each was a 400.
    @Test func compressedBodiesAreDecoded() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            try await RouterTests.importModel(app, "m", token: token)
            let infer = Array(#"{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[0.2,0,0,0.9,0,0]}]}"#.utf8)
            for (encoding, algorithm) in [("gzip", ZlibAlgorithm.gzip), ("x-gzip", .gzip), ("deflate", .zlib), ("DEFLATE", .deflate)] {
                let json = try await Self.post(
                    app, "/v2/models/m/infer", token: token, body: try Self.gzip(infer, algorithm),
                    headers: [("Content-Encoding", encoding)])
                #expect(json.status == 200 && json.json?["outputs"]?[0]?["data"]?.doubles == [1, 2], "\(encoding): \(json)")
                let predict = try await Self.post(
                    app, "/predict/m", token: token, body: try Self.gzip(Array(#"{"features":[0.9,0,0]}"#.utf8), algorithm),
                    headers: [("Content-Encoding", encoding)])
                #expect(predict.status == 200 && predict.json?["prediction"] == .number(.double(2)), "\(encoding): \(predict)")
            }
            let identity = try await Self.post(
                app, "/predict/m", token: token, body: Array(#"{"features":[0.9,0,0]}"#.utf8),
                headers: [("Content-Encoding", "identity")])
            #expect(identity.status == 200, "\(identity)")
        }
    }

    /// Unknown or stacked encodings, and corrupt, truncated or trailed streams, are 400s that say what is wrong
    /// (the envelope on the seed's routes, `{"error"}` on the protocol's); nothing is predicted.
    @Test func badlyEncodedBodiesAreRefused() async throws {
        try await RouterHarness.run { app in
            let token = try await app.adminToken()
            let body = Array(#"{"features":[1,2,3]}"#.utf8)
            let gzipped = try Self.gzip(body)
            let cases: [(String, [UInt8], String)] = [
                ("br", body, "'br' is not supported"),
                ("compress", body, "'compress' is not supported"),
                ("gzip, gzip", try Self.gzip(gzipped), "stacks encodings"),
                ("gzip", body, "not valid gzip data"),
                ("gzip", Array(gzipped.dropLast(6)), "ends early"),
                ("gzip", Array(gzipped[..<10]), "ends early"),
                ("gzip", gzipped + [0x41, 0x42], "2 bytes follow"),
                ("deflate", Array(try Self.gzip(body, .zlib).dropLast(3)), "not valid deflate data"),
            ]
            for (encoding, sent, message) in cases {
                let answer = try await Self.post(
                    app, "/predict/sums", token: token, body: sent, headers: [("Content-Encoding", encoding)])
                #expect(answer.status == 400 && answer.text.contains(message), "\(encoding): \(answer)")
                #expect(answer.json?["error"]?["code"] == "VALIDATION_ERROR", "\(encoding): \(answer)")
            }
            let inference = try await Self.post(
                app, "/v2/models/m/infer", token: token, body: body, headers: [("Content-Encoding", "br")])
            #expect(inference.status == 400 && inference.error.contains("'br' is not supported"), "\(inference)")
            let logs = try await app.request("GET", "/logs", token: token)
            #expect(logs.json?["pagination"]?["total"] == 0, "\(logs)")
        }
    }

    /// A small body that decodes past the body limit is a 413 (the limit applies after decoding, and decoding stops
    /// there); one that decodes to exactly the limit is read.
    @Test func decompressionBombIsTooLarge() async throws {
        try await RouterHarness.run(environment: ["XALORRA_MAX_BODY": "65536"]) { app in
            let token = try await app.adminToken()
            let bomb = try Self.gzip([UInt8](repeating: 0x20, count: 32 << 20))
            #expect(bomb.count < 65536)
            let answer = try await Self.post(
                app, "/predict/sums", token: token, body: bomb, headers: [("Content-Encoding", "gzip")])
            #expect(answer.status == 413 && answer.text.contains("65536"), "\(answer)")
            #expect(answer.json?["error"]?["code"] == "PAYLOAD_TOO_LARGE")

            let json = Array(#"{"features":[1,2,3]}"#.utf8)
            let exact = json + [UInt8](repeating: 0x20, count: 65536 - json.count)
            let fits = try await Self.post(
                app, "/predict/sums", token: token, body: try Self.gzip(exact), headers: [("Content-Encoding", "gzip")])
            #expect(fits.status == 200 && fits.json?["prediction"] == 6, "\(fits)")
            let over = try await Self.post(
                app, "/predict/sums", token: token, body: try Self.gzip(exact + [0x20]),
                headers: [("Content-Encoding", "gzip")])
            #expect(over.status == 413, "\(over)")
        }
    }

    // MARK: Over a socket

    /// Over a real connection, a gzip-compressed binary request answers a binary body whose
    /// `Inference-Header-Content-Length` and bytes are what the client reads, and the rows are logged.
    @Test func binaryInferOverASocket() async throws {
        let server = try await LiveServer()
        defer { _ = server.stop() }
        let token = try server.token(["--user", "ana"])
        let rows: [Float] = (0..<100).flatMap { row -> [Float] in [Float(row), 1, 2] }
        let framed = Self.frame(
            Self.header(rows: 100, extra: #","outputs":[{"name":"predict","parameters":{"binary_data":true}}]"#),
            Self.bytes(rows))
        let request = RawHTTP.request(
            "POST", "/v2/models/sums/infer", token: token,
            headers: [("Inference-Header-Content-Length", framed.length), ("Content-Encoding", "gzip")],
            body: try Self.gzip(framed.body))
        let answer = try #require(await RawHTTP.exchange(port: server.port, request))
        #expect(answer.status == 200 && answer.header("Content-Type") == "application/octet-stream", "\(answer)")
        let length = try #require(answer.header("Inference-Header-Content-Length").flatMap { Int($0) })
        let header = try JSONParser.parse(Array(answer.body[..<length]))
        #expect(header["outputs"]?[0]?["datatype"] == "FP32" && header["outputs"]?[0]?["parameters"]?["binary_data_size"] == 400)
        #expect(Self.floats(Array(answer.body[length...])) == (0..<100).map { Float($0) + 3 })
        let logs = try await server.request("GET", "/logs?model=sums", token: token)
        #expect(logs.status == 200 && logs.body.contains(#""total":100"#), "\(logs.body.prefix(300))")
    }
}

extension JSONValue {
    /// Item `index` when this is an array that has it.
    fileprivate subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    /// The numbers, when this is an array of numbers.
    fileprivate var doubles: [Double]? {
        guard case .array(let items) = self else { return nil }
        return items.compactMap { if case .number(let number) = $0 { number.doubleValue } else { nil } }
    }
}
