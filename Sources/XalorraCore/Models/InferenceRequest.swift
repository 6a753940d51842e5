public import XalorraML

/// An Open Inference Protocol (KServe v2) `infer` body read into rows: `{"id"?, "inputs": [{"name", "shape",
/// "datatype", "data"}]}`.
///
/// One input of shape `[N, F]` (or `[F]` for one row) holds the rows; several inputs of shape `[N]` or `[N, 1]` are
/// one column each. `data` is row-major, flat or nested. Numeric datatypes are accepted (`FP32` values are rounded
/// to 32 bits, as the client meant them); `BOOL` and `BYTES` are refused.
public struct InferenceRequest: Sendable {
    /// The client's request id, echoed in the response.
    public let id: String?
    /// The rows, with the inputs' names as columns when there is one input per feature.
    public let rows: FeatureMatrix

    /// The most values a request may carry.
    public static let maxValues = 10_000_000

    /// Reads a request body; every problem is a 422 naming the input.
    public init(json: JSONValue) throws(XalorraError) {
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
            var rows = FeatureMatrix()
            rows.reserve(rows: count, width: width)
            for row in 0..<count { rows.append(row: tensor.values[row * width..<(row + 1) * width].lazy.map { Optional($0) }) }
            self.rows = rows
        } else {
            let count = tensors[0].shape[0]
            for (index, tensor) in tensors.enumerated() where tensor.shape[0] != count || tensor.values.count != count {
                throw XalorraError.invalid(
                    "inputs[\(index)]", "with several inputs, each is one column of shape [\(count)] or [\(count), 1]")
            }
            var rows = FeatureMatrix(columns: tensors.map(\.name))
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
            var total = 1
            for dimension in dimensions {
                guard case .number(.int(let size)) = dimension, size >= 0, size <= Int64(InferenceRequest.maxValues) else {
                    throw XalorraError.invalid("\(field).shape", "sizes must be whole numbers from 0 to \(InferenceRequest.maxValues)")
                }
                shape.append(Int(size))
                total = total.multipliedReportingOverflow(by: Int(size)).overflow ? Int.max : total * Int(size)
            }
            guard total <= InferenceRequest.maxValues else {
                throw XalorraError.invalid("\(field).shape", "more than \(InferenceRequest.maxValues) values")
            }
            self.shape = shape
            let datatype = json["datatype"]?.stringValue ?? ""
            let single: Bool
            switch datatype {
            case "FP32", "FP16": single = true
            case "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64": single = false
            default:
                throw XalorraError.invalid(
                    "\(field).datatype", "'\(datatype)' is not supported; use FP32, FP64 or an INT/UINT type")
            }
            var values: [Number] = []
            values.reserveCapacity(total)
            var problem: String?
            func flatten(_ value: JSONValue, depth: Int) {
                guard problem == nil else { return }
                switch value {
                case .number(let number):
                    if single, case .double(let double) = number {
                        values.append(.double(Double(Float(double))))
                    } else {
                        values.append(number)
                    }
                case .array(let items) where depth < 2:
                    for item in items { flatten(item, depth: depth + 1) }
                default:
                    problem = "holds \(value.typeName); expected numbers"
                }
            }
            guard let data = json["data"] else { throw XalorraError.invalid("\(field).data", "is required") }
            flatten(data, depth: 0)
            if let problem { throw XalorraError.invalid("\(field).data", problem) }
            guard values.count == total else {
                throw XalorraError.invalid(
                    "\(field).data", "has \(values.count) values, but shape \(shape) needs \(total)")
            }
            guard values.allSatisfy(\.isFinite) else {
                throw XalorraError.invalid("\(field).data", "values must be finite numbers")
            }
            self.values = values
        }
    }
}

/// What the protocol says about a model (`GET /v2/models/{name}`).
public enum InferenceMetadata {
    /// `{"name","versions","platform","inputs":[…],"outputs":[…]}` for a stored model, or the baseline when `detail`
    /// is nil (any width).
    public static func json(name: String, versions: [String], features: Int?) -> JSONValue {
        .object([
            ("name", .string(name)), ("versions", .array(versions.map { .string($0) })), ("platform", "xalorra"),
            ("inputs", .array([.object([
                ("name", "features"), ("datatype", "FP64"), ("shape", .array([.int(-1), .int(features ?? -1)])),
            ])])),
            ("outputs", .array([.object([("name", "predict"), ("datatype", "FP64"), ("shape", .array([.int(-1)]))])])),
        ])
    }

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
