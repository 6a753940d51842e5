import XalorraML

/// Reading an XGBoost file's learner as it streams past: the trees go straight into ``DecisionTree``s, one at a time,
/// counted against the ``ModelLimits``; the small members (parameters, objective, names) are kept as ``JSONValue``
/// for ``XGBoostModel/model(_:)``, which checks what needs them all (the feature count follows the trees).
extension XGBoostModel {
    /// The parts of `learner` that a model is made of; a member the file lacks stays `nil`.
    struct Learner {
        var featureNames: JSONValue?
        var parameters: JSONValue?
        var objective: JSONValue?
        var booster: Booster?

        static let missing = ModelFormatError("not an XGBoost JSON model: there is no \"learner\" object")

        /// Reads the `learner` object the reader is at.
        static func read(_ reader: inout JSONReader, limits: ModelLimits) throws -> Learner {
            guard try reader.peek() == .object else { throw missing }
            var learner = Learner()
            var budget = ModelBudget(limits)
            try reader.enterObject()
            while let key = try reader.nextKey() {
                switch key {
                case "feature_names":
                    learner.featureNames = try reader.small("feature_names", limit: ModelLimits.maxFeatures + 1)
                case "learner_model_param": learner.parameters = try reader.small("learner_model_param")
                case "objective": learner.objective = try reader.small("objective")
                case "gradient_booster": learner.booster = try Booster.read(&reader, budget: &budget)
                default: try reader.skip()
                }
            }
            return learner
        }
    }

    /// `gradient_booster`: gbtree keeps its trees in `model`, dart in `gbtree.model` with a weight per tree.
    struct Booster {
        var name: String?
        var model: TreeModel?
        var gbtree: TreeModel?
        var weights: [Double]?

        static func read(_ reader: inout JSONReader, budget: inout ModelBudget) throws -> Booster {
            guard try reader.peek() == .object else {
                throw ModelFormatError("not an XGBoost JSON model: learner.gradient_booster is not an object")
            }
            var booster = Booster()
            try reader.enterObject()
            while let key = try reader.nextKey() {
                switch key {
                case "name": booster.name = try reader.small("gradient_booster.name", limit: 1).stringValue
                case "model": booster.model = try TreeModel.read(&reader, budget: &budget)
                case "gbtree":
                    guard try reader.peek() == .object else {
                        try reader.skip()
                        continue
                    }
                    try reader.enterObject()
                    while let inner = try reader.nextKey() {
                        if inner == "model" {
                            booster.gbtree = try TreeModel.read(&reader, budget: &budget)
                        } else {
                            try reader.skip()
                        }
                    }
                case "weight_drop":
                    booster.weights = try reader.doubles(
                        "weight_drop", limit: budget.limits.trees, overLimit: budget.limits.tooManyTrees)
                default: try reader.skip()
                }
            }
            return booster
        }

        /// The tree model the booster's kind uses and, for dart, the weight XGBoost gives each tree.
        func treeModel() throws(ModelFormatError) -> (TreeModel, [Double]?) {
            let name = self.name ?? "?"
            switch name {
            case "gbtree":
                guard let model else {
                    throw ModelFormatError("not an XGBoost JSON model: gradient_booster has no \"model\"")
                }
                return (model, nil)
            case "dart":
                guard let gbtree else {
                    throw ModelFormatError("not an XGBoost JSON model: gradient_booster.gbtree has no \"model\"")
                }
                guard let weights else {
                    throw ModelFormatError("not an XGBoost JSON model: gradient_booster has no \"weight_drop\"")
                }
                return (gbtree, weights)
            case "gblinear":
                throw ModelFormatError(
                    "gblinear (linear booster) models are not supported; only tree boosters (gbtree, dart)")
            default:
                throw ModelFormatError("booster \"\(name)\" is not supported; only tree boosters (gbtree, dart)")
            }
        }
    }

    /// A gbtree model: its trees, and what it declares about them.
    struct TreeModel {
        var declaredTrees: JSONValue?
        var treeInfo: [Int]?
        var trees: [ReadTree]?

