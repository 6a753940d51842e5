public import XalorraML

/// A prediction request, decoded once: what `POST /predict/{model}` reads (``init(json:maxRows:)``) and what the CLI
/// reads from a CSV or NDJSON file. Column names travel with the rows (`FeatureMatrix.columns`: a CSV header, the
/// body's `"columns"`), so the one place that matches them to a model's features (``LocalAPI``'s batch path) sees
/// the same input offline and over HTTP. The wire form, both directions, is in `PredictRequest+JSON.swift`.
public enum PredictRequest: Sendable, Equatable {
    /// One row in the model's feature order: the seed's `{"features": [...]}`. Every cell is a number.
    case single([Number])
    /// Rows predicted and logged together. `columns` names the cells when the client had names (matched to a stored
    /// model's features by name), or is empty (cells in the model's order); a `nil` cell is a missing value.
    case batch(FeatureMatrix)
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
