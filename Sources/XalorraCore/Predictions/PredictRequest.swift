public import XalorraML

/// A `POST /predict/{model}` body: `{"features": [...]}` for one row (the seed's body), `{"instances": [[...], ...]}`
/// for a batch predicted and logged together, where `null` is a missing value (as an empty CSV cell is offline).
public enum PredictRequest: Sendable {
    /// One row.
    case single([Number])
    /// Several rows.
    case batch(FeatureMatrix)

    /// Reads a body; a row without features is a 422, a batch of more than `maxRows` rows a 413 (``BatchLimit``).
    public init(json: JSONValue, maxRows: Int) throws(XalorraError) {
        guard case .object = json else { throw XalorraError.invalid("body", "expected a JSON object, got \(json.typeName)") }
        if let instances = json["instances"] {
            guard case .array(let rows) = instances else {
                throw XalorraError.invalid("instances", "expected an array of feature arrays")
            }
            try BatchLimit.check(rows: rows.count, limit: maxRows)
            var matrix = FeatureMatrix()
            for (index, row) in rows.enumerated() {
                matrix.append(row: try Self.cells(row, field: "instances[\(index)]"))
            }
            self = .batch(matrix)
            return
        }
        guard let features = json["features"] else { throw XalorraError.invalid("features", "field required") }
        self = .single(try Self.numbers(features, field: "features"))
    }

    /// The numbers of one row: at least one, each a number; every other element is named in one 422.
    static func numbers(_ value: JSONValue, field: String) throws(XalorraError) -> [Number] {
        try cells(value, field: field, missing: false).map { $0 ?? .int(0) }
    }

    /// The cells of one row: at least one, each a number or, when `missing` is allowed, `null`; every other element
    /// is named in one 422.
    static func cells(_ value: JSONValue, field: String, missing: Bool = true) throws(XalorraError) -> [Number?] {
        guard case .array(let items) = value else {
            throw XalorraError.invalid(field, "expected an array of numbers, got \(value.typeName)")
        }
        guard !items.isEmpty else { throw XalorraError.invalid(field, BatchLimit.emptyRow) }
        var cells: [Number?] = []
        cells.reserveCapacity(items.count)
        var problems: [XalorraError.FieldError] = []
        for (index, item) in items.enumerated() {
            switch item {
            case .number(let number): cells.append(number)
            case .null where missing: cells.append(nil)
            default:
                problems.append(.init(field: "\(field)[\(index)]", message: "expected a number, got \(item.typeName)"))
            }
        }
        guard problems.isEmpty else {
            throw XalorraError(.validation, "\(field) must contain only numbers", details: problems)
        }
        return cells
    }
}

/// The one rule for how many rows a prediction call over HTTP may carry (`XALORRA_MAX_BATCH_ROWS`), applied where
/// each route's body is decoded, before any row is built: a 413 that names the limit and the setting, which
/// ``limit(in:)`` reads back so a client can send a larger file in parts. Offline batches (the CLI without `--url`)
/// have no such limit: they are the operator's own, and atomic whatever their size.
public enum BatchLimit {
    /// Why a row without features is refused: it would be logged for nothing, and millions of them fit a small body.
    public static let emptyRow = "a row needs at least one feature"

    /// A 413 when `rows` is more than `limit`.
    public static func check(rows: Int, limit: Int) throws(XalorraError) {
        guard rows > limit else { return }
        throw XalorraError(
            .payloadTooLarge,
            "the request has \(rows) rows; at most \(limit) rows per call are accepted (XALORRA_MAX_BATCH_ROWS): "
                + "send them in parts", details: [.init(field: "rows", message: "at most \(limit) rows per call")])
    }

    /// The row limit a refusal from ``check(rows:limit:)`` names, or `nil` for any other error.
    public static func limit(in error: XalorraError) -> Int? {
        guard error.code == .payloadTooLarge, error.message.contains("XALORRA_MAX_BATCH_ROWS"),
            let range = error.message.range(of: "at most ")
        else { return nil }
        return Int(error.message[range.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }
}
