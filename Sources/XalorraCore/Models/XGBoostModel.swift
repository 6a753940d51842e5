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
/// `reg:squarederror`, `reg:logistic` and `binary:logistic` (probabilities), and `binary:logitraw` (margins).
/// Anything else (multi-class or multi-target models, `gblinear`, categorical splits, other objectives) is refused
/// with a ``ModelFormatError`` that says why. The file is not trusted: array lengths and feature and child indices
/// are checked, and no node may be reached twice, so a damaged or hostile file is refused rather than crashing the
/// loader or looping a prediction.
public enum XGBoostModel {
    /// Reads a model from the UTF-8 bytes of its JSON file.
    ///
    /// - Returns: the ensemble, and the learner's `feature_names` when the model has them (`nil` when it was trained
    ///   without names; XGBoost then calls the features `f0`, `f1`, …).
    public static func load(
        _ bytes: [UInt8]
    ) throws(ModelFormatError) -> (ensemble: TreeEnsemble, featureNames: [String]?) {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw ModelFormatError("not an XGBoost JSON model: the file is not valid JSON (\(error))")
        }
        guard let learner = root["learner"], case .object = learner else {
            throw ModelFormatError("not an XGBoost JSON model: there is no \"learner\" object")
        }
        let parameters = try member(learner, "learner_model_param", in: "learner")
        let classes = try parameters["num_class"].map { value throws(ModelFormatError) in
            try integer(value, "learner_model_param.num_class")
        } ?? 0
        guard classes <= 1 else {
            throw ModelFormatError("multi-class models are not supported (num_class \(classes))")
        }
        let targets = try parameters["num_target"].map { value throws(ModelFormatError) in
            try integer(value, "learner_model_param.num_target")
        } ?? 1
        guard targets <= 1 else {
            throw ModelFormatError("multi-target models are not supported (num_target \(targets))")
        }
        let featureCount = try integer(try member(parameters, "num_feature", in: "learner_model_param"), "num_feature")
        // The bound stored models have (ModelDocument), so an imported model can always be stored and read back.
        guard (1...1_000_000).contains(featureCount) else {
            throw ModelFormatError("num_feature is \(featureCount); xalorra supports 1 to 1000000 features")
        }

        let booster = try member(learner, "gradient_booster", in: "learner")
        let (model, weights) = try treeModel(booster)
        let objectiveName = try member(learner, "objective", in: "learner")["name"]?.stringValue
        guard let objectiveName else {
            throw ModelFormatError("not an XGBoost JSON model: learner.objective has no \"name\"")
        }
        let (objective, baseMargin) = try transformation(
            objectiveName, baseScore: try baseScore(try member(parameters, "base_score", in: "learner_model_param"))
        )
        let trees = try readTrees(model, weights: weights, featureCount: featureCount)
        let ensemble = TreeEnsemble(
            objective: objective, baseMargin: baseMargin, featureCount: featureCount, float32: true, trees: trees
        )
        return (ensemble, try featureNames(learner["feature_names"], count: featureCount))
    }
}

extension XGBoostModel {
    /// The booster's tree model and, for dart, the weight XGBoost gives each tree at prediction time.
    private static func treeModel(_ booster: JSONValue) throws(ModelFormatError) -> (JSONValue, [Double]?) {
        let name = booster["name"]?.stringValue ?? "?"
        switch name {
        case "gbtree":
            return (try member(booster, "model", in: "gradient_booster"), nil)
        case "dart":
            let gbtree = try member(booster, "gbtree", in: "gradient_booster")
            let weights = try numbers(try member(booster, "weight_drop", in: "gradient_booster"), "weight_drop")
            return (try member(gbtree, "model", in: "gradient_booster.gbtree"), weights)
        case "gblinear":
            throw ModelFormatError(
                "gblinear (linear booster) models are not supported; only tree boosters (gbtree, dart)"
            )
        default:
            throw ModelFormatError("booster \"\(name)\" is not supported; only tree boosters (gbtree, dart)")
        }
    }

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

    /// `base_score` as XGBoost writes it: `"5E-1"` before 3.0, a one-value vector `"[5E-1]"` since.
    private static func baseScore(_ value: JSONValue) throws(ModelFormatError) -> Double {
        let text: String
        switch value {
        case .number(let number): return number.doubleValue
        case .string(let string): text = string
        default: throw ModelFormatError("base_score is a \(value.typeName), not a number")
        }
        var inner = text[...]
        if inner.first == "[", inner.last == "]" { inner = inner.dropFirst().dropLast() }
        let parts = inner.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 1 else {
            throw ModelFormatError("multi-target models are not supported (base_score has \(parts.count) values)")
        }
        guard let number = Number(text: parts[0].filter { $0 != " " }) else {
            throw ModelFormatError("base_score \"\(text)\" is not a number")
        }
        return number.doubleValue
    }

