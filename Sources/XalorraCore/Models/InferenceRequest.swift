public import XalorraML

/// An Open Inference Protocol (KServe v2) `infer` body read into rows: `{"id"?, "inputs": [{"name", "shape",
/// "datatype", "data"}]}`.
///
/// One input of shape `[N, F]` (or `[F]` for one row) holds the rows; several inputs of shape `[N]` or `[N, 1]` are
/// one column each. `data` is row-major, flat or nested. Every value must fit its datatype: `FP32` and `FP16` values
/// are rounded to their precision (as the client meant them) and must be within its range, the `INT*`/`UINT*`
/// types take whole numbers within theirs, `BOOL` takes `true`/`false` (or 0/1) as 1/0; `BYTES` is refused. A row
/// needs at least one feature, and a request at most `maxRows` rows (``BatchLimit``).
public struct InferenceRequest: Sendable {
    /// The client's request id, echoed in the response.
    public let id: String?
    /// The rows, with the inputs' names as columns when there is one input per feature.
    public let rows: FeatureMatrix

    /// The most values a request may carry.
    public static let maxValues = 10_000_000

    /// Reads a request body; a batch over `maxRows` rows is a 413, every other problem a 422 naming the input.
    public init(json: JSONValue, maxRows: Int) throws(XalorraError) {
        guard case .object = json else { throw XalorraError.invalid("body", "expected a JSON object") }
        if let id = json["id"], id != .null {
            guard let text = id.stringValue else { throw XalorraError.invalid("id", "must be a string") }
            self.id = text
        } else {
            self.id = nil
        }
        guard case .array(let inputs)? = json["inputs"], !inputs.isEmpty else {
            throw XalorraError.invalid("inputs", "expected a non-empty array of tensors")
        }
        let tensors = try inputs.enumerated().map { index, input throws(XalorraError) in
            try Tensor(input, field: "inputs[\(index)]")
        }
        if tensors.count == 1 {
            let tensor = tensors[0]
            let (count, width) = tensor.shape.count == 1 ? (1, tensor.shape[0]) : (tensor.shape[0], tensor.shape[1])
            guard width > 0 else { throw XalorraError.invalid("inputs[0].shape", BatchLimit.emptyRow) }
            try BatchLimit.check(rows: count, limit: maxRows)
            var rows = FeatureMatrix()
            rows.reserve(rows: count, width: width)
            for row in 0..<count { rows.append(row: tensor.values[row * width..<(row + 1) * width].lazy.map { Optional($0) }) }
            self.rows = rows
        } else {
            let count = tensors[0].shape[0]
            try BatchLimit.check(rows: count, limit: maxRows)
            for (index, tensor) in tensors.enumerated() where tensor.shape[0] != count || tensor.values.count != count {
                throw XalorraError.invalid(
                    "inputs[\(index)]", "with several inputs, each is one column of shape [\(count)] or [\(count), 1]")
            }
            var rows = FeatureMatrix(columns: tensors.map(\.name))
            rows.reserve(rows: count, width: tensors.count)
            for row in 0..<count { rows.append(row: tensors.lazy.map { Optional($0.values[row]) }) }
            self.rows = rows
        }
    }

    /// One input tensor.
    struct Tensor {
        let name: String
        let shape: [Int]
        let values: [Number]

        init(_ json: JSONValue, field: String) throws(XalorraError) {
            guard case .object = json else { throw XalorraError.invalid(field, "expected a tensor object") }
            guard let name = json["name"]?.stringValue else { throw XalorraError.invalid("\(field).name", "is required") }
            self.name = name
            guard case .array(let dimensions)? = json["shape"], (1...2).contains(dimensions.count) else {
                throw XalorraError.invalid("\(field).shape", "expected [rows, features], [features] or [rows]")
            }
            var shape: [Int] = []
            for dimension in dimensions {
                guard case .number(.int(let size)) = dimension, size >= 0, size <= Int64(InferenceRequest.maxValues) else {
                    throw XalorraError.invalid(
                        "\(field).shape", "sizes must be whole numbers from 0 to \(InferenceRequest.maxValues)")
                }
                shape.append(Int(size))
            }
            // Both sizes are at most 10^7, so the product cannot overflow.
            let total = shape.reduce(1, *)
            guard total <= InferenceRequest.maxValues else {
                throw XalorraError.invalid("\(field).shape", "more than \(InferenceRequest.maxValues) values")
            }
            self.shape = shape
            let datatype = json["datatype"]?.stringValue ?? ""
            guard let type = InferenceDatatype(rawValue: datatype) else {
                throw XalorraError.invalid(
                    "\(field).datatype", "'\(datatype)' is not supported; use FP32, FP64, an INT/UINT type or BOOL")
            }
            guard let data = json["data"] else { throw XalorraError.invalid("\(field).data", "is required") }
            var values: [Number] = []
            values.reserveCapacity(total)
            var seen = 0
            var problem: (index: Int, reason: String)?
            func flatten(_ value: JSONValue, depth: Int) {
                guard problem == nil else { return }
                if case .array(let items) = value, depth < 2 {
                    for item in items { flatten(item, depth: depth + 1) }
                    return
                }
                seen += 1
                // More values than the shape holds are refused below; no need to convert them first.
                guard seen <= total else { return }
                switch type.convert(value) {
                case .success(let number): values.append(number)
                case .failure(let refusal): problem = (seen - 1, refusal.reason)
                }
            }
            flatten(data, depth: 0)
            if let problem { throw XalorraError.invalid("\(field).data[\(problem.index)]", problem.reason) }
            guard seen == total else {
                throw XalorraError.invalid("\(field).data", "has \(seen) values, but shape \(shape) needs \(total)")
            }
            self.values = values
        }
    }
}

/// The protocol's `infer` answer.
public enum InferenceMetadata {
    /// The `infer` response: `{"model_name","model_version","id"?,"outputs":[{"name":"predict","shape":[N],
    /// "datatype","data"}]}`; `INT64` when every prediction is a whole number from the baseline.
    public static func response(_ answer: BatchPrediction, id: String?) -> JSONValue {
        let integral = answer.predictions.allSatisfy { if case .int = $0 { true } else { false } }
        var members: [(String, JSONValue)] = [
            ("model_name", .string(answer.model)), ("model_version", .string(answer.version)),
        ]
        if let id { members.append(("id", .string(id))) }
        members.append(("outputs", .array([.object([
            ("name", "predict"), ("shape", .array([.int(answer.predictions.count)])),
            ("datatype", .string(integral && !answer.predictions.isEmpty ? "INT64" : "FP64")),
            ("data", .array(answer.predictions.map { .number($0) })),
        ])])))
        return .object(members)
    }
}
