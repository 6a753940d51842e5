#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import XalorraML

/// Reads the JSON model files of XGBoost 1.6 and later (`Booster.save_model("m.json")`) into a ``TreeEnsemble`` that
/// predicts what XGBoost's own `predict` does.
///
/// Supported: `gbtree` and `dart` boosters with one output and numerical splits, with the objectives
/// `reg:squarederror`, `reg:logistic` and `binary:logistic` (probabilities), and `binary:logitraw` (margins), and
/// multi-class `multi:softprob` / `multi:softmax` (`num_class` K, trees grouped by `tree_info`, classes labelled
/// 0…K−1). Anything else (multi-target models, `gblinear`, categorical splits, other objectives) is refused
/// with a ``ModelFormatError`` that says why. The file is not trusted: array lengths and feature and child indices
/// are checked, and no node may be reached twice, so a damaged or hostile file is refused rather than crashing the
/// loader or looping a prediction.
public enum XGBoostModel {
    /// Reads a model from the UTF-8 bytes of its JSON file, stopping at the first tree past `limits`.
    ///
    /// - Returns: the ensemble, and the learner's `feature_names` when the model has them (`nil` when it was trained
    ///   without names; XGBoost then calls the features `f0`, `f1`, …).
    public static func load(
        _ bytes: [UInt8], limits: ModelLimits = .defaults
    ) throws(ModelFormatError) -> (ensemble: TreeEnsemble, featureNames: [String]?) {
        let learner = try JSONReader.readModel(
            bytes, invalidJSON: "not an XGBoost JSON model: the file is not valid JSON"
        ) { reader in
            guard try reader.peek() == .object else { throw Learner.missing }
            try reader.enterObject()
            var learner: Learner?
            while let key = try reader.nextKey() {
                if key == "learner", learner == nil {
                    learner = try Learner.read(&reader, limits: limits)
                } else {
                    try reader.skip()
                }
            }
            guard let learner else { throw Learner.missing }
            return learner
        }
        return try model(learner)
    }

    /// The ensemble a learner read by ``Learner/read(_:limits:)`` describes, with every check that needs the whole
    /// learner (the feature count comes after the trees in XGBoost's files).
    static func model(_ learner: Learner) throws(ModelFormatError) -> (ensemble: TreeEnsemble, featureNames: [String]?) {
        guard let parameters = learner.parameters else {
            throw ModelFormatError("not an XGBoost JSON model: learner has no \"learner_model_param\"")
        }
        let classes = try parameters["num_class"].map { value throws(ModelFormatError) in
            try integer(value, "learner_model_param.num_class")
        } ?? 0
        guard (0...TreeEnsemble.maxClasses).contains(classes) else {
            throw ModelFormatError(
                "num_class \(classes) is not a number of classes xalorra supports (0 to \(TreeEnsemble.maxClasses))")
        }
        let targets = try parameters["num_target"].map { value throws(ModelFormatError) in
            try integer(value, "learner_model_param.num_target")
        } ?? 1
        guard targets >= 1 else { throw ModelFormatError("num_target \(targets) is not a number of targets") }
        guard targets <= 1 else {
            throw ModelFormatError("multi-target models are not supported (num_target \(targets))")
        }
        let featureCount = try integer(try member(parameters, "num_feature", in: "learner_model_param"), "num_feature")
        // The bound stored models have (ModelDocument), so an imported model can always be stored and read back.
        guard (1...ModelLimits.maxFeatures).contains(featureCount) else {
            throw ModelFormatError(
                "num_feature is \(featureCount); xalorra supports 1 to \(ModelLimits.maxFeatures) features")
        }
        guard let booster = learner.booster else {
            throw ModelFormatError("not an XGBoost JSON model: learner has no \"gradient_booster\"")
        }
        let (model, weights) = try booster.treeModel()
        guard let objectiveName = learner.objective?["name"]?.stringValue else {
            throw ModelFormatError("not an XGBoost JSON model: learner.objective has no \"name\"")
        }
        let scores = try baseScore(try member(parameters, "base_score", in: "learner_model_param"))
        if classes > 1 {
            guard ["multi:softprob", "multi:softmax"].contains(objectiveName) else {
                throw ModelFormatError(
                    "num_class \(classes) with objective \"\(objectiveName)\" is not supported; multi-class models "
                        + "need multi:softprob or multi:softmax")
            }
            // base_score is the starting margin of every class (XGBoost before 3.1), or one per class since.
            guard scores.count == 1 || scores.count == classes else {
                throw ModelFormatError("base_score has \(scores.count) values, but num_class is \(classes)")
            }
            let trees = try model.checkedTrees(weights: weights, featureCount: featureCount, classes: classes)
            let labels = (0..<classes).map(Double.init)
            let ensemble = TreeEnsemble(
                objective: .softmax, baseMargin: 0, featureCount: featureCount, float32: true, trees: trees,
                classLabels: labels, classMargins: scores.count == 1 ? labels.map { _ in scores[0] } : scores)
            if let problem = ensemble.classProblem { throw ModelFormatError(problem) }
            return (ensemble, try featureNames(learner.featureNames, count: featureCount))
        }
        if objectiveName.hasPrefix("multi:") {
            throw ModelFormatError("objective \"\(objectiveName)\" needs num_class 2 or more, not \(classes)")
        }
        guard scores.count == 1 else {
            throw ModelFormatError("multi-target models are not supported (base_score has \(scores.count) values)")
        }
        let (objective, baseMargin) = try transformation(objectiveName, baseScore: scores[0])
        let trees = try model.checkedTrees(weights: weights, featureCount: featureCount)
        let ensemble = TreeEnsemble(
            objective: objective, baseMargin: baseMargin, featureCount: featureCount, float32: true, trees: trees
        )
        return (ensemble, try featureNames(learner.featureNames, count: featureCount))
    }
}

