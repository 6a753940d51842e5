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
            let answer: Number = model.classLabels.isEmpty ? .double(value) : ClassProbabilities.label(value)
            outputs.append(try finite(answer, field: "rows[\(index)]"))
        }
        return (outputs, logged)
    }

    private static func columnName(_ rows: FeatureMatrix, _ column: Int) -> String {
        column < rows.columns.count ? "'\(rows.columns[column])'" : "\(column + 1)"
    }
}

extension ModelVersion {
    /// `rows` with the columns this version reads, in its feature order, or `nil` when they are in that order
    /// already. The one place where input columns meet a model's features, whatever brought the names: a CSV header
    /// offline, the `"columns"` of a predict body, OIP inputs by name.
    ///
    /// Rows without names are in the model's order. Otherwise columns are matched by name: extra ones are ignored;
    /// missing ones, and one the model reads given twice (which of the two is meant?), are refused naming them. An
    /// unnamed import (`f0, f1, …`) matches by name when every `fN` is there, and otherwise by position when the
    /// widths agree: such a model's files often have real names in their header.
    func pickColumns(from rows: FeatureMatrix) throws(XalorraError) -> FeatureMatrix? {
        let width = features.count
        guard !rows.columns.isEmpty, rows.columns != features else { return nil }
        var positions: [String: Int] = [:]
        positions.reserveCapacity(rows.columns.count)
        var repeated: Set<String> = []
        for (position, name) in rows.columns.enumerated() {
            if positions[name] == nil { positions[name] = position } else { repeated.insert(name) }
        }
        let missing = features.filter { positions[$0] == nil }
        let unnamed = features.enumerated().allSatisfy { $0.element == "f\($0.offset)" }
        if unnamed, !missing.isEmpty {
            guard rows.columns.count == width else {
                throw XalorraError.invalid(
                    "columns",
                    "model \(reference) has unnamed features: it reads \(width) columns by position, or columns named "
                        + "f0 to f\(width - 1); got \(rows.columns.count) columns")
            }
            return nil
        }
        guard missing.isEmpty else {
            throw XalorraError.invalid("columns", "model \(reference) reads its features by name, and \(Self.named(missing)) missing")
        }
        let twice = features.filter(repeated.contains)
        guard twice.isEmpty else {
            throw XalorraError.invalid(
                "columns",
                "model \(reference) reads its features by name, and \(Self.named(twice)) given more than "
                    + "once: which one is meant is unclear")
        }
        let picks = features.map { positions[$0] ?? 0 }
        var picked = FeatureMatrix(columns: features)
        picked.reserve(rows: rows.rowCount, width: width)
        for index in 0..<rows.rowCount {
            let row = rows.row(index)
            guard row.count == rows.columns.count else {
                throw XalorraError.invalid(
                    "rows[\(index)]", "row \(index + 1) has \(row.count) values, but there are \(rows.columns.count) columns")
            }
            picked.append(row: picks.lazy.map { row[row.startIndex + $0] })
        }
        return picked
    }

    /// `the column 'c' is` or `the columns 'b', 'c' are`, naming at most eight.
    private static func named(_ names: [String]) -> String {
        let listed = names.prefix(8).map { "'\($0)'" }.joined(separator: ", ")
        let more = names.count > 8 ? " and \(names.count - 8) more" : ""
        return names.count == 1 ? "the column \(listed) is" : "the columns \(listed)\(more) are"
    }
}
