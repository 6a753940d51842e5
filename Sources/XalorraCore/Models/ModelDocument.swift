public import XalorraML

/// The JSON form of a model: what the store keeps for each version, and the `model` member of an exported file.
///
/// Trees: `{"type":"trees","objective","base_margin","feature_count","float32","trees":[{"feature":[…],
/// "threshold":[…],"left":[…],"right":[…],"default_left":[…],"value":[…]}]}`; linear kinds:
/// `{"type":"linear","link","intercept","weights":[…]}`. Doubles are written in their shortest round-trip form,
/// so a model read back predicts exactly as the one written.
public enum ModelDocument {
    /// The JSON of `model`.
    public static func json(_ model: TrainedModel) -> JSONValue {
        switch model {
        case .linear(let linear):
            return .object([
                ("type", "linear"), ("link", .string(linear.link.rawValue)),
                ("intercept", .number(.double(linear.intercept))),
                ("weights", .array(linear.weights.map { .number(.double($0)) })),
            ])
        case .trees(let ensemble):
            return .object([
                ("type", "trees"), ("objective", .string(ensemble.objective.rawValue)),
                ("base_margin", .number(.double(ensemble.baseMargin))), ("feature_count", .int(ensemble.featureCount)),
                ("float32", .bool(ensemble.float32)),
                ("trees", .array(ensemble.trees.map { tree in
                    .object([
                        ("feature", .array(tree.feature.map { .int($0) })),
                        ("threshold", .array(tree.threshold.map { .number(.double($0)) })),
                        ("left", .array(tree.left.map { .int($0) })), ("right", .array(tree.right.map { .int($0) })),
                        ("default_left", .array(tree.defaultLeft.map { .int($0 ? 1 : 0) })),
                        ("value", .array(tree.value.map { .number(.double($0)) })),
                    ])
                })),
            ])
        }
    }

    /// The bytes the store keeps.
    public static func encode(_ model: TrainedModel) -> [UInt8] {
        var bytes: [UInt8] = []
        JSONWriter.write(json(model), into: &bytes)
        return bytes
    }

    /// Reads a stored model.
    public static func decode(_ bytes: [UInt8]) throws(ModelFormatError) -> TrainedModel {
        do {
            return try model(JSONParser.parse(bytes))
        } catch let error as ModelFormatError {
            throw error
        } catch {
            throw ModelFormatError("the model is not valid JSON: \(error)")
        }
    }

    /// Reads ``json(_:)``'s output, checking every shape, so a hand-edited or hostile file cannot crash or loop.
    public static func model(_ json: JSONValue) throws(ModelFormatError) -> TrainedModel {
        switch json["type"]?.stringValue {
        case "linear":
            guard let link = json["link"]?.stringValue.flatMap(LinearModel.Link.init(rawValue:)) else {
                throw ModelFormatError("a linear model needs link 'identity' or 'logistic'")
            }
            let weights = try doubles(json["weights"], "weights")
            guard !weights.isEmpty else { throw ModelFormatError("a linear model needs at least one weight") }
            return .linear(LinearModel(
                weights: weights, intercept: try double(json["intercept"], "intercept"), link: link))
        case "trees":
            guard let objective = json["objective"]?.stringValue.flatMap(TreeEnsemble.Objective.init(rawValue:))
            else { throw ModelFormatError("a tree model needs objective 'regression' or 'logistic'") }
            let featureCount = Int(try double(json["feature_count"], "feature_count"))
            guard (1...1_000_000).contains(featureCount) else {
                throw ModelFormatError("feature_count must be between 1 and 1000000")
            }
            guard case .bool(let float32)? = json["float32"] else { throw ModelFormatError("float32 must be a boolean") }
            guard case .array(let items)? = json["trees"] else { throw ModelFormatError("trees must be an array") }
            var trees: [DecisionTree] = []
            trees.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                let tree = DecisionTree(
                    feature: try doubles(item["feature"], "feature").map { Int32(clamping: Int64($0)) },
                    threshold: try doubles(item["threshold"], "threshold"),
                    left: try doubles(item["left"], "left").map { Int32(clamping: Int64($0)) },
                    right: try doubles(item["right"], "right").map { Int32(clamping: Int64($0)) },
                    defaultLeft: try doubles(item["default_left"], "default_left").map { $0 != 0 },
                    value: try doubles(item["value"], "value"))
                if let problem = tree.problem(featureCount: featureCount) {
                    throw ModelFormatError("tree \(index): \(problem)")
                }
                trees.append(tree)
            }
            return .trees(TreeEnsemble(
                objective: objective, baseMargin: try double(json["base_margin"], "base_margin"),
                featureCount: featureCount, float32: float32, trees: trees))
        default:
            throw ModelFormatError("unknown model type; expected 'trees' or 'linear'")
        }
    }

    private static func double(_ value: JSONValue?, _ name: String) throws(ModelFormatError) -> Double {
        guard case .number(let number)? = value else { throw ModelFormatError("\(name) must be a number") }
        return number.doubleValue
    }

    private static func doubles(_ value: JSONValue?, _ name: String) throws(ModelFormatError) -> [Double] {
        guard let numbers = value?.doubles else { throw ModelFormatError("\(name) must be an array of numbers") }
        return numbers
    }
}