extension XGBoostModel {
    /// How the objective turns a margin into the prediction, and the base margin from `base_score`, which XGBoost
    /// stores in the prediction's space: a probability for the logistic objectives, the margin itself for logitraw
    /// (whose predictions are margins; checked against XGBoost 1.7 and 3.2).
    private static func transformation(
        _ name: String, baseScore: Double
    ) throws(ModelFormatError) -> (TreeEnsemble.Objective, Double) {
        switch name {
        case "reg:squarederror", "binary:logitraw":
            return (.regression, baseScore)
        case "reg:logistic", "binary:logistic":
            // XGBoost's ProbToMargin, in its float arithmetic (where 1e-50 is 0 and 0.999999999 is 1).
            let probability = Float(baseScore)
            guard probability > 0, probability < 1 else {
                throw ModelFormatError("base_score \(baseScore) is not a probability, as \(name) requires")
            }
            return (.logistic, Double(-log(1 / probability - 1)))
        default:
            throw ModelFormatError(
                "objective \"\(name)\" is not supported; supported: reg:squarederror, reg:logistic, binary:logistic, "
                    + "binary:logitraw"
            )
        }
    }

    /// `base_score` as XGBoost writes it: `"5E-1"` before 3.0, a vector `"[5E-1]"` since (one value per class for
    /// multi-class models since 3.1).
    private static func baseScore(_ value: JSONValue) throws(ModelFormatError) -> [Double] {
        let text: String
        switch value {
        case .number(let number): return [number.doubleValue]
        case .string(let string): text = string
        default: throw ModelFormatError("base_score is a \(value.typeName), not a number")
        }
        var inner = text[...]
        if inner.first == "[", inner.last == "]" { inner = inner.dropFirst().dropLast() }
        let parts = inner.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= TreeEnsemble.maxClasses else {
            throw ModelFormatError("base_score has \(parts.count) values; xalorra supports at most \(TreeEnsemble.maxClasses)")
        }
        var scores: [Double] = []
        for part in parts {
            guard let number = Number(text: part.filter { $0 != " " }), number.doubleValue.isFinite else {
                throw ModelFormatError("base_score \"\(LightGBMModel.shown(text))\" is not a number")
            }
            scores.append(number.doubleValue)
        }
        return scores
    }

    /// The learner's feature names, `nil` when it has none.
    private static func featureNames(_ value: JSONValue?, count: Int) throws(ModelFormatError) -> [String]? {
        guard let value, case .array(let items) = value, !items.isEmpty else { return nil }
        guard items.count == count else {
            throw ModelFormatError("feature_names has \(items.count) names, but num_feature is \(count)")
        }
        var names: [String] = []
        names.reserveCapacity(count)
        for (index, item) in items.enumerated() {
            guard let name = item.stringValue else { throw ModelFormatError("feature_names holds a \(item.typeName)") }
            if let problem = NameRule.problem(name) { throw ModelFormatError("feature_names[\(index)] \(problem)") }
            names.append(name)
        }
        return names
    }
}

extension XGBoostModel {
    /// `value[key]`, or an error naming what is missing where.
    static func member(
        _ value: JSONValue, _ key: String, in context: String
    ) throws(ModelFormatError) -> JSONValue {
        guard let member = value[key] else {
            throw ModelFormatError("not an XGBoost JSON model: \(context) has no \"\(key)\"")
        }
        return member
    }

    /// An integer written as a JSON number or, as XGBoost writes its parameters, as a string (`"3"`).
    static func integer(_ value: JSONValue, _ name: String) throws(ModelFormatError) -> Int {
        switch value {
        case .number(.int(let number)): return Int(number)
        case .string(let text): if let number = Int(text) { return number }
        default: break
        }
        throw ModelFormatError("\(name) is not an integer")
    }
}
