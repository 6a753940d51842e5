import XalorraML

/// A prediction with its explanation (`"explain": true` in a predict body, `xalorra predict --explain`): the answer
/// as ``Prediction`` or ``BatchPrediction`` gives it, and for each row every feature's contribution to the margin
/// (the score before the logistic function) and the bias, which sum to that margin. Explanations are computed after
/// the prediction is logged, by the version that answered; they are not logged.
public struct ExplainedPrediction: Sendable, Equatable {
    /// The answer to a single row or to a batch.
    public enum Answer: Sendable, Equatable {
        case single(Prediction)
        case batch(BatchPrediction)
    }

    /// The prediction, exactly as without `explain`.
    public let answer: Answer
    /// The names the contributions are keyed by: the answering version's features (`f0`, `f1`, … for the baseline
    /// and unnamed imports, or a batch's own column names for the baseline).
    public let features: [String]
    /// One list per row: a contribution per feature in ``features``' order, then the bias; for a multi-class model,
    /// that for each class of ``classLabels`` in turn (`K × (features + 1)` values).
    public let contributions: [[Double]]
    /// A multi-class model's class labels, in class order (the contributions hold one block per class); empty for
    /// every other model.
    public let classLabels: [Number]

    /// Creates an explained answer.
    public init(answer: Answer, features: [String], contributions: [[Double]], classLabels: [Number] = []) {
        self.answer = answer
        self.features = features
        self.contributions = contributions
        self.classLabels = classLabels
    }

    /// Row `row`'s contributions and bias toward class `index` of ``classLabels`` (the whole row when the model is
    /// not multi-class).
    public func contributions(row: Int, class index: Int = 0) -> ArraySlice<Double> {
        let values = row < contributions.count ? contributions[row] : []
        guard !classLabels.isEmpty else { return values[...] }
        let width = features.count + 1
        let start = min(index * width, values.count)
        return values[start..<min(start + width, values.count)]
    }
}

extension ExplainedPrediction: JSONRepresentable, JSONDecodable {
    /// The prediction's own JSON plus `"contributions"`: `{"<feature>": x, …, "bias": b}` for a single row, a list of
    /// them, one per row, for a batch. A multi-class model's row is keyed by class label as its `"probabilities"` are,
    /// `{"<label>": {"<feature>": x, …, "bias": b}, …}`: each class's values sum to that class's margin (XGBoost's
    /// `pred_contribs` for multi-class models).
    public var json: JSONValue {
        switch answer {
        case .single(let prediction):
            return Self.adding(prediction.json, contributionsJSON(row: 0))
        case .batch(let batch):
            return Self.adding(batch.json, .array(contributions.indices.map { contributionsJSON(row: $0) }))
        }
    }

    /// Row `row`'s `"contributions"` value: flat, or keyed by class label for a multi-class model.
    public func contributionsJSON(row: Int) -> JSONValue {
        guard !classLabels.isEmpty else {
            return .object(contributionMembers(Array(contributions(row: row))))
        }
        return .object(classLabels.indices.map { index in
            (classLabels[index].description, .object(contributionMembers(Array(contributions(row: row, class: index)))))
        })
    }

    /// One row's (or one class's) `{"<feature>": x, …, "bias": b}` members.
    public func contributionMembers(_ row: [Double]) -> [(String, JSONValue)] {
        var members: [(String, JSONValue)] = []
        members.reserveCapacity(row.count)
        for (index, value) in row.enumerated() {
            members.append((index < features.count ? features[index] : "bias", .number(.double(value))))
        }
        return members
    }

    private static func adding(_ answer: JSONValue, _ contributions: JSONValue) -> JSONValue {
        guard case .object(var members) = answer else { return answer }
        members.append(("contributions", contributions))
        return .object(members)
    }

    /// Reads ``json`` back: a batch when it has `"predictions"`.
    public init(json: JSONValue) throws(XalorraError) {
        let rows: [JSONValue]
        let answer: Answer
        if json["predictions"] != nil {
            answer = .batch(try BatchPrediction(json: json))
            rows = try json.list("contributions")
        } else {
            answer = .single(try Prediction(json: json))
            guard let row = json["contributions"] else {
                throw JSONValue.unexpectedResponse("the answer has no \"contributions\"")
            }
            rows = [row]
        }
        var features: [String]?
        var labels: [Number]?
        var contributions: [[Double]] = []
        for (index, row) in rows.enumerated() {
            guard case .object(let members) = row else {
                throw JSONValue.unexpectedResponse("contributions[\(index)] is not an object")
            }
            // A multi-class model's row: one object per class label.
            if case .object = members.first?.1 {
                var rowLabels: [Number] = []
                var values: [Double] = []
                for (key, value) in members {
                    guard let label = Number(text: key) else {
                        throw JSONValue.unexpectedResponse("contributions[\(index)] has a key that is not a class label")
                    }
                    rowLabels.append(label)
                    values += try Self.readContributions(value, index: index, features: &features)
                }
                if contributions.isEmpty { labels = rowLabels }
                guard rowLabels == labels else {
                    throw JSONValue.unexpectedResponse("contributions[\(index)] names other classes than the first row")
                }
                contributions.append(values)
            } else {
                guard labels == nil || contributions.isEmpty else {
                    throw JSONValue.unexpectedResponse("contributions[\(index)] is not keyed by class as the first row")
                }
                contributions.append(try Self.readContributions(row, index: index, features: &features))
            }
        }
        self.init(
            answer: answer, features: features ?? [], contributions: contributions, classLabels: labels ?? [])
    }

    /// One `{"<feature>": x, …, "bias": b}` object's values, its feature names checked against (or, the first time,
    /// stored in) `features`.
    private static func readContributions(
        _ object: JSONValue, index: Int, features: inout [String]?
    ) throws(XalorraError) -> [Double] {
        guard case .object(let members) = object, members.last?.0 == "bias" else {
            throw JSONValue.unexpectedResponse("contributions[\(index)] is not an object ending in \"bias\"")
        }
        let names = members.dropLast().map(\.0)
        if features == nil { features = names }
        guard names == features else {
            throw JSONValue.unexpectedResponse("contributions[\(index)] names other features than the first row")
        }
        var values: [Double] = []
        for (name, value) in members {
            guard case .number(let number) = value else {
                throw JSONValue.unexpectedResponse("contribution \"\(name)\" is not a number")
            }
            values.append(number.doubleValue)
        }
        return values
    }
}
