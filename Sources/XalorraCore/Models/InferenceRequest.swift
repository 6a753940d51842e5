public import XalorraML

/// An Open Inference Protocol (KServe v2) `infer` body read into rows: `{"id"?, "inputs": [{"name", "shape",
/// "datatype", "data" | "parameters": {"binary_data_size"}}], "outputs"?, "parameters"?}`.
///
/// One input of shape `[N, F]` (or `[F]` for one row) holds the rows; several inputs of shape `[N]` or `[N, 1]` are
/// one column each. `data` is row-major, flat or nested. Every value must fit its datatype: `FP32` and `FP16` values
/// are rounded to their precision (as the client meant them) and must be within its range, the `INT*`/`UINT*`
/// types take whole numbers within theirs, `BOOL` takes `true`/`false` (or 0/1) as 1/0; `BYTES` is refused. A row
/// needs at least one feature, and a request at most `maxRows` rows (``BatchLimit``).
///
/// With the binary tensor data extension (``InferenceBinary``), an input with `parameters.binary_data_size` has no
/// `data`: its values are that many raw bytes after the JSON header, a NaN among them being a missing value.
public struct InferenceRequest: Sendable {
    /// The client's request id, echoed in the response.
    public let id: String?
    /// The rows, with the inputs' names as columns when there is one input per feature.
    public let rows: FeatureMatrix
    /// Whether the client asked for the `predict` output as binary data (`parameters.binary_data_output`, or the
    /// output's own `parameters.binary_data`).
    public let binaryOutput: Bool
    /// Whether every input was `FP32`: a binary answer is then `FP32` too (FP32 in, FP32 out), as Triton's and
    /// MLServer's clients expect of a float32 model; JSON answers keep their `FP64` (a JSON number loses nothing).
    public let allFP32: Bool
    /// The outputs the client named in `outputs`, which are then the only ones answered; `nil` (no `outputs`) for
    /// every output the model has.
    public let outputs: Set<String>?

    /// The most values a request may carry.
    public static let maxValues = 10_000_000

    /// The field that carries the JSON header's length, in requests and in binary answers.
    public static let headerLengthField = "Inference-Header-Content-Length"

    /// The only output a model has.
    public static let outputName = "predict"

    /// Reads a request body sent as `body`, whose first `headerLength` bytes (the `Inference-Header-Content-Length`
    /// field, as sent; `nil` when absent) are JSON and the rest the inputs' binary data. A framing problem is a 400,
    /// a batch over `maxRows` rows a 413, every other problem a 422 naming the input.
    public init(body: [UInt8], headerLength: String?, maxRows: Int) throws(XalorraError) {
        let length = try headerLength.map { text throws(XalorraError) in
            try InferenceBinary.headerLength(text, bodyCount: body.count)
        } ?? body.count
        var parsed: (json: JSONValue, data: [Int: NumberArray])
        do {
            parsed = try Self.parse(body, length: length)
        } catch {
            throw error.badRequest(bodyIsEmpty: length == 0)
        }
        try self.init(
            json: parsed.json, data: &parsed.data, binary: body[length...], framed: headerLength != nil, maxRows: maxRows)
    }

    /// Reads a request body already parsed, without binary data; a batch over `maxRows` rows is a 413, every other
    /// problem a 422 naming the input.
    public init(json: JSONValue, maxRows: Int) throws(XalorraError) {
        var none: [Int: NumberArray] = [:]
        try self.init(json: json, data: &none, binary: [], framed: false, maxRows: maxRows)
    }