    /// The learner's feature names, `nil` when it has none.
    private static func featureNames(_ value: JSONValue?, count: Int) throws(ModelFormatError) -> [String]? {
        guard let value, case .array(let items) = value, !items.isEmpty else { return nil }
        guard items.count == count else {
            throw ModelFormatError("feature_names has \(items.count) names, but num_feature is \(count)")
        }
        var names: [String] = []
        names.reserveCapacity(count)
        for item in items {
            guard let name = item.stringValue else { throw ModelFormatError("feature_names holds a \(item.typeName)") }
            names.append(name)
        }
        return names
    }

    /// Every tree of a gbtree model, each leaf scaled by its dart weight when there are weights.
    private static func readTrees(
        _ model: JSONValue, weights: [Double]?, featureCount: Int
    ) throws(ModelFormatError) -> [DecisionTree] {
        guard let treesValue = model["trees"], case .array(let items) = treesValue else {
            throw ModelFormatError("not an XGBoost JSON model: the booster has no \"trees\" array")
        }
        if let declared = model["gbtree_model_param"]?["num_trees"] {
            let count = try integer(declared, "gbtree_model_param.num_trees")
            guard count == items.count else {
                throw ModelFormatError("num_trees is \(count), but the model has \(items.count) trees")
            }
        }
        if let info = model["tree_info"] {
            let groups = try integers(info, "tree_info")
            guard groups.count == items.count else {
                throw ModelFormatError("tree_info has \(groups.count) entries, but the model has \(items.count) trees")
            }
            if let group = groups.first(where: { $0 != 0 }) {
                throw ModelFormatError("multi-class models are not supported (tree_info names output group \(group))")
            }
        }
        if let weights, weights.count != items.count {
            throw ModelFormatError("weight_drop has \(weights.count) entries, but the model has \(items.count) trees")
        }
        var trees: [DecisionTree] = []
        trees.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            let scale = weights.map { Double(Float($0[index])) } ?? 1
            guard scale.isFinite else { throw ModelFormatError("tree \(index): weight_drop is out of range") }
            trees.append(try readTree(item, index: index, featureCount: featureCount, scale: scale))
        }
        return trees
    }

    /// One tree's node arrays, checked: a node is a leaf when `left_children` is -1 (its `split_conditions` entry is
    /// then the leaf value); every node reachable from the root is reached once, by an in-range child index.
    ///
    /// The nodes are renumbered breadth-first, so children come after their parent as ``DecisionTree`` wants and the
    /// nodes XGBoost keeps after pruning (unreachable) are left out.
    private static func readTree(
        _ json: JSONValue, index: Int, featureCount: Int, scale: Double
    ) throws(ModelFormatError) -> DecisionTree {
        let context = "tree \(index)"
        guard case .object = json else { throw ModelFormatError("\(context) is not an object") }
        if let size = json["tree_param"]?["size_leaf_vector"] {
            let width = try integer(size, "\(context): size_leaf_vector")
            guard width <= 1 else {
                throw ModelFormatError("multi-target trees are not supported (\(context): size_leaf_vector \(width))")
            }
        }
        if let nodes = json["categories_nodes"], case .array(let items) = nodes, !items.isEmpty {
            throw ModelFormatError("categorical splits are not supported (\(context) has \(items.count))")
        }
        let left = try integers(try member(json, "left_children", in: context), "\(context): left_children")
        let right = try integers(try member(json, "right_children", in: context), "\(context): right_children")
        let features = try integers(try member(json, "split_indices", in: context), "\(context): split_indices")
        let conditions = try numbers(try member(json, "split_conditions", in: context), "\(context): split_conditions")
        let defaults = try flags(try member(json, "default_left", in: context), "\(context): default_left")
        let splitTypes = try json["split_type"].map { value throws(ModelFormatError) in
            try integers(value, "\(context): split_type")
        }
        let count = left.count
        let lengths = [
            ("right_children", right.count), ("split_indices", features.count),
            ("split_conditions", conditions.count), ("default_left", defaults.count),
            ("split_type", splitTypes?.count ?? count),
        ]
        for (name, length) in lengths where length != count {
            throw ModelFormatError("\(context): left_children has \(count) entries, \(name) \(length)")
        }
        guard count > 0 else { throw ModelFormatError("\(context) has no nodes") }
        if let declared = json["tree_param"]?["num_nodes"] {
            let nodes = try integer(declared, "\(context): num_nodes")
            guard nodes == count else {
                throw ModelFormatError("\(context): num_nodes is \(nodes), but left_children has \(count) entries")
            }
        }

        // Breadth-first from the root: `order` lists the reachable nodes, `position` is each one's new index.
        var order = [0]
        var position = Array(repeating: -1, count: count)
        position[0] = 0
        var next = 0
        while next < order.count {
            let node = order[next]
            next += 1
            guard left[node] != -1 else {
                guard Float(conditions[node]).isFinite else {
                    throw ModelFormatError("\(context): node \(node)'s leaf value is out of range")
                }
                continue
            }
            if let splitTypes, splitTypes[node] != 0 {
                throw ModelFormatError("categorical splits are not supported (\(context), node \(node))")
            }
            for child in [left[node], right[node]] {
                guard (0..<count).contains(child) else {
                    throw ModelFormatError("\(context): node \(node) has child \(child), outside 0..<\(count)")
                }
                guard position[child] < 0 else {
                    throw ModelFormatError("\(context): node \(child) is reached twice (the nodes do not form a tree)")
                }
                position[child] = order.count
                order.append(child)
            }
            guard (0..<featureCount).contains(features[node]) else {
                throw ModelFormatError(
                    "\(context): node \(node) splits on feature \(features[node]), but the model has \(featureCount)"
                )
            }
        }

        var tree = DecisionTree(feature: [], threshold: [], left: [], right: [], defaultLeft: [], value: [])
        tree.feature.reserveCapacity(order.count)
        tree.threshold.reserveCapacity(order.count)
        tree.left.reserveCapacity(order.count)
        tree.right.reserveCapacity(order.count)
        tree.defaultLeft.reserveCapacity(order.count)
        tree.value.reserveCapacity(order.count)
        for node in order {
            let leaf = left[node] == -1
            tree.feature.append(leaf ? -1 : Int32(features[node]))
            tree.threshold.append(leaf ? 0 : Double(Float(conditions[node])))
            tree.left.append(leaf ? -1 : Int32(position[left[node]]))
            tree.right.append(leaf ? -1 : Int32(position[right[node]]))
            tree.defaultLeft.append(leaf ? false : defaults[node])
            tree.value.append(leaf ? Double(Float(conditions[node])) * scale : 0)
        }
        if let problem = tree.problem(featureCount: featureCount) {
            throw ModelFormatError("\(context): \(problem)")
        }
        return tree
    }
}