        static func read(_ reader: inout JSONReader, budget: inout ModelBudget) throws -> TreeModel {
            var model = TreeModel()
            // Not an object: a gblinear model, or garbage; `treeModel()` and `checkedTrees` say which.
            guard try reader.peek() == .object else {
                try reader.skip()
                return model
            }
            try reader.enterObject()
            while let key = try reader.nextKey() {
                switch key {
                case "gbtree_model_param":
                    model.declaredTrees = try reader.small("gbtree_model_param")["num_trees"]
                    if let declared = model.declaredTrees {
                        // Refused before the first tree is read.
                        try budget.check(declaredTrees: try XGBoostModel.integer(declared, "gbtree_model_param.num_trees"))
                    }
                case "tree_info":
                    model.treeInfo = try reader.integers(
                        "tree_info", in: Int64.min...Int64.max, limit: budget.limits.trees,
                        overLimit: budget.limits.tooManyTrees)
                case "trees":
                    guard try reader.peek() == .array else { throw noTrees }
                    try reader.enterArray()
                    var trees: [ReadTree] = []
                    while try reader.nextElement() {
                        trees.append(try ReadTree.read(&reader, index: trees.count, budget: &budget))
                    }
                    model.trees = trees
                default: try reader.skip()
                }
            }
            return model
        }

        static let noTrees = ModelFormatError("not an XGBoost JSON model: the booster has no \"trees\" array")

        /// Every tree, checked against the model's feature count, each leaf scaled by its dart weight when there are
        /// weights.
        /// A multi-class model's (`classes` > 1) trees come back in class order within each round (tree `i` for class
        /// `i mod classes`), grouped by `tree_info`.
        func checkedTrees(
            weights: [Double]?, featureCount: Int, classes: Int = 1
        ) throws(ModelFormatError) -> [DecisionTree] {
            guard let trees else { throw Self.noTrees }
            if let declaredTrees {
                let count = try XGBoostModel.integer(declaredTrees, "gbtree_model_param.num_trees")
                guard count == trees.count else {
                    throw ModelFormatError("num_trees is \(count), but the model has \(trees.count) trees")
                }
            }
            if let treeInfo {
                guard treeInfo.count == trees.count else {
                    throw ModelFormatError(
                        "tree_info has \(treeInfo.count) entries, but the model has \(trees.count) trees")
                }
                if classes <= 1, let group = treeInfo.first(where: { $0 != 0 }) {
                    throw ModelFormatError(
                        "multi-class models are not supported without num_class (tree_info names output group \(group))")
                }
                if let group = treeInfo.first(where: { !(0..<classes).contains($0) }) {
                    throw ModelFormatError("tree_info names output group \(group), but num_class is \(classes)")
                }
            }
            if let weights, weights.count != trees.count {
                throw ModelFormatError("weight_drop has \(weights.count) entries, but the model has \(trees.count) trees")
            }
            var result: [DecisionTree] = []
            result.reserveCapacity(trees.count)
            for (index, read) in trees.enumerated() {
                if let widest = read.widestSplit, widest.feature >= featureCount {
                    throw ModelFormatError(
                        "tree \(index): node \(widest.node) splits on feature \(widest.feature), but the model has "
                            + "\(featureCount)")
                }
                var tree = read.tree
                if let weights {
                    let scale = Double(Float(weights[index]))
                    guard scale.isFinite else { throw ModelFormatError("tree \(index): weight_drop is out of range") }
                    for node in tree.value.indices { tree.value[node] *= scale }
                }
                if let problem = tree.problem(featureCount: featureCount) {
                    throw ModelFormatError("tree \(index): \(problem)")
                }
                result.append(tree)
            }
            guard classes > 1 else { return result }
            let groups = treeInfo ?? result.indices.map { $0 % classes }
            var byClass = [[DecisionTree]](repeating: [], count: classes)
            for (tree, group) in zip(result, groups) { byClass[group].append(tree) }
            let rounds = byClass[0].count
            guard byClass.allSatisfy({ $0.count == rounds }) else {
                throw ModelFormatError(
                    "the classes have different numbers of trees (\(byClass.map { String($0.count) }.joined(separator: ", "))); "
                        + "xalorra needs one tree per class in every round")
            }
            return (0..<(rounds * classes)).map { byClass[$0 % classes][$0 / classes] }
        }
    }

