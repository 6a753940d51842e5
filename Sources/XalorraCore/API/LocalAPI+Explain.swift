import XalorraML

/// Explained predictions: the prediction is made and logged exactly as without `explain`, then explained as a
/// separate step by the version that answered. Whether the model can be explained is decided first, so a refusal
/// (a model stored before covers or training means were kept) logs nothing.
extension LocalAPI {
    public func predictExplained(model: String, request: PredictRequest) async throws(XalorraError) -> ExplainedPrediction {
        let reference = try ModelReference(model)
        let (version, trained) = try await resolveModel(reference)
        guard let version, let trained else {
            return try await explainBaseline(model: model, request: request)
        }
        let explainer: ModelExplainer
        do {
            let rowCount = switch request {
            case .single: 1
            case .batch(let rows): rows.rowCount
            }
            explainer = try explainers.explainer(for: version, rows: rowCount) { () throws(ExplanationError) in
                try ModelExplainer(trained)
            }
        } catch {
            throw XalorraError(
                .validation, "model \(version.reference) cannot be explained: \(error.message)",
                details: [.init(field: "explain", message: error.message)])
        }
        // Pinned, so a version stored meanwhile neither answers nor is explained instead.
        let pinned = "\(reference.name)@\(version.version)"
        let answer: ExplainedPrediction.Answer
        let rows: FeatureMatrix
        switch request {
        case .single(let features):
            let prediction = try await predict(model: pinned, features: features)
            answer = .single(prediction)
            var matrix = FeatureMatrix()
            matrix.append(row: features.lazy.map { Optional($0) })
            rows = matrix
        case .batch(let batch):
            answer = .batch(try await predictBatch(model: pinned, rows: batch))
            rows = try version.pickColumns(from: batch) ?? batch
        }
        let width = version.features.count
        var values: [Double] = []
        values.reserveCapacity(rows.rowCount * width)
        for index in 0..<rows.rowCount {
            for cell in rows.row(index) { values.append(cell?.doubleValue ?? .nan) }
        }
        let flat = explainer.explain(values)
        return ExplainedPrediction(
            answer: answer, features: version.features,
            contributions: try Self.rowsOf(flat, width: explainer.rowWidth),
            classLabels: trained.classLabels.map(ClassProbabilities.label))
    }

    /// The baseline sums the features, so each feature's contribution is its value and the bias is 0.
    private func explainBaseline(
        model: String, request: PredictRequest
    ) async throws(XalorraError) -> ExplainedPrediction {
        switch request {
        case .single(let features):
            let prediction = try await predict(model: model, features: features)
            return ExplainedPrediction(
                answer: .single(prediction), features: features.indices.map { "f\($0)" },
                contributions: [features.map(\.doubleValue) + [0]])
        case .batch(let rows):
            let batch = try await predictBatch(model: model, rows: rows)
            var contributions: [[Double]] = []
            contributions.reserveCapacity(rows.rowCount)
            var width = 0
            for index in 0..<rows.rowCount {
                let row = rows.row(index).map { $0?.doubleValue ?? 0 }
                width = max(width, row.count)
                contributions.append(row + [0])
            }
            let features = rows.columns.count == width ? rows.columns : (0..<width).map { "f\($0)" }
            return ExplainedPrediction(answer: .batch(batch), features: features, contributions: contributions)
        }
    }

    /// `flat` cut into rows of `width`, every value checked finite (as predictions are).
    private static func rowsOf(_ flat: [Double], width: Int) throws(XalorraError) -> [[Double]] {
        var rows: [[Double]] = []
        rows.reserveCapacity(flat.count / width)
        for start in stride(from: 0, to: flat.count, by: width) {
            let row = Array(flat[start..<(start + width)])
            guard row.allSatisfy(\.isFinite) else {
                throw XalorraError.invalid(
                    "rows[\(start / width)]", "the explanation is not a finite number: the features are too large")
            }
            rows.append(row)
        }
        return rows
    }
}