    /// - Parameters:
    ///   - data: the `data` of the inputs (by index) that the parser read straight into cells, and left out of `json`;
    ///     each is taken out as its input is read (and converted where it lies: a 10,000-row body is not copied).
    ///   - framed: whether the body said where its JSON ends (without it, binary data cannot be sent).
    private init(
        json: JSONValue, data: inout [Int: NumberArray], binary: ArraySlice<UInt8>, framed: Bool, maxRows: Int
    ) throws(XalorraError) {
        guard case .object = json else { throw XalorraError.invalid("body", "expected a JSON object") }
        if let id = json["id"], id != .null {
            guard let text = id.stringValue else { throw XalorraError.invalid("id", "must be a string") }
            self.id = text
        } else {
            self.id = nil
        }
        (binaryOutput, outputs) = try Self.requestedOutputs(json)
        guard case .array(let inputs)? = json["inputs"], !inputs.isEmpty else {
            throw XalorraError.invalid("inputs", "expected a non-empty array of tensors")
        }
        var cursor = binary.startIndex
        let tensors = try inputs.enumerated().map { index, input throws(XalorraError) in
            try Tensor(
                input, field: "inputs[\(index)]", numbers: data.removeValue(forKey: index), binary: binary,
                cursor: &cursor, framed: framed)
        }
        if cursor < binary.endIndex {
            let sizes = tensors.compactMap(\.binarySize)
            throw XalorraError(
                .badRequest,
                "the body has \(binary.endIndex - cursor) bytes after the inputs' binary data "
                    + (sizes.isEmpty ? "(no input has parameters.binary_data_size)"
                        : "(binary_data_size \(sizes.map(String.init).joined(separator: " + ")))"))
        }
        allFP32 = tensors.allSatisfy { $0.datatype == .fp32 }
        if tensors.count == 1 {
            let tensor = tensors[0]
            let (count, width) = tensor.shape.count == 1 ? (1, tensor.shape[0]) : (tensor.shape[0], tensor.shape[1])
            guard width > 0 else { throw XalorraError.invalid("inputs[0].shape", BatchLimit.emptyRow) }
            try BatchLimit.check(rows: count, limit: maxRows)
            var rows = FeatureMatrix()
            rows.reserve(rows: count, width: width)
            for row in 0..<count { rows.append(row: tensor.values[row * width..<(row + 1) * width]) }
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
            for row in 0..<count { rows.append(row: tensors.lazy.map { $0.values[row] }) }
            self.rows = rows
        }
    }

    /// Whether the request names the `probabilities` output, which only a multi-class model has (see
    /// ``check(against:)``).
    public var namesProbabilities: Bool { outputs?.contains(InferenceMetadata.probabilitiesOutput) ?? false }

    /// A 422 when the request names the `probabilities` output and the model that answers it (`metadata`) has none:
    /// checked before predicting, so that a refused request logs nothing.
    public func check(against metadata: InferenceModelMetadata) throws(XalorraError) {
        guard metadata.classes == nil, namesProbabilities else { return }
        throw XalorraError.invalid(
            "outputs", "model \(metadata.name) is not multi-class: its only output is '\(Self.outputName)'")
    }

    /// Whether `json` asks for the outputs as binary data, and the outputs it names (`nil` when it has no
    /// `outputs`); an output other than `predict` and `probabilities` is a 422 naming it.
    private static func requestedOutputs(_ json: JSONValue) throws(XalorraError) -> (binary: Bool, names: Set<String>?) {
        var binary = false
        if let parameters = json["parameters"], parameters != .null {
            guard case .object = parameters else { throw XalorraError.invalid("parameters", "expected an object") }
            binary = try flag(parameters["binary_data_output"], field: "parameters.binary_data_output") ?? false
        }
        guard let outputs = json["outputs"], outputs != .null else { return (binary, nil) }
        guard case .array(let requested) = outputs else {
            throw XalorraError.invalid("outputs", "expected an array of {\"name\": \"\(outputName)\"}")
        }
        // An empty list names nothing in particular: every output, as Triton reads it.
        guard !requested.isEmpty else { return (binary, nil) }
        var names: Set<String> = []
        for (index, output) in requested.enumerated() {
            let field = "outputs[\(index)]"
            guard case .object = output, let name = output["name"]?.stringValue else {
                throw XalorraError.invalid("\(field).name", "is required")
            }
            // `probabilities` is a multi-class model's second output (``check(against:)`` refuses it for others).
            guard name == outputName || name == InferenceMetadata.probabilitiesOutput else {
                throw XalorraError.invalid(
                    "\(field).name",
                    "'\(name.prefix(100))' is no output of this model; its outputs are '\(outputName)' and, for a "
                        + "multi-class model, '\(InferenceMetadata.probabilitiesOutput)'")
            }
            names.insert(name)
            guard let parameters = output["parameters"], parameters != .null else { continue }
            guard case .object = parameters else {
                throw XalorraError.invalid("\(field).parameters", "expected an object")
            }
            if let classification = parameters["classification"], classification != .null {
                throw XalorraError.invalid(
                    "\(field).parameters.classification", "the classification extension is not supported")
            }
            try refuseSharedMemory(parameters, field: field)
            binary = try flag(parameters["binary_data"], field: "\(field).parameters.binary_data") ?? binary
        }
        return (binary, names)
    }

    /// A 422 when `parameters` name a shared-memory region (Triton's shared-memory extension, which xalorra does not
    /// have): answering inline instead would leave the client reading a region nobody wrote.
    static func refuseSharedMemory(_ parameters: JSONValue, field: String) throws(XalorraError) {
        if let region = parameters["shared_memory_region"], region != .null {
            throw XalorraError.invalid(
                "\(field).parameters.shared_memory_region", "the shared-memory extension is not supported; send the data")
        }
    }

