import XalorraML

/// The protocol's `infer` answer.
public enum InferenceMetadata {
    /// The `infer` response: `{"model_name","model_version","id"?,"outputs":[{"name":"predict","shape":[N],
    /// "datatype","data"}]}`; `INT64` when every prediction is a whole number (the baseline's, a class label). A
    /// multi-class model adds the output `probabilities`, `[N, K]` `FP64` in class order.
    public static func response(_ answer: BatchPrediction, id: String?) -> JSONValue {
        var output = outputHeader(answer, datatype: integral(answer) ? .int64 : .fp64)
        output.append(("data", .array(answer.predictions.map { .number($0) })))
        var outputs = [output]
        if let probabilities = answer.probabilities {
            var classes = probabilitiesHeader(probabilities, datatype: .fp64)
            classes.append(("data", .array(probabilities.flatMap { $0.values.map { .number(.double($0)) } })))
            outputs.append(classes)
        }
        return envelope(answer, id: id, outputs: outputs)
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
        var outputs = [output]
        // A multi-class model's probabilities follow the labels' bytes, in the outputs' order, as FP32 or FP64 by
        // the same rule.
        let probabilities = answer.probabilities?.flatMap { $0.values.map(Number.double) } ?? []
        let classType: InferenceDatatype = fp32 ? .fp32 : .fp64
        if let rows = answer.probabilities {
            var classes = probabilitiesHeader(rows, datatype: classType)
            let bytes = probabilities.count * InferenceBinary.elementSize(classType)
            classes.append(("parameters", .object([("binary_data_size", .int(bytes))])))
            outputs.append(classes)
        }
        var body: [UInt8] = []
        body.reserveCapacity(256 + size + probabilities.count * 8)
        JSONWriter.write(envelope(answer, id: id, outputs: outputs), into: &body)
        let headerLength = body.count
        InferenceBinary.encode(answer.predictions, as: datatype, into: &body)
        if answer.probabilities != nil { InferenceBinary.encode(probabilities, as: classType, into: &body) }
        return (body, headerLength)
    }

    /// The name of a multi-class model's second output.
    public static let probabilitiesOutput = "probabilities"

    private static func probabilitiesHeader(
        _ rows: [ClassProbabilities], datatype: InferenceDatatype
    ) -> [(String, JSONValue)] {
        [
            ("name", .string(probabilitiesOutput)),
            ("shape", .array([.int(rows.count), .int(rows.first?.values.count ?? 0)])),
            ("datatype", .string(datatype.rawValue)),
        ]
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

    private static func envelope(
        _ answer: BatchPrediction, id: String?, outputs: [[(String, JSONValue)]]
    ) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("model_name", .string(answer.model)), ("model_version", .string(answer.version)),
        ]
        if let id { members.append(("id", .string(id))) }
        members.append(("outputs", .array(outputs.map { .object($0) })))
        return .object(members)
    }
}
