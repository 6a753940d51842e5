/// What the Open Inference Protocol says about a model (`GET /v2/models/{name}[/versions/{version}]`): its versions
/// and the inputs and outputs of the version that answers. Both directions of its wire form are here: the server
/// writes it, ``RemoteAPI`` reads it back.
public struct InferenceModelMetadata: Sendable, Equatable {
    /// The model's name.
    public let name: String
    /// Its versions, newest first (`["baseline"]` when the baseline answers for it).
    public let versions: [String]
    /// How many features the answering version takes; nil for the baseline, which takes any number.
    public let features: Int?
    /// How many classes the answering version tells apart when it is multi-class (its second output,
    /// `probabilities`, is `[N, classes]`); nil for every other model.
    public let classes: Int?

    public init(name: String, versions: [String], features: Int?, classes: Int? = nil) {
        self.name = name
        self.versions = versions
        self.features = features
        self.classes = classes
    }
}

extension InferenceModelMetadata: JSONRepresentable, JSONDecodable {
    /// `{"name","versions","platform","inputs":[{"name","datatype","shape":[-1, F]}],"outputs":[…]}`; `F` is -1
    /// for the baseline (any width). The outputs are `predict` (`[-1]`) and, for a multi-class model,
    /// `probabilities` (`[-1, K]` `FP64`, in class order), the two an `infer` answer can carry.
    public var json: JSONValue {
        var outputs: [JSONValue] = [
            .object([("name", .string(InferenceRequest.outputName)), ("datatype", "FP64"), ("shape", .array([.int(-1)]))]),
        ]
        if let classes {
            outputs.append(.object([
                ("name", .string(InferenceMetadata.probabilitiesOutput)), ("datatype", "FP64"),
                ("shape", .array([.int(-1), .int(classes)])),
            ]))
        }
        return .object([
            ("name", .string(name)), ("versions", .array(versions.map { .string($0) })), ("platform", "xalorra"),
            ("inputs", .array([.object([
                ("name", "features"), ("datatype", "FP64"), ("shape", .array([.int(-1), .int(Int64(features ?? -1))])),
            ])])),
            ("outputs", .array(outputs)),
        ])
    }

    public init(json: JSONValue) throws(XalorraError) {
        let inputs = try json.list("inputs")
        guard let first = inputs.first, case .array(let shape)? = first["shape"], shape.count == 2,
            case .number(.int(let width)) = shape[1]
        else { throw JSONValue.unexpectedResponse("inputs[0].shape is not [-1, F]") }
        var classes: Int?
        if case .array(let outputs)? = json["outputs"],
            let output = outputs.first(where: { $0["name"]?.stringValue == InferenceMetadata.probabilitiesOutput })
        {
            guard case .array(let shape)? = output["shape"], shape.count == 2, case .number(.int(let count)) = shape[1],
                count > 0, count <= Int64(Int32.max)
            else { throw JSONValue.unexpectedResponse("the probabilities output's shape is not [-1, K]") }
            classes = Int(count)
        }
        self.init(
            name: try json.text("name"),
            versions: try json.list("versions").map { item throws(XalorraError) in
                guard case .string(let version) = item else { throw JSONValue.unexpectedResponse("a version is not text") }
                return version
            },
            features: width < 0 ? nil : Int(width), classes: classes)
    }
}
