public import XalorraML

/// The JSON form of a model: what the store keeps for each version, and the `model` member of an exported file.
///
/// Trees: `{"type":"trees","objective","base_margin","feature_count","float32","trees":[{"feature":[…],
/// "threshold":[…],"left":[…],"right":[…],"default_left":[…],"value":[…],"cover":[…],"gain":[…]}]}` (`cover` and
/// `gain` absent in models stored before they were kept; objective `softmax` adds `"class_labels":[…]` and
/// `"class_margins":[…]`, K each, tree `i` adding to class `i mod K`); linear kinds: `{"type":"linear","link","intercept",
/// "weights":[…],"means":[…]}` (`means`, the training means, likewise). Doubles are written in their shortest round-trip form,
/// so a model read back predicts exactly as the one written. Both directions work on the text directly, one tree at a
/// time: a model of millions of nodes never exists as a ``JSONValue`` tree.
public enum ModelDocument {
    /// The bytes the store keeps.
    public static func encode(_ model: TrainedModel) -> [UInt8] {
        var out: [UInt8] = []
        switch model {
        case .linear(let linear):
            out.reserveCapacity(64 + 24 * linear.weights.count)
            out += #"{"type":"linear","link":"#.utf8
            JSONWriter.write(string: linear.link.rawValue, into: &out)
            out += #","intercept":"#.utf8
            JSONWriter.write(number: .double(linear.intercept), into: &out)
            out += #","weights":"#.utf8
            doubles(linear.weights, into: &out)
            if !linear.means.isEmpty {
                out += #","means":"#.utf8
                doubles(linear.means, into: &out)
            }
            out += "}".utf8
        case .trees(let ensemble):
            out.reserveCapacity(128 + ensemble.trees.reduce(0) { $0 + 64 * $1.nodeCount })
            out += #"{"type":"trees","objective":"#.utf8
            JSONWriter.write(string: ensemble.objective.rawValue, into: &out)
            out += #","base_margin":"#.utf8
            JSONWriter.write(number: .double(ensemble.baseMargin), into: &out)
            out += #","feature_count":"#.utf8
            JSONWriter.appendInteger(Int64(ensemble.featureCount), into: &out)
            if ensemble.objective == .softmax {
                out += #","class_labels":"#.utf8
                doubles(ensemble.classLabels, into: &out)
                out += #","class_margins":"#.utf8
                doubles(ensemble.classMargins, into: &out)
            }
            out += (ensemble.float32 ? #","float32":true,"trees":["# : #","float32":false,"trees":["#).utf8
            for (index, tree) in ensemble.trees.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out += #"{"feature":"#.utf8
                integers(tree.feature, into: &out)
                out += #","threshold":"#.utf8
                doubles(tree.threshold, into: &out)
                out += #","left":"#.utf8
                integers(tree.left, into: &out)
                out += #","right":"#.utf8
                integers(tree.right, into: &out)
                out += #","default_left":"#.utf8
                integers(tree.defaultLeft.lazy.map { $0 ? 1 : 0 }, into: &out)
                out += #","value":"#.utf8
                doubles(tree.value, into: &out)
                if !tree.cover.isEmpty {
                    out += #","cover":"#.utf8
                    doubles(tree.cover, into: &out)
                }
                if !tree.gain.isEmpty {
                    out += #","gain":"#.utf8
                    doubles(tree.gain, into: &out)
                }
                out += "}".utf8
            }
            out += "]}".utf8
        }
        return out
    }

