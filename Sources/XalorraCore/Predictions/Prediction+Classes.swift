public import XalorraML

/// A multi-class model's answer for one row beyond its label: each class's probability, in class order.
///
/// Its JSON is an object keyed by the label's text, `{"0":0.1,"1":0.7,"2":0.2}` (labels are whole numbers, written
/// as integers), in class order; the probabilities sum to 1.
public struct ClassProbabilities: Sendable, Equatable {
    /// The class labels, in class order.
    public let labels: [Number]
    /// Each class's probability, as many as `labels`.
    public let values: [Double]

    /// Creates the probabilities of `labels`.
    public init(labels: [Number], values: [Double]) {
        precondition(labels.count == values.count, "one probability per class")
        self.labels = labels
        self.values = values
    }

    /// A label as an answer carries it: an integer when whole (every trained or imported label is).
    public static func label(_ value: Double) -> Number {
        value == value.rounded() && abs(value) < 1e15 ? .int(Int64(value)) : .double(value)
    }

    /// `{"<label>": p, …}` in class order.
    public var json: JSONValue {
        .object(zip(labels, values).map { ($0.description, .number(.double($1))) })
    }

    /// Reads ``json`` back.
    public init(json: JSONValue) throws(XalorraError) {
        guard case .object(let members) = json else {
            throw JSONValue.unexpectedResponse("'probabilities' is not an object")
        }
        var labels: [Number] = []
        var values: [Double] = []
        for (key, value) in members {
            guard let label = Number(text: key), case .number(let probability) = value else {
                throw JSONValue.unexpectedResponse("'probabilities' has a member that is not a label and a number")
            }
            labels.append(label)
            values.append(probability.doubleValue)
        }
        self.init(labels: labels, values: values)
    }
}

extension ClassProbabilities {
    /// Each row's class probabilities from a multi-class `model` for the `rows.count / model.featureCount` rows of
    /// values at `rows` (NaN = missing), or `nil` when `model` is not multi-class.
    public static func of(_ model: TrainedModel, rows: [Double]) -> [ClassProbabilities]? {
        let classes = model.classLabels
        guard !classes.isEmpty, model.featureCount > 0 else { return nil }
        let count = rows.count / model.featureCount
        var output = [Double](repeating: 0, count: count * classes.count)
        rows.withUnsafeBufferPointer { rows in
            output.withUnsafeMutableBufferPointer { output in model.probabilities(rows: rows, into: output) }
        }
        let labels = classes.map(label)
        return (0..<count).map { row in
            ClassProbabilities(labels: labels, values: Array(output[(row * classes.count)..<((row + 1) * classes.count)]))
        }
    }

    /// ``of(_:rows:)`` for the rows of a feature matrix in the model's order (a `nil` cell is missing).
    public static func of(_ model: TrainedModel, matrix: FeatureMatrix) -> [ClassProbabilities]? {
        guard !model.classLabels.isEmpty else { return nil }
        var values: [Double] = []
        values.reserveCapacity(matrix.rowCount * model.featureCount)
        for index in 0..<matrix.rowCount {
            for cell in matrix.row(index) { values.append(cell?.doubleValue ?? .nan) }
        }
        return of(model, rows: values)
    }
}
