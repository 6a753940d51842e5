public import XalorraML

/// Hyperparameters by their API names (`max_depth`, `learning_rate`, …): the one place that maps the JSON body
/// fields and query parameters of `POST /train/{model}` to ``Hyperparameters`` and back.
extension Hyperparameters {
    /// The settings by their API names, in display order, each with its rule: the one place their bounds live.
    /// Requests are checked with them, the OpenAPI document publishes them, and a test holds the ML library's own
    /// guard (``Hyperparameters/problems``) to the same bounds.
    public static let fields: [(name: String, rule: FieldRule)] = [
        ("trees", .integer(IntegerRule(1...10_000))),
        ("max_depth", .integer(IntegerRule(1...16))),
        ("learning_rate", .number(NumberRule(above: .int(0), atMost: .int(1)))),
        ("min_samples_leaf", .integer(IntegerRule(atLeast: 1))),
        ("l2", .number(NumberRule(atLeast: .int(0)))),
        ("bins", .integer(IntegerRule(2...65_535))),
        ("valid_fraction", .number(NumberRule(atLeast: .int(0), below: .int(1)))),
        ("early_stopping", .nullable(.integer(IntegerRule(atLeast: 1)))),
        ("seed", .integer(IntegerRule(atLeast: 0))),
        ("objective", .choice(Objective.allCases.map(\.rawValue))),
        ("threads", .integer(IntegerRule(1...256))),
    ]

    /// The API names, in display order.
    public static let fieldNames = fields.map(\.name)

    /// The rule of the setting `name`.
    public static func rule(_ name: String) -> FieldRule? { fields.first { $0.name == name }?.rule }

    /// The whole numbers the setting `name` allows (its rule's range; `nil` for a setting that is not a whole
    /// number), for the CLI's option table.
    public static func integerRange(_ name: String) -> ClosedRange<Int>? {
        switch rule(name) {
        case .integer(let rule)?, .nullable(.integer(let rule))?: rule.range
        default: nil
        }
    }

    /// The names that matter for `kind` (linear kinds ignore the tree knobs).
    public static func fieldNames(for kind: ModelKind) -> [String] {
        switch kind {
        case .gbdt, .xgboost, .lightgbm: fieldNames
        case .linear, .logistic: ["l2", "valid_fraction", "seed"]
        }
    }

    /// Every setting by its API name.
    private var values: [String: JSONValue] {
        [
            "trees": .int(trees), "max_depth": .int(maxDepth), "learning_rate": .number(.double(learningRate)),
            "min_samples_leaf": .int(minSamplesLeaf), "l2": .number(.double(l2)), "bins": .int(bins),
            "valid_fraction": .number(.double(validFraction)), "early_stopping": earlyStopping.map { .int($0) } ?? .null,
            "seed": .number(.int(Int64(bitPattern: seed))), "objective": .string(objective.rawValue),
            "threads": .int(threads),
        ]
    }

    /// The settings that matter for `kind`, as stored with a version and shown by `models show`.
    public func json(for kind: ModelKind) -> JSONValue {
        let all = values
        return .object(Self.fieldNames(for: kind).map { ($0, all[$0] ?? .null) })
    }

    /// Every setting that breaks its rule, by API name: what the API checks before training, however the
    /// settings were made (a request's fields, the CLI's options).
    public var fieldProblems: [(field: String, message: String?)] {
        let all = values
        return Self.fields.map { field in (field.name, all[field.name].flatMap(field.rule.problem)) }
    }

    /// The defaults changed by `fields`, whose values are JSON numbers or numeric text (query parameters), each
    /// checked with its rule. Unknown names and bad values are one 422 that lists each problem.
    public init(fields: [(String, JSONValue)]) throws(XalorraError) {
        self.init()
        var issues: [(field: String, message: String?)] = []
        for (name, given) in fields {
            guard let rule = Self.rule(name) else {
                issues.append((name, "is not a training setting (\(Self.fieldNames.joined(separator: ", ")))"))
                continue
            }
            let value = given.stringValue.map(rule.value(ofText:)) ?? given
            if let problem = rule.problem(value) {
                issues.append((name, problem))
                continue
            }
            let whole = value.numberValue.flatMap { Int(exactly: $0.doubleValue) } ?? 0
            let fraction = value.numberValue?.doubleValue ?? 0
            switch name {
            case "trees": trees = whole
            case "max_depth": maxDepth = whole
            case "learning_rate": learningRate = fraction
            case "min_samples_leaf": minSamplesLeaf = whole
            case "l2": l2 = fraction
            case "bins": bins = whole
            case "valid_fraction": validFraction = fraction
            case "early_stopping": earlyStopping = value == .null ? nil : whole
            case "seed": seed = UInt64(whole)
            case "objective": objective = value.stringValue.flatMap(Objective.init(rawValue:)) ?? objective
            case "threads": threads = whole
            default: break
            }
        }
        // The ML library's own guard: empty while the rules above are at least as strict (a test holds them so).
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

extension JSONValue {
    /// The number, when this is one.
    fileprivate var numberValue: Number? {
        if case .number(let number) = self { return number }
        return nil
    }
}