    /// What in `model` JSON cannot write (a weight, threshold or leaf value that is infinite or NaN, as training on
    /// values near the largest double can produce), or `nil` when ``encode(_:)`` writes it faithfully.
    public static func unwritable(_ model: TrainedModel) -> String? {
        switch model {
        case .linear(let linear):
            guard linear.intercept.isFinite, linear.weights.allSatisfy(\.isFinite), linear.means.allSatisfy(\.isFinite)
            else {
                return "a weight is not a finite number"
            }
        case .trees(let ensemble):
            guard ensemble.baseMargin.isFinite else { return "the base margin is not a finite number" }
            if let problem = ensemble.classProblem { return problem }
            for (index, tree) in ensemble.trees.enumerated() {
                guard tree.threshold.allSatisfy(\.isFinite), tree.value.allSatisfy(\.isFinite),
                    tree.cover.allSatisfy(\.isFinite), tree.gain.allSatisfy(\.isFinite)
                else {
                    return "tree \(index) has a threshold, leaf value, cover or gain that is not a finite number"
                }
            }
        }
        return nil
    }

    /// Reads a stored model. The store holds only what was accepted under the limits of its day, so no limit applies.
    public static func decode(_ bytes: [UInt8]) throws(ModelFormatError) -> TrainedModel {
        try JSONReader.readModel(bytes, invalidJSON: "the model is not valid JSON") { reader in
            try read(&reader, limits: .unlimited)
        }
    }

    /// Reads ``encode(_:)``'s output where `reader` is, checking every shape and stopping at the first tree past
    /// `limits`, so a hand-edited or hostile file cannot crash, loop, or take more memory than the limits allow.
    static func read(_ reader: inout JSONReader, limits: ModelLimits) throws -> TrainedModel {
        guard try reader.peek() == .object else { throw ModelFormatError("the model must be a JSON object") }
        var members: [String: JSONValue] = [:]
        var weights: [Double]?
        var means: [Double]?
        var trees: [DecisionTree]?
        var classLabels: [Double]?
        var classMargins: [Double]?
        var budget = ModelBudget(limits)
        try reader.enterObject()
        while let key = try reader.nextKey() {
            switch key {
            case "type", "objective", "link", "base_margin", "intercept", "feature_count", "float32":
                members[key] = try reader.small(key, limit: 1)
            case "weights":
                weights = try reader.doubles(
                    "weights", limit: ModelLimits.maxFeatures,
                    overLimit: ModelFormatError("a linear model has at most \(ModelLimits.maxFeatures) weights"))
            case "means":
                means = try reader.doubles(
                    "means", limit: ModelLimits.maxFeatures,
                    overLimit: ModelFormatError("a linear model has at most \(ModelLimits.maxFeatures) means"))
            case "class_labels", "class_margins":
                let values = try reader.doubles(
                    key, limit: TreeEnsemble.maxClasses,
                    overLimit: ModelFormatError("a multi-class model has at most \(TreeEnsemble.maxClasses) classes"))
                if key == "class_labels" { classLabels = values } else { classMargins = values }
            case "trees":
                guard try reader.peek() == .array else { throw ModelFormatError("trees must be an array") }
                try reader.enterArray()
                var read: [DecisionTree] = []
                while try reader.nextElement() { read.append(try tree(&reader, index: read.count, budget: &budget)) }
                trees = read
            default:
                try reader.skip()
            }
        }
        switch members["type"]?.stringValue {
        case "linear":
            guard let link = members["link"]?.stringValue.flatMap(LinearModel.Link.init(rawValue:)) else {
                throw ModelFormatError("a linear model needs link 'identity' or 'logistic'")
            }
            guard let weights else { throw ModelFormatError("weights must be an array of numbers") }
            guard !weights.isEmpty else { throw ModelFormatError("a linear model needs at least one weight") }
            let intercept = try double(members["intercept"], "intercept")
            if let means, means.count != weights.count {
                throw ModelFormatError("a linear model has \(weights.count) weights but \(means.count) means")
            }
            return .linear(LinearModel(weights: weights, intercept: intercept, link: link, means: means ?? []))
        case "trees":
            guard let objective = members["objective"]?.stringValue.flatMap(TreeEnsemble.Objective.init(rawValue:))
            else { throw ModelFormatError("a tree model needs objective 'regression', 'logistic' or 'softmax'") }
            guard case .number(.int(let count))? = members["feature_count"],
                (1...Int64(ModelLimits.maxFeatures)).contains(count)
            else { throw ModelFormatError("feature_count must be a whole number from 1 to \(ModelLimits.maxFeatures)") }
            let featureCount = Int(count)
            guard case .bool(let float32)? = members["float32"] else { throw ModelFormatError("float32 must be a boolean") }
            guard let trees else { throw ModelFormatError("trees must be an array") }
            for (index, tree) in trees.enumerated() {
                if let problem = tree.problem(featureCount: featureCount) {
                    throw ModelFormatError("tree \(index): \(problem)")
                }
            }
            let ensemble = TreeEnsemble(
                objective: objective, baseMargin: try double(members["base_margin"], "base_margin"),
                featureCount: featureCount, float32: float32, trees: trees,
                classLabels: objective == .softmax ? classLabels ?? [] : [],
                classMargins: objective == .softmax ? classMargins ?? [] : [])
            if let problem = ensemble.classProblem { throw ModelFormatError(problem) }
            return .trees(ensemble)
        default:
            throw ModelFormatError("unknown model type; expected 'trees' or 'linear'")
        }
    }

