import Foundation
import Testing
import XalorraCore
import XalorraML

/// The Open Inference Protocol's outputs of a model (issue 16): the metadata lists a multi-class model's second
/// output, `probabilities`, and an `infer` request that names outputs gets only those.
@Suite struct InferenceOutputsTests {
    /// A server with LightGBM's 3-class fixture imported as `lgbm`, a token, and a 4-row FP64 tensor of its rows.
    static func multiClassServer() async throws -> (server: LiveServer, token: String, tensor: String) {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        let token = try server.token()
        let imported = try server.cli.run(
            ["models", "import", "lgbm", try MultiClassTests.path("lightgbm-multiclass.txt")])
        #expect(imported.status == 0, "\(imported)")
        let rows = try MultiClassTests.rows("lightgbm-multiclass")
        let data = rows.prefix(4).map { $0.map { $0.isNaN ? "0" : "\($0)" }.joined(separator: ",") }
            .joined(separator: ",")
        return (server, token, #"{"name":"input","shape":[4,\#(rows[0].count)],"datatype":"FP64","data":[\#(data)]}"#)
    }

    /// The names of an answer's (or metadata's) outputs, in order.
    static func outputs(_ header: JSONValue) -> [String] {
        guard case .array(let items)? = header["outputs"] else { return [] }
        return items.compactMap { $0["name"]?.stringValue }
    }

    /// `GET /v2/models/{m}` of a multi-class model lists `probabilities` ([-1, K], FP64) after `predict`, and reads
    /// back with its class count; a model that is not multi-class (the baseline) lists `predict` alone.
    @Test func metadataListsTheProbabilitiesOutput() async throws {
        let (server, token, _) = try await Self.multiClassServer()
        defer { server.stop() }
        let answer = try await server.request("GET", "/v2/models/lgbm", token: token)
        #expect(answer.status == 200, "\(answer.body)")
        let json = try JSONParser.parse(answer.body)
        #expect(Self.outputs(json) == ["predict", "probabilities"], "\(answer.body)")
        guard case .array(let outputs)? = json["outputs"], outputs.count == 2 else { return }
        #expect(outputs[1]["datatype"] == "FP64" && outputs[1]["shape"] == .array([.number(.int(-1)), .number(.int(3))]))
        let metadata = try InferenceModelMetadata(json: json)
        let width = try MultiClassTests.rows("lightgbm-multiclass")[0].count
        #expect(metadata.classes == 3 && metadata.features == width, "\(metadata)")
        let pinned = try await server.request("GET", "/v2/models/lgbm/versions/1", token: token)
        #expect(Self.outputs(try JSONParser.parse(pinned.body)) == ["predict", "probabilities"], "\(pinned.body)")

        let baseline = try await server.request("GET", "/v2/models/sums", token: token)
        let plain = try JSONParser.parse(baseline.body)
        #expect(baseline.status == 200 && Self.outputs(plain) == ["predict"], "\(baseline.body)")
        #expect(try InferenceModelMetadata(json: plain).classes == nil)
    }

    /// An `infer` request whose `outputs` names only `predict`, or only `probabilities`, gets only that output (as
    /// JSON and as binary data, whose bytes are then that output's alone); naming both, or none, gets both.
    @Test func namedOutputsAreTheOnlyOnesAnswered() async throws {
        let (server, token, tensor) = try await Self.multiClassServer()
        defer { server.stop() }
        func infer(_ outputs: String) async throws -> (names: [String], body: JSONValue) {
            let answer = try await server.request(
                "POST", "/v2/models/lgbm/infer", token: token, body: #"{"inputs":[\#(tensor)]\#(outputs)}"#)
            #expect(answer.status == 200, "\(answer.body)")
            let json = try JSONParser.parse(answer.body)
            return (Self.outputs(json), json)
        }
        #expect(try await infer(#","outputs":[{"name":"predict"}]"#).names == ["predict"])
        let probabilities = try await infer(#","outputs":[{"name":"probabilities"}]"#)
        #expect(probabilities.names == ["probabilities"], "\(probabilities.body)")
        if case .array(let outputs)? = probabilities.body["outputs"], case .array(let data)? = outputs.first?["data"] {
            #expect(data.count == 12)
        }
        #expect(try await infer(#","outputs":[{"name":"probabilities"},{"name":"predict"}]"#).names
            == ["predict", "probabilities"])
        #expect(try await infer("").names == ["predict", "probabilities"])
        #expect(try await infer(#","outputs":[]"#).names == ["predict", "probabilities"])

        // Binary: the header lists the one output and the body carries only its bytes (12 FP64 probabilities).
        let request = RawHTTP.request(
            "POST", "/v2/models/lgbm/infer", token: token, headers: [("Content-Type", "application/json")],
            body: Array(#"{"inputs":[\#(tensor)],"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]}"#.utf8))
        let binary = try #require(await RawHTTP.exchange(port: server.port, request))
        #expect(binary.status == 200, "\(binary)")
        let length = try #require(binary.header("Inference-Header-Content-Length").flatMap { Int($0) })
        let header = try JSONParser.parse(Array(binary.body.prefix(length)))
        #expect(Self.outputs(header) == ["probabilities"], "\(header)")
        guard case .array(let outputs)? = header["outputs"] else { return }
        #expect(outputs.first?["parameters"]?["binary_data_size"] == .number(.int(96)), "\(header)")
        #expect(binary.body.count - length == 96)
    }

    /// Naming `probabilities` for a model that is not multi-class is a 422 naming the outputs, and logs nothing.
    @Test func probabilitiesOfARegressionModelAreRefused() async throws {
        let server = try await LiveServer(arguments: ["--rate-limit", "off"])
        defer { server.stop() }
        let token = try server.token()
        let tensor = #"{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}"#
        let refused = try await server.request(
            "POST", "/v2/models/sums/infer", token: token,
            body: #"{"inputs":[\#(tensor)],"outputs":[{"name":"probabilities"}]}"#)
        #expect(refused.status == 422 && refused.body.contains("not multi-class"), "\(refused.body)")
        let logs = try await server.request("GET", "/logs?model=sums", token: token)
        #expect(logs.status == 200 && logs.body.contains(#""total":0"#), "\(logs.body.prefix(300))")
        let answered = try await server.request(
            "POST", "/v2/models/sums/infer", token: token, body: #"{"inputs":[\#(tensor)],"outputs":[{"name":"predict"}]}"#)
        #expect(answered.status == 200 && answered.body.contains(#""data":[6,15]"#), "\(answered.body)")
    }
}