    /// A boolean parameter, `nil` when absent.
    private static func flag(_ value: JSONValue?, field: String) throws(XalorraError) -> Bool? {
        guard let value, value != .null else { return nil }
        guard case .bool(let flag) = value else { throw XalorraError.invalid(field, "expected true or false") }
        return flag
    }

    /// One input tensor.
    struct Tensor {
        let name: String
        let shape: [Int]
        let datatype: InferenceDatatype
        /// Row-major; `nil` for a binary NaN (a missing value).
        let values: [Number?]
        /// The bytes it took from the binary data, when it came as binary data.
        let binarySize: Int?

        /// Reads the tensor `json`, whose `data` the parser may have read already (`numbers`); one with
        /// `parameters.binary_data_size` takes its values from `binary` at `cursor`, and moves `cursor` past them.
        init(
            _ json: JSONValue, field: String, numbers: consuming NumberArray?, binary: ArraySlice<UInt8>, cursor: inout Int,
            framed: Bool
        ) throws(XalorraError) {
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
            self.datatype = type
            if let size = try Self.binarySize(json, field: field) {
                guard json["data"] == nil, numbers == nil else {
                    throw XalorraError.invalid(
                        "\(field).data", "an input with parameters.binary_data_size has its data in binary, not here")
                }
                guard framed else {
                    throw XalorraError(
                        .badRequest,
                        "\(field) has parameters.binary_data_size, but the request has no "
                            + "\(InferenceBinary.headerLengthField) field saying where the JSON ends")
                }
                let needed = total * InferenceBinary.elementSize(type)
                guard size == needed else {
                    throw XalorraError.invalid(
                        "\(field).parameters.binary_data_size",
                        "is \(size), but shape \(shape) of \(type.rawValue) takes \(needed) bytes")
                }
                let left = binary.endIndex - cursor
                guard size <= left else {
                    throw XalorraError(
                        .badRequest,
                        "\(field): parameters.binary_data_size is \(size), but only \(left) bytes of binary data are left")
                }
                let start = cursor
                let decoded = binary.withUnsafeBytes { bytes in
                    let offset = start - binary.startIndex
                    return Result { () throws(XalorraError) in
                        try InferenceBinary.decode(
                            UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size]), as: type, count: total,
                            field: field)
                    }
                }
                values = try decoded.get()
                cursor += size
                binarySize = size
                return
            }
            binarySize = nil
            if var owned = numbers.take() {
                try Self.convert(&owned.cells, as: type, total: total, shape: shape, field: field)
                values = owned.cells
                return
            }
            guard let data = json["data"] else { throw XalorraError.invalid("\(field).data", "is required") }
            var values: [Number?] = []
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

        /// Converts `cells` (numbers the parser read, flattened as ``init(_:field:numbers:binary:cursor:framed:)``
        /// flattens `data`) to `type` where they lie; they must be `total`, and are refused as that path refuses them.
        private static func convert(
            _ cells: inout [Number?], as type: InferenceDatatype, total: Int, shape: [Int], field: String
        ) throws(XalorraError) {
            for index in 0..<min(cells.count, total) {
                // The parser reads only numbers here; a `null` would be refused as the tree path refuses it.
                switch type.convert(cells[index].map(JSONValue.number) ?? .null) {
                case .success(let number): cells[index] = number
                case .failure(let refusal): throw XalorraError.invalid("\(field).data[\(index)]", refusal.reason)
                }
            }
            guard cells.count == total else {
                throw XalorraError.invalid("\(field).data", "has \(cells.count) values, but shape \(shape) needs \(total)")
            }
        }

        /// The input's `parameters.binary_data_size`, `nil` when absent.
        private static func binarySize(_ json: JSONValue, field: String) throws(XalorraError) -> Int? {
            guard let parameters = json["parameters"], parameters != .null else { return nil }
            guard case .object = parameters else { throw XalorraError.invalid("\(field).parameters", "expected an object") }
            try InferenceRequest.refuseSharedMemory(parameters, field: field)
            guard let size = parameters["binary_data_size"], size != .null else { return nil }
            guard case .number(.int(let bytes)) = size, bytes >= 0, bytes <= Int64(Int32.max) else {
                throw XalorraError.invalid("\(field).parameters.binary_data_size", "expected a whole number of bytes")
            }
            return Int(bytes)
        }
    }
}
