import XalorraML

/// Turning request rows into what a model reads: widths checked, CSV columns picked by name, missing values
/// refused where the model cannot route them.
extension LocalAPI {
    /// 422 unless a row of `count` features fits `version`.
    static func checkWidth(_ count: Int, of version: ModelVersion) throws(XalorraError) {
        guard count == version.features.count else {
            throw XalorraError.invalid(
                "features",
                "model \(version.reference) expects \(version.features.count) features "
                    + "(\(version.features.prefix(8).joined(separator: ", "))\(version.features.count > 8 ? ", …" : "")), "
                    + "got \(count)")
        }
    }

    /// The baseline's answers: every row summed; a missing cell is refused (a sum has no default direction), and
    /// so is a row without features (its sum, 0, would be logged for nothing; a stored model's width refuses it).
    static func baselineRows(_ rows: FeatureMatrix) throws(XalorraError) -> [Number] {
        var outputs: [Number] = []
        outputs.reserveCapacity(rows.rowCount)
        var features: [Number] = []
        for index in 0..<rows.rowCount {
            guard !rows.row(index).isEmpty else {
                throw XalorraError.invalid("rows[\(index)]", "row \(index + 1) has no features; \(BatchLimit.emptyRow)")
            }
            features.removeAll(keepingCapacity: true)
            for (column, cell) in rows.row(index).enumerated() {
                guard let cell else {
                    throw XalorraError.invalid(
                        "rows[\(index)]",
                        "row \(index + 1) has no value in column \(columnName(rows, column)); "
                            + "the baseline model needs every feature")
                }
                features.append(cell)
            }
            outputs.append(try finite(BaselineModel.predict(features), field: "rows[\(index)]"))
        }
        return outputs
    }

    /// A stored model's answers for `rows`, and the rows as the model read them (in its feature order), for the log.
    static func predictRows(
        _ rows: FeatureMatrix, with model: TrainedModel, _ version: ModelVersion
    ) throws(XalorraError) -> ([Number], FeatureMatrix) {
        let width = version.features.count
        let logged = try version.pickColumns(from: rows) ?? rows
        var values: [Double] = []
        values.reserveCapacity(logged.rowCount * width)
        for index in 0..<logged.rowCount {
            let row = logged.row(index)
            guard row.count == width else {
                throw XalorraError.invalid(
                    "rows[\(index)]", "row \(index + 1) has \(row.count) values; model \(version.reference) "
                        + "expects \(width)")
            }
            for cell in row { values.append(cell?.doubleValue ?? .nan) }
        }
        if !model.acceptsMissing, let missing = values.firstIndex(where: \.isNaN) {
            throw XalorraError.invalid(
                "rows[\(missing / width)]",
                "row \(missing / width + 1) has no value for '\(version.features[missing % width])'; "
                    + "a \(version.kind.rawValue) model needs every feature")
        }
        var predictions = [Double](repeating: 0, count: rows.rowCount)
        values.withUnsafeBufferPointer { input in
            predictions.withUnsafeMutableBufferPointer { output in model.predict(rows: input, into: output) }
        }
        var outputs: [Number] = []
        outputs.reserveCapacity(predictions.count)
        for (index, value) in predictions.enumerated() {
            outputs.append(try finite(.double(value), field: "rows[\(index)]"))
        }
        return (outputs, logged)
    }

    private static func columnName(_ rows: FeatureMatrix, _ column: Int) -> String {
        column < rows.columns.count ? "'\(rows.columns[column])'" : "\(column + 1)"
    }
}

extension ModelVersion {
    /// `rows` with the columns this version reads, picked by name from a CSV header and put in its feature order;
    /// `nil` when the rows are already in order (no header, the same names, or an unnamed import, whose `f0, f1, …`
    /// files may give positionally). The one rule for both sides: offline batches, and the remote client, which
    /// sends rows without their header.
    public func pickColumns(from rows: FeatureMatrix) throws(XalorraError) -> FeatureMatrix? {
        let width = features.count
        let unnamed = features.enumerated().allSatisfy { $0.element == "f\($0.offset)" }
        guard !rows.columns.isEmpty, rows.columns != features, !(unnamed && rows.columns.count == width) else {
            return nil
        }
        let values: [Double]
        do {
            values = try Dataset.rows(from: rows, featureNames: features)
        } catch {
            throw XalorraError.invalid("file", "\(error.description) (model \(reference) reads columns by name)")
        }
        var picked = FeatureMatrix(columns: features)
        picked.reserve(rows: rows.rowCount, width: width)
        for start in stride(from: 0, to: values.count, by: width) {
            picked.append(row: values[start..<start + width].lazy.map { $0.isNaN ? nil : Number.double($0) })
        }
        return picked
    }
}
