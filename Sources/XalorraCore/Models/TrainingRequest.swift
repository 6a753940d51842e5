public import XalorraML

/// What to train: a model name, the kind, the data with its target column, and the knobs.
public struct TrainingRequest: Sendable {
    /// The model to add a version to (a name, no `@version`).
    public var model: String
    /// `gbdt`, `linear` or `logistic`.
    public var kind: ModelKind
    /// The column to predict.
    public var target: String
    /// The rows, with the CSV header's column names.
    public var data: FeatureMatrix
    /// The training settings.
    public var parameters: Hyperparameters

    /// Creates a request.
    public init(model: String, kind: ModelKind, target: String, data: FeatureMatrix, parameters: Hyperparameters) {
        self.model = model
        self.kind = kind
        self.target = target
        self.data = data
        self.parameters = parameters
    }
}

extension TrainingRequest {
    /// `kind`: one of the kinds training makes.
    public static let kindRule = FieldRule.choice(ModelKind.trainable.map(\.rawValue))
    /// `target`: a column's name, which is never empty and follows ``NameRule``.
    public static let targetRule = TextRule(minLength: 1, characters: NameRule.rule.characters)

    /// A request from API fields: `kind` (default `gbdt`), `target` (required) and the hyperparameters by their API
    /// names (numbers or numeric text). Every problem is reported in one 422.
    public init(model: String, fields: [(String, JSONValue)], data: FeatureMatrix) throws(XalorraError) {
        var kind = ModelKind.gbdt
        var target: String?
        var rest: [(String, JSONValue)] = []
        var problems: [(field: String, message: String?)] = []
        for (name, value) in fields {
            switch name {
            case "kind":
                if let problem = Self.kindRule.problem(value) {
                    problems.append(("kind", problem))
                } else if let chosen = value.stringValue.flatMap(ModelKind.init(rawValue:)) {
                    kind = chosen
                }
            case "target":
                if case .string(let text) = value, Self.targetRule.problem(text) == nil { target = text } else {
                    problems.append(("target", "must be a column name"))
                }
            default: rest.append((name, value))
            }
        }
        if target == nil, !problems.contains(where: { $0.field == "target" }) {
            problems.append(("target", "is required: the column to predict"))
        }
        var parameters = Hyperparameters()
        do {
            parameters = try Hyperparameters(fields: rest)
        } catch {
            problems += error.details.map { ($0.field, $0.message) }
        }
        try XalorraError.check(problems)
        self.init(model: model, kind: kind, target: target ?? "", data: data, parameters: parameters)
    }

    /// The request's settings as query parameters (`kind`, `target`, then the changed hyperparameters).
    public var fields: [(String, String)] {
        [("kind", kind.rawValue), ("target", target)] + parameters.changedFields
    }
}

extension TrainingRequest {
    /// The CSV form of `POST /train/{model}`: the file as the body, `kind`, `target` and hyperparameters in the query.
    public init(model: String, query: [String: String], csv: [UInt8]) throws(XalorraError) {
        let data: FeatureMatrix
        do {
            data = try CSVReader.read(csv)
        } catch {
            throw XalorraError.invalid("data", error.description)
        }
        let fields = query.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }
        try self.init(model: model, fields: fields, data: data)
    }
}
