import XalorraML

/// The protocol's `infer` answer.
public enum InferenceMetadata {
    /// The `infer` response: `{"model_name","model_version","id"?,"outputs":[{"name":"predict","shape":[N],
    /// "datatype","data"}]}`; `INT64` when every prediction is a whole number from the baseline.
    public static func response(_ answer: BatchPrediction, id: String?) -> JSONValue {
        var output = outputHeader(answer, datatype: integral(answer) ? .int64 : .fp64)
        output.append(("data", .array(answer.predictions.map { .number($0) })))
        return envelope(answer, id: id, output: output)
    }

    /// The `infer` response with the output as binary data: the JSON header (the output with
    /// `"parameters":{"binary_data_size":B}` instead of `data`), its length (the answer's
    /// `Inference-Header-Content-Length`), then the B bytes. `INT64` as in ``response(_:id:)``, otherwise `FP32` when
    /// every input was `FP32` (`fp32`) and `FP64` when not.
    public static func binaryResponse(
        _ answer: BatchPrediction, id: String?, fp32: Bool
    ) -> (body: [UInt8], headerLength: Int) {
        // FP32 in, FP32 out, unless a prediction has no finite FP32 form (past 3.4e38 it would become infinity).
        let fits = fp32 && answer.predictions.allSatisfy { Float($0.doubleValue).isFinite }
        let datatype: InferenceDatatype = integral(answer) ? .int64 : fits ? .fp32 : .fp64
        let size = answer.predictions.count * InferenceBinary.elementSize(datatype)
        var output = outputHeader(answer, datatype: datatype)
        output.append(("parameters", .object([("binary_data_size", .int(size))])))
        var body: [UInt8] = []
        body.reserveCapacity(256 + size)
        JSONWriter.write(envelope(answer, id: id, output: output), into: &body)
        let headerLength = body.count
        InferenceBinary.encode(answer.predictions, as: datatype, into: &body)
        return (body, headerLength)
    }

    /// Whether the answer is the baseline's whole numbers.
    private static func integral(_ answer: BatchPrediction) -> Bool {
        !answer.predictions.isEmpty && answer.predictions.allSatisfy { if case .int = $0 { true } else { false } }
    }

    private static func outputHeader(_ answer: BatchPrediction, datatype: InferenceDatatype) -> [(String, JSONValue)] {
        [
            ("name", .string(InferenceRequest.outputName)), ("shape", .array([.int(answer.predictions.count)])),
            ("datatype", .string(datatype.rawValue)),
        ]
    }

    private static func envelope(_ answer: BatchPrediction, id: String?, output: [(String, JSONValue)]) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("model_name", .string(answer.model)), ("model_version", .string(answer.version)),
        ]
        if let id { members.append(("id", .string(id))) }
        members.append(("outputs", .array([.object(output)])))
        return .object(members)
    }
}
