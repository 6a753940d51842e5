import XalorraML

/// The protocol's `infer` answer.
public enum InferenceMetadata {
    /// The `infer` response: `{"model_name","model_version","id"?,"outputs":[{"name":"predict","shape":[N],
    /// "datatype","data"}]}`; `INT64` when every prediction is a whole number (the baseline's, a class label). A
    /// multi-class model adds the output `probabilities`, `[N, K]` `FP64` in class order. With `outputs` (the names
    /// a request's `outputs` gave), only those are answered, in that same order (`predict` first).
    public static func response(_ answer: BatchPrediction, id: String?, outputs: Set<String>? = nil) -> JSONValue {
        var members: [[(String, JSONValue)]] = []
        if outputs?.contains(InferenceRequest.outputName) ?? true {
            var output = outputHeader(answer, datatype: integral(answer) ? .int64 : .fp64)
            output.append(("data", .array(answer.predictions.map { .number($0) })))
            members.append(output)
        }
        if let probabilities = answer.probabilities, outputs?.contains(probabilitiesOutput) ?? true {
            var classes = probabilitiesHeader(probabilities, datatype: .fp64)
            classes.append(("data", .array(probabilities.flatMap { $0.values.map { .number(.double($0)) } })))
            members.append(classes)
        }
        return envelope(answer, id: id, outputs: members)
    }

    /// The `infer` response with the outputs as binary data: the JSON header (each output with
    /// `"parameters":{"binary_data_size":B}` instead of `data`), its length (the answer's
    /// `Inference-Header-Content-Length`), then each output's B bytes in the header's order. `INT64` as in
    /// ``response(_:id:outputs:)``, otherwise `FP32` when every input was `FP32` (`fp32`) and `FP64` when not;
    /// `outputs` as there.
    public static func binaryResponse(
        _ answer: BatchPrediction, id: String?, fp32: Bool, outputs: Set<String>? = nil
    ) -> (body: [UInt8], headerLength: Int) {
        let labels = outputs?.contains(InferenceRequest.outputName) ?? true
        // FP32 in, FP32 out, unless a prediction has no finite FP32 form (past 3.4e38 it would become infinity).
        let fits = fp32 && answer.predictions.allSatisfy { Float($0.doubleValue).isFinite }
        let datatype: InferenceDatatype = integral(answer) ? .int64 : fits ? .fp32 : .fp64
        let size = labels ? answer.predictions.count * InferenceBinary.elementSize(datatype) : 0
        var members: [[(String, JSONValue)]] = []
        if labels {
            var output = outputHeader(answer, datatype: datatype)
            output.append(("parameters", .object([("binary_data_size", .int(size))])))
            members.append(output)
        }
        // A multi-class model's probabilities follow the labels' bytes, in the outputs' order, as FP32 or FP64 by
        // the same rule.
        let rows = outputs?.contains(probabilitiesOutput) ?? true ? answer.probabilities : nil
        let probabilities = rows?.flatMap { $0.values.map(Number.double) } ?? []
        let classType: InferenceDatatype = fp32 ? .fp32 : .fp64
        if let rows {
            var classes = probabilitiesHeader(rows, datatype: classType)
            let bytes = probabilities.count * InferenceBinary.elementSize(classType)
            classes.append(("parameters", .object([("binary_data_size", .int(bytes))])))
            members.append(classes)
        }
        var body: [UInt8] = []
        body.reserveCapacity(256 + size + probabilities.count * 8)
        JSONWriter.write(envelope(answer, id: id, outputs: members), into: &body)
        let headerLength = body.count
        if labels { InferenceBinary.encode(answer.predictions, as: datatype, into: &body) }
        if rows != nil { InferenceBinary.encode(probabilities, as: classType, into: &body) }
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
