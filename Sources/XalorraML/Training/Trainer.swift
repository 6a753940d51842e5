/// Trains a model of any trainable kind: splits the data, fits, and measures on the held-out rows.
public enum Trainer {
    /// What a training run produced.
    public struct Result: Sendable {
        /// The fitted model.
        public var model: TrainedModel
        /// Quality on the validation split; `nil` when `validFraction` is 0.
        public var metrics: Metrics?
        /// Boosting rounds kept (gbdt; fewer than asked after early stopping), or solver iterations.
        public var iterations: Int
        /// The objective actually used (gbdt `auto` resolved).
        public var objective: Hyperparameters.Objective

        /// Creates a result.
        public init(model: TrainedModel, metrics: Metrics?, iterations: Int, objective: Hyperparameters.Objective) {
            self.model = model
            self.metrics = metrics
            self.iterations = iterations
            self.objective = objective
        }
    }

    /// Trains `kind` on `data`.
    /// - Parameters:
    ///   - observer: called after each round or iteration on the training thread; return `false` to cancel
    ///     (the call then throws ``TrainingError/cancelledByObserver``).
    public static func train(
        _ kind: ModelKind, on data: Dataset, parameters: Hyperparameters,
        observer: (TrainingProgress) -> Bool = { _ in true }
    ) throws(TrainingError) -> Result {
        try check(kind, on: data, parameters: parameters)
        let (train, valid) = data.split(validFraction: parameters.validFraction, seed: parameters.seed)
        guard train.rowCount > 0 else {
            throw TrainingError(
                "\(data.rowCount) rows leave none for training once \(valid.rowCount) are held out; "
                    + "lower --valid-fraction or add rows"
            )
        }
        let validation = valid.rowCount > 0 ? valid : nil

        switch kind {
        case .linear:
            let model = try LinearRegression.fit(train, l2: parameters.l2)
            let metrics = validation.map { measure(.linear(model), on: $0, objective: .regression) }
            let loss = metrics?.rmse.map { $0 * $0 }
            guard observer(TrainingProgress(done: 1, total: 1, validationLoss: loss)) else {
                throw .cancelledByObserver
            }
            return Result(model: .linear(model), metrics: metrics, iterations: 1, objective: .regression)
        case .logistic:
            let (model, iterations) = try LogisticRegression.fit(
                train, valid: validation, l2: parameters.l2, observer: observer
            )
            let metrics = validation.map { measure(.linear(model), on: $0, objective: .binary) }
            return Result(model: .linear(model), metrics: metrics, iterations: iterations, objective: .binary)
        case .gbdt:
            let objective = resolve(parameters.objective, target: data.target)
            if objective == .multiclass {
                let labels = try GradientBoosting.classLabels(data.target)
                let (ensemble, rounds) = try GradientBoosting.trainSoftmax(
                    train: train, valid: validation, labels: labels, parameters: parameters, observer: observer)
                let metrics = validation.map { measure(.trees(ensemble), on: $0, objective: objective) }
                return Result(model: .trees(ensemble), metrics: metrics, iterations: rounds, objective: objective)
            }
            if objective == .binary {
                try LogisticRegression.requireBinary(train.target, kind: "the binary objective", hint: "")
            }
            let (ensemble, rounds) = try GradientBoosting.train(
                train: train, valid: validation, parameters: parameters, objective: objective, observer: observer
            )
            let metrics = validation.map { measure(.trees(ensemble), on: $0, objective: objective) }
            return Result(model: .trees(ensemble), metrics: metrics, iterations: rounds, objective: objective)
        case .xgboost, .lightgbm:
            preconditionFailure("refused above")
        }
    }

    /// The checks that need no training: the settings, the kind, the data's shape, and what the kind needs of the
    /// data (every value for linear kinds, a 0/1 target for classifiers). Run before a job is queued, so bad input
    /// is refused at once rather than failing later.
    public static func check(_ kind: ModelKind, on data: Dataset, parameters: Hyperparameters) throws(TrainingError) {
        let problems = parameters.problems
        guard problems.isEmpty else {
            let list = problems.map { "\($0.name): \($0.problem)" }.joined(separator: "; ")
            throw TrainingError("invalid hyperparameters: \(list)")
        }
        guard kind != .xgboost, kind != .lightgbm else {
            throw TrainingError(
                "\(kind.rawValue) models cannot be trained here, only imported; train --kind gbdt instead")
        }
        guard data.featureCount > 0 else { throw TrainingError("the data has no feature columns") }
        guard data.rowCount > 0 else { throw TrainingError("the data has no rows") }
        switch kind {
        case .linear:
            try LinearRegression.requireComplete(data)
        case .logistic:
            try LinearRegression.requireComplete(data)
            try LogisticRegression.requireBinary(
                data.target, kind: "logistic regression", hint: "; use --kind linear or gbdt for a numeric target")
        case .gbdt where parameters.objective == .binary:
            try LogisticRegression.requireBinary(data.target, kind: "the binary objective", hint: "")
        case .gbdt where parameters.objective == .multiclass:
            _ = try GradientBoosting.classLabels(data.target)
        case .gbdt, .xgboost, .lightgbm:
            break
        }
    }

    /// The gbdt objective for `target`: `auto` is binary when every value is 0 or 1 and both occur, multiclass when
    /// the values are 3 to ``TreeEnsemble/maxClasses`` distinct whole numbers with at least 10 rows per class on
    /// average, else regression.
    static func resolve(_ objective: Hyperparameters.Objective, target: [Double]) -> Hyperparameters.Objective {
        guard objective == .auto else { return objective }
        var labels = Set<Double>()
        for value in target {
            guard value.isFinite, value == value.rounded(), abs(value) < 1e15 else { return .regression }
            labels.insert(value == 0 ? 0 : value)
            if labels.count > TreeEnsemble.maxClasses { return .regression }
        }
        if labels == [0, 1] { return .binary }
        // Whole numbers that are mostly distinct (a count, a price in cents) are a quantity, not classes: a class
        // needs 10 rows on average.
        return labels.count >= 3 && labels.count * 10 <= target.count ? .multiclass : .regression
    }

    /// Regression or classification metrics of `model` on `data`.
    static func measure(_ model: TrainedModel, on data: Dataset, objective: Hyperparameters.Objective) -> Metrics {
        if objective == .multiclass {
            let labels = model.classLabels
            var probabilities = [Double](repeating: 0, count: data.rowCount * labels.count)
            data.values.withUnsafeBufferPointer { rows in
                probabilities.withUnsafeMutableBufferPointer { output in model.probabilities(rows: rows, into: output) }
            }
            return .multiClass(
                probabilities: probabilities, classes: GradientBoosting.classIndices(data.target, labels: labels),
                classCount: labels.count)
        }
        var predictions = [Double](repeating: 0, count: data.rowCount)
        data.values.withUnsafeBufferPointer { rows in
            predictions.withUnsafeMutableBufferPointer { output in model.predict(rows: rows, into: output) }
        }
        return objective == .binary
            ? .classification(probabilities: predictions, targets: data.target)
            : .regression(predictions: predictions, targets: data.target)
    }
}
