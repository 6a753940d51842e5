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
    /// One list per row: a contribution per feature in ``features``' order, then the bias.
    public let contributions: [[Double]]

    /// Creates an explained answer.
    public init(answer: Answer, features: [String], contributions: [[Double]]) {
        self.answer = answer
        self.features = features
        self.contributions = contributions
    }
}

extension ExplainedPrediction: JSONRepresentable, JSONDecodable {
    /// The prediction's own JSON plus `"contributions"`: `{"<feature>": x, …, "bias": b}` for a single row, a list of
    /// them, one per row, for a batch.
    public var json: JSONValue {
        switch answer {
        case .single(let prediction):
            return Self.adding(prediction.json, .object(contributionMembers(contributions.first ?? [])))
        case .batch(let batch):
            return Self.adding(batch.json, .array(contributions.map { .object(contributionMembers($0)) }))
        }
    }

    /// One row's `{"<feature>": x, …, "bias": b}` members.
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
        var features: [String] = []
        var contributions: [[Double]] = []
        for (index, row) in rows.enumerated() {
            guard case .object(let members) = row, members.last?.0 == "bias" else {
                throw JSONValue.unexpectedResponse("contributions[\(index)] is not an object ending in \"bias\"")
            }
            let names = members.dropLast().map(\.0)
            if index == 0 { features = names }
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
            contributions.append(values)
        }
        self.init(answer: answer, features: features, contributions: contributions)
    }
}
