/// What the Open Inference Protocol says about a model (`GET /v2/models/{name}[/versions/{version}]`): its versions
/// and the inputs of the version that answers. Both directions of its wire form are here: the server writes it,
/// ``RemoteAPI`` reads it back.
public struct InferenceModelMetadata: Sendable, Equatable {
    /// The model's name.
    public let name: String
    /// Its versions, newest first (`["baseline"]` when the baseline answers for it).
    public let versions: [String]
    /// How many features the answering version takes; nil for the baseline, which takes any number.
    public let features: Int?

    public init(name: String, versions: [String], features: Int?) {
        self.name = name
        self.versions = versions
        self.features = features
    }
}

extension InferenceModelMetadata: JSONRepresentable, JSONDecodable {
    /// `{"name","versions","platform","inputs":[{"name","datatype","shape":[-1, F]}],"outputs":[…]}`; `F` is -1
    /// for the baseline (any width).
    public var json: JSONValue {
        .object([
            ("name", .string(name)), ("versions", .array(versions.map { .string($0) })), ("platform", "xalorra"),
            ("inputs", .array([.object([
                ("name", "features"), ("datatype", "FP64"), ("shape", .array([.int(-1), .int(Int64(features ?? -1))])),
            ])])),
            ("outputs", .array([.object([("name", "predict"), ("datatype", "FP64"), ("shape", .array([.int(-1)]))])])),
        ])
    }

    public init(json: JSONValue) throws(XalorraError) {
        let inputs = try json.list("inputs")
        guard let first = inputs.first, case .array(let shape)? = first["shape"], shape.count == 2,
            case .number(.int(let width)) = shape[1]
        else { throw JSONValue.unexpectedResponse("inputs[0].shape is not [-1, F]") }
        self.init(
            name: try json.text("name"),
            versions: try json.list("versions").map { item throws(XalorraError) in
                guard case .string(let version) = item else { throw JSONValue.unexpectedResponse("a version is not text") }
                return version
            },
            features: width < 0 ? nil : Int(width))
    }
}
