public import XalorraML

/// Hyperparameters by their API names (`max_depth`, `learning_rate`, …): the one place that maps the JSON body
/// fields and query parameters of `POST /train/{model}` to ``Hyperparameters`` and back.
extension Hyperparameters {
    /// The API names, in display order.
    public static let fieldNames = [
        "trees", "max_depth", "learning_rate", "min_samples_leaf", "l2", "bins", "valid_fraction", "early_stopping",
        "seed", "objective", "threads",
    ]

    /// The names that matter for `kind` (linear kinds ignore the tree knobs).
    public static func fieldNames(for kind: ModelKind) -> [String] {
        switch kind {
        case .gbdt, .xgboost: fieldNames
        case .linear, .logistic: ["l2", "valid_fraction", "seed"]
        }
    }

    /// The settings that matter for `kind`, as stored with a version and shown by `models show`.
    public func json(for kind: ModelKind) -> JSONValue {
        let all: [String: JSONValue] = [
            "trees": .int(trees), "max_depth": .int(maxDepth), "learning_rate": .number(.double(learningRate)),
            "min_samples_leaf": .int(minSamplesLeaf), "l2": .number(.double(l2)), "bins": .int(bins),
            "valid_fraction": .number(.double(validFraction)), "early_stopping": earlyStopping.map { .int($0) } ?? .null,
            "seed": .number(.int(Int64(bitPattern: seed))), "objective": .string(objective.rawValue),
            "threads": .int(threads),
        ]
        return .object(Self.fieldNames(for: kind).map { ($0, all[$0] ?? .null) })
    }

    /// The defaults changed by `fields`, whose values are JSON numbers or numeric text (query parameters).
    /// Unknown names and bad values are one 422 that lists each problem.
    public init(fields: [(String, JSONValue)]) throws(XalorraError) {
        self.init()
        var issues: [(field: String, message: String?)] = []
        func number(_ name: String, _ value: JSONValue) -> Double? {
            switch value {
            case .number(let number): return number.doubleValue
            case .string(let text): if let number = Number(text: text) { return number.doubleValue }
            default: break
            }
            issues.append((name, "must be a number"))
            return nil
        }
        func integer(_ name: String, _ value: JSONValue) -> Int? {
            guard let double = number(name, value) else { return nil }
            guard double.rounded() == double, abs(double) < 1e15 else {
                issues.append((name, "must be a whole number"))
                return nil
            }
            return Int(double)
        }
        for (name, value) in fields {
            switch name {
            case "trees": if let value = integer(name, value) { trees = value }
            case "max_depth": if let value = integer(name, value) { maxDepth = value }
            case "learning_rate": if let value = number(name, value) { learningRate = value }
            case "min_samples_leaf": if let value = integer(name, value) { minSamplesLeaf = value }
            case "l2": if let value = number(name, value) { l2 = value }
            case "bins": if let value = integer(name, value) { bins = value }
            case "valid_fraction": if let value = number(name, value) { validFraction = value }
            case "early_stopping":
                if value == .null || value == .string("off") {
                    earlyStopping = nil
                } else if let value = integer(name, value) {
                    earlyStopping = value
                }
            case "seed":
                if let value = integer(name, value) {
                    if value >= 0 { seed = UInt64(value) } else { issues.append((name, "must not be negative")) }
                }
            case "objective":
                if case .string(let text) = value, let objective = Objective(rawValue: text) {
                    self.objective = objective
                } else {
                    issues.append((name, "must be one of \(Objective.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
            case "threads": if let value = integer(name, value) { threads = value }
            default:
                issues.append((name, "is not a training setting (\(Self.fieldNames.joined(separator: ", ")))"))
            }
        }
        issues += problems.map { ($0.name, $0.problem) }
        try XalorraError.check(issues)
    }

    /// The settings that differ from the defaults, as query parameters.
    public var changedFields: [(String, String)] {
        let defaults = Hyperparameters()
        var fields: [(String, String)] = []
        if trees != defaults.trees { fields.append(("trees", "\(trees)")) }
        if maxDepth != defaults.maxDepth { fields.append(("max_depth", "\(maxDepth)")) }
        if learningRate != defaults.learningRate { fields.append(("learning_rate", Number.format(learningRate))) }
        if minSamplesLeaf != defaults.minSamplesLeaf { fields.append(("min_samples_leaf", "\(minSamplesLeaf)")) }
        if l2 != defaults.l2 { fields.append(("l2", Number.format(l2))) }
        if bins != defaults.bins { fields.append(("bins", "\(bins)")) }
        if validFraction != defaults.validFraction { fields.append(("valid_fraction", Number.format(validFraction))) }
        if let earlyStopping { fields.append(("early_stopping", "\(earlyStopping)")) }
        if seed != defaults.seed { fields.append(("seed", "\(seed)")) }
        if objective != defaults.objective { fields.append(("objective", objective.rawValue)) }
        if threads != defaults.threads { fields.append(("threads", "\(threads)")) }
        return fields
    }
}