    /// One tree object; its soundness against the feature count is checked once the whole model is read.
    private static func tree(_ reader: inout JSONReader, index: Int, budget: inout ModelBudget) throws -> DecisionTree {
        guard budget.trees < budget.limits.trees else { throw budget.limits.tooManyTrees }
        guard try reader.peek() == .object else { throw ModelFormatError("tree \(index) is not an object") }
        let limit = budget.nodesLeft
        let over = budget.limits.tooManyNodes
        // -1 marks a leaf (feature) or no child; anything else must fit the Int32 the tree stores.
        let index32 = -1...Int64(Int32.max)
        var feature: [Int]?, left: [Int]?, right: [Int]?
        var threshold: [Double]?, value: [Double]?, defaultLeft: [Bool]?, cover: [Double]?, gain: [Double]?
        try reader.enterObject()
        while let key = try reader.nextKey() {
            let name = "tree \(index): \(key)"
            switch key {
            case "feature": feature = try reader.integers(name, in: index32, limit: limit, overLimit: over)
            case "left": left = try reader.integers(name, in: index32, limit: limit, overLimit: over)
            case "right": right = try reader.integers(name, in: index32, limit: limit, overLimit: over)
            case "threshold": threshold = try reader.doubles(name, limit: limit, overLimit: over)
            case "value": value = try reader.doubles(name, limit: limit, overLimit: over)
            case "default_left": defaultLeft = try reader.flags(name, limit: limit, overLimit: over)
            case "cover": cover = try reader.doubles(name, limit: limit, overLimit: over)
            case "gain": gain = try reader.doubles(name, limit: limit, overLimit: over)
            default: try reader.skip()
            }
        }
        func required<T>(_ array: T?, _ key: String) throws(ModelFormatError) -> T {
            guard let array else { throw ModelFormatError("tree \(index): \(key) must be an array of numbers") }
            return array
        }
        let tree = DecisionTree(
            feature: try required(feature, "feature").map { Int32($0) },
            threshold: try required(threshold, "threshold"),
            left: try required(left, "left").map { Int32($0) }, right: try required(right, "right").map { Int32($0) },
            defaultLeft: try required(defaultLeft, "default_left"), value: try required(value, "value"),
            cover: cover ?? [], gain: gain ?? [])
        try budget.add(treeOf: tree.nodeCount)
        return tree
    }

    private static func double(_ value: JSONValue?, _ name: String) throws(ModelFormatError) -> Double {
        guard case .number(let number)? = value else { throw ModelFormatError("\(name) must be a number") }
        return number.doubleValue
    }

    private static func integers(_ values: some Sequence<some BinaryInteger>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for value in values {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendInteger(Int64(value), into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func doubles(_ values: [Double], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.write(number: .double(value), into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}