    /// One tree as read, before the model's feature count is known.
    struct ReadTree {
        var tree: DecisionTree
        /// The split on the highest feature index, as (feature, node number in the file), to check once the feature
        /// count is known; `nil` for a single leaf.
        var widestSplit: (feature: Int, node: Int)?
    }
}

extension XGBoostModel.ReadTree {
    /// Reads one tree's node arrays and checks them: a node is a leaf when `left_children` is -1 (its
    /// `split_conditions` entry is then the leaf value); every node reachable from the root is reached once, by an
    /// in-range child index. No array may be longer than the nodes the budget has left.
    ///
    /// The nodes are renumbered breadth-first, so children come after their parent as ``DecisionTree`` wants and the
    /// nodes XGBoost keeps after pruning (unreachable) are left out.
    static func read(_ reader: inout JSONReader, index: Int, budget: inout ModelBudget) throws -> Self {
        let context = "tree \(index)"
        guard budget.trees < budget.limits.trees else { throw budget.limits.tooManyTrees }
        guard try reader.peek() == .object else { throw ModelFormatError("\(context) is not an object") }
        let limit = budget.nodesLeft
        let over = budget.limits.tooManyNodes
        let anyInteger = Int64.min...Int64.max
        var left: [Int]?, right: [Int]?, features: [Int]?, splitTypes: [Int]?
        var conditions: [Double]?, defaults: [Bool]?, parameters: JSONValue?, hessians: [Double]?, gains: [Double]?
        try reader.enterObject()
        while let key = try reader.nextKey() {
            let name = "\(context): \(key)"
            switch key {
            case "left_children": left = try reader.integers(name, in: anyInteger, limit: limit, overLimit: over)
            case "right_children": right = try reader.integers(name, in: anyInteger, limit: limit, overLimit: over)
            case "split_indices": features = try reader.integers(name, in: anyInteger, limit: limit, overLimit: over)
            case "split_type": splitTypes = try reader.integers(name, in: anyInteger, limit: limit, overLimit: over)
            case "split_conditions": conditions = try reader.doubles(name, limit: limit, overLimit: over)
            case "default_left": defaults = try reader.flags(name, limit: limit, overLimit: over)
            case "sum_hessian": hessians = try reader.doubles(name, limit: limit, overLimit: over)
            case "loss_changes": gains = try reader.doubles(name, limit: limit, overLimit: over)
            case "tree_param": parameters = try reader.small("\(context): tree_param")
            case "categories_nodes":
                let count = try reader.countElements(name)
                guard count == 0 else {
                    throw ModelFormatError("categorical splits are not supported (\(context) has \(count))")
                }
            default: try reader.skip()
            }
        }
        func required<T>(_ value: T?, _ key: String) throws(ModelFormatError) -> T {
            guard let value else { throw ModelFormatError("not an XGBoost JSON model: \(context) has no \"\(key)\"") }
            return value
        }
        if let size = parameters?["size_leaf_vector"] {
            let width = try XGBoostModel.integer(size, "\(context): size_leaf_vector")
            guard width >= 0 else { throw ModelFormatError("\(context): size_leaf_vector \(width) is not a size") }
            guard width <= 1 else {
                throw ModelFormatError("multi-target trees are not supported (\(context): size_leaf_vector \(width))")
            }
        }
        let read = try Self.checked(
            left: required(left, "left_children"), right: required(right, "right_children"),
            features: required(features, "split_indices"), conditions: required(conditions, "split_conditions"),
            defaults: required(defaults, "default_left"), splitTypes: splitTypes, hessians: hessians, gains: gains,
            parameters: parameters, context: context)
        try budget.add(treeOf: read.count)
        return read.tree
    }

