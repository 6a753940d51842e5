public import XalorraML

/// Reads LightGBM's text model files (`Booster.save_model("m.txt")`, LightGBM 2 to 4) into a ``TreeEnsemble`` that
/// predicts what LightGBM's own `predict` does.
///
/// Supported: gbdt, dart, goss and random-forest (`average_output`) models with one output and numerical splits,
/// with the objectives `regression`, `regression_l1`, `huber`, `fair`, `quantile`, `mape` (the score), `binary`,
/// `cross_entropy` (probabilities; `binary`'s `sigmoid:` scale included) and `multiclass` (softmax, tree `i` adding to
/// class `i mod num_class`, classes labelled 0…K−1). Refused with a ``ModelFormatError`` that says why:
/// `multiclassova`, categorical splits (naming the feature), linear trees, and
/// objectives whose predictions are not the score or its sigmoid (`poisson`, `gamma`, `tweedie`, ranking, …).
///
/// LightGBM sends `x <= threshold` left; a ``DecisionTree`` sends `x < threshold` left, so each threshold becomes the
/// next double up, which is exact: no double lies between the two. LightGBM also reads a value within 1e-35 of 0 as
/// 0 and, by each node's missing type, sends NaN where 0 goes (`None`), by the node's default (`NaN`), or sends 0 and
/// NaN by the default (`Zero`, `zero_as_missing`); ``LightGBMModel/Splits`` turns each rule into `x < threshold`
/// splits. The file is not trusted: counts, indices and numbers are checked, no node may be reached twice, and the
/// trees are counted against the ``ModelLimits`` as they are read.
public enum LightGBMModel {
    /// Whether `bytes` look like a LightGBM text model: the first line is `tree`.
    public static func isTextModel(_ bytes: [UInt8]) -> Bool {
        var start = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }  // a UTF-8 byte order mark
        let word = Array("tree".utf8)
        guard bytes.count >= start + word.count, Array(bytes[start..<(start + word.count)]) == word else {
            return false
        }
        let rest = bytes[(start + word.count)...].prefix { $0 != UInt8(ascii: "\n") }
        return rest.allSatisfy { $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: " ") }
    }

    /// Reads a model from the bytes of its text file, stopping at the first tree past `limits`.
    ///
    /// - Returns: the ensemble, and the model's `feature_names` (`nil` when the file has none).
    public static func load(
        _ bytes: [UInt8], limits: ModelLimits = .defaults
    ) throws(ModelFormatError) -> (ensemble: TreeEnsemble, featureNames: [String]?) {
        var lines = Lines(bytes)
        let header = try Header.read(&lines)
        let featureCount = header.featureCount
        let output = try header.output()
        var budget = ModelBudget(limits)
        if let declared = header.declaredTrees { try budget.check(declaredTrees: declared) }
        var trees: [DecisionTree] = []
        var ended = false
        while let block = try TreeBlock.read(&lines, index: trees.count, ended: &ended) {
            guard budget.trees < limits.trees else { throw limits.tooManyTrees }
            let tree = try block.tree(
                featureCount: featureCount, names: header.featureNames, nodesLeft: budget.nodesLeft, limits: limits)
            try budget.add(treeOf: tree.nodeCount)
            trees.append(tree)
        }
        guard ended else {
            throw ModelFormatError(
                "the file ends before \"end of trees\" (is it cut short?) after \(trees.count) trees")
        }
        guard !trees.isEmpty else { throw ModelFormatError("the model has no trees") }
        if let declared = header.declaredTrees, declared != trees.count {
            throw ModelFormatError("tree_sizes lists \(declared) trees, but the file has \(trees.count)")
        }
        let classes = output.objective == .softmax ? header.classes : 1
        guard trees.count % classes == 0 else {
            throw ModelFormatError(
                "the model has \(trees.count) trees, not a whole number of iterations of \(classes) (one tree per class)")
        }
        // Random forests average their trees (one per class and iteration), and `binary`'s sigmoid scales the score:
        // both are a factor on every leaf, so the margin stays the sum of the leaves.
        let scale = output.sigmoid / (header.averageOutput ? Double(trees.count / classes) : 1)
        if scale != 1 {
            for index in trees.indices {
                for node in trees[index].value.indices where trees[index].feature[node] < 0 {
                    trees[index].value[node] *= scale
                    guard trees[index].value[node].isFinite else {
                        throw ModelFormatError(
                            "tree \(index): a leaf value times sigmoid \(output.sigmoid) is too large")
                    }
                }
            }
        }
        // A multi-class model's tree i adds to class i mod K, as in LightGBM; its classes are labelled 0..<K.
        let labels = classes > 1 ? (0..<classes).map(Double.init) : []
        let ensemble = TreeEnsemble(
            objective: output.objective, baseMargin: 0, featureCount: featureCount, float32: false, trees: trees,
            classLabels: labels, classMargins: labels.map { _ in 0 })
        if let problem = ensemble.classProblem { throw ModelFormatError(problem) }
        if let problem = trees.lazy.compactMap({ $0.problem(featureCount: featureCount) }).first {
            throw ModelFormatError("a tree is unusable: \(problem)")  // the checks above should make this unreachable
        }
        return (ensemble, header.featureNames)
    }
}

extension LightGBMModel {
    /// How the model turns the sum of its trees into the prediction.
    struct Output {
        var objective: TreeEnsemble.Objective
        /// `binary`'s `sigmoid:` parameter: the probability is `1 / (1 + e^(-sigmoid × score))`.
        var sigmoid: Double
    }

    /// The objectives whose prediction is the score itself.
    static let scoreObjectives: Set<String> = ["regression", "regression_l1", "huber", "fair", "quantile", "mape"]

    /// The refusal that lists what is supported.
    static func unsupported(_ objective: String) -> ModelFormatError {
        ModelFormatError(
            "objective \"\(objective)\" is not supported; supported: regression, regression_l1, huber, fair, "
                + "quantile, mape, binary, cross_entropy, multiclass")
    }
}