extension XGBoostModel {
    /// `value[key]`, or an error naming what is missing where.
    private static func member(
        _ value: JSONValue, _ key: String, in context: String
    ) throws(ModelFormatError) -> JSONValue {
        guard let member = value[key] else {
            throw ModelFormatError("not an XGBoost JSON model: \(context) has no \"\(key)\"")
        }
        return member
    }

    /// An integer written as a JSON number or, as XGBoost writes its parameters, as a string (`"3"`).
    private static func integer(_ value: JSONValue, _ name: String) throws(ModelFormatError) -> Int {
        switch value {
        case .number(.int(let number)): return Int(number)
        case .string(let text): if let number = Int(text) { return number }
        default: break
        }
        throw ModelFormatError("\(name) is not an integer")
    }

    /// An array of JSON integers.
    private static func integers(_ value: JSONValue, _ name: String) throws(ModelFormatError) -> [Int] {
        guard case .array(let items) = value else { throw ModelFormatError("\(name) is not an array") }
        var result: [Int] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard case .number(.int(let number)) = item else { throw ModelFormatError("\(name) holds a non-integer") }
            result.append(Int(number))
        }
        return result
    }

    /// An array of JSON numbers.
    private static func numbers(_ value: JSONValue, _ name: String) throws(ModelFormatError) -> [Double] {
        guard let numbers = value.doubles else { throw ModelFormatError("\(name) is not an array of numbers") }
        return numbers
    }

    /// An array of booleans, written as `true`/`false` or, since XGBoost 1.6, as 0/1.
    private static func flags(_ value: JSONValue, _ name: String) throws(ModelFormatError) -> [Bool] {
        guard case .array(let items) = value else { throw ModelFormatError("\(name) is not an array") }
        var result: [Bool] = []
        result.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .bool(let flag): result.append(flag)
            case .number(.int(0)): result.append(false)
            case .number(.int(1)): result.append(true)
            default: throw ModelFormatError("\(name) holds a value that is not 0, 1 or a boolean")
            }
        }
        return result
    }
}