    /// The tree the arrays describe, renumbered breadth-first, and how many nodes the file gave it.
    private static func checked(
        left: [Int], right: [Int], features: [Int], conditions: [Double], defaults: [Bool], splitTypes: [Int]?,
        hessians: [Double]?, gains: [Double]?, parameters: JSONValue?, context: String
    ) throws(ModelFormatError) -> (tree: Self, count: Int) {
        let count = left.count
        let lengths = [
            ("right_children", right.count), ("split_indices", features.count),
            ("split_conditions", conditions.count), ("default_left", defaults.count),
            ("split_type", splitTypes?.count ?? count), ("sum_hessian", hessians?.count ?? count),
            ("loss_changes", gains?.count ?? count),
        ]
        for (name, length) in lengths where length != count {
            throw ModelFormatError("\(context): left_children has \(count) entries, \(name) \(length)")
        }
        guard count > 0 else { throw ModelFormatError("\(context) has no nodes") }
        if let declared = parameters?["num_nodes"] {
            let nodes = try XGBoostModel.integer(declared, "\(context): num_nodes")
            guard nodes == count else {
                throw ModelFormatError("\(context): num_nodes is \(nodes), but left_children has \(count) entries")
            }
        }

        // Breadth-first from the root: `order` lists the reachable nodes, `position` is each one's new index.
        var order = [0]
        var position = Array(repeating: -1, count: count)
        position[0] = 0
        var next = 0
        var widest: (feature: Int, node: Int)?
        while next < order.count {
            let node = order[next]
            next += 1
            guard left[node] != -1 else {
                guard Float(conditions[node]).isFinite else {
                    throw ModelFormatError("\(context): node \(node)'s leaf value is out of range")
                }
                continue
            }
            // A threshold past Float's range would be stored as infinity, which JSON cannot write.
            guard Float(conditions[node]).isFinite else {
                throw ModelFormatError("\(context): node \(node)'s split condition is out of range")
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
            let feature = features[node]
            guard (0..<ModelLimits.maxFeatures).contains(feature) else {
                throw ModelFormatError(
                    "\(context): node \(node) splits on feature \(feature), but a model has 0 to "
                        + "\(ModelLimits.maxFeatures - 1)")
            }
            if feature > widest?.feature ?? -1 { widest = (feature, node) }
        }

        var tree = DecisionTree(feature: [], threshold: [], left: [], right: [], defaultLeft: [], value: [])
        tree.feature.reserveCapacity(order.count)
        tree.threshold.reserveCapacity(order.count)
        tree.left.reserveCapacity(order.count)
        tree.right.reserveCapacity(order.count)
        tree.defaultLeft.reserveCapacity(order.count)
        tree.value.reserveCapacity(order.count)
        // The covers (TreeSHAP's weights) and gains (the importances), in XGBoost's float; a file without them
        // (hand-made) gives a model that predicts but cannot be explained.
        let covers = hessians.map { hessians in order.map { Double(Float(hessians[$0])) } }
        if let covers, let bad = covers.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
            throw ModelFormatError("\(context): node \(order[bad])'s sum_hessian is not a cover (negative or out of range)")
        }
        let splitGains = gains.map { gains in order.map { left[$0] == -1 ? 0 : Double(Float(gains[$0])) } }
        if let splitGains, let bad = splitGains.firstIndex(where: { !$0.isFinite }) {
            throw ModelFormatError("\(context): node \(order[bad])'s loss_changes is out of range")
        }
        tree.cover = covers ?? []
        tree.gain = splitGains ?? []
        // Every index below is under `count`, which the node budget keeps far below Int32.max.
        for node in order {
            let leaf = left[node] == -1
            tree.feature.append(leaf ? -1 : Int32(features[node]))
            tree.threshold.append(leaf ? 0 : Double(Float(conditions[node])))
            tree.left.append(leaf ? -1 : Int32(position[left[node]]))
            tree.right.append(leaf ? -1 : Int32(position[right[node]]))
            tree.defaultLeft.append(leaf ? false : defaults[node])
            tree.value.append(leaf ? Double(Float(conditions[node])) : 0)
        }
        return (Self(tree: tree, widestSplit: widest), count)
    }
}
