public import XalorraML

/// The wire form of `POST /predict/{model}`, both directions: the server reads it with ``init(json:maxRows:)``, and
/// `RemoteAPI` writes it with ``body`` and ``batchPart(_:from:maxRows:maxBytes:)``.
///
/// * `{"features": [1, 2, 3]}`: one row in the model's feature order (the seed's body); every cell a number.
/// * `{"instances": [[1, 2, null], …]}`: a batch in the model's feature order; `null` is a missing value.
/// * `{"columns": ["c", "b", "a"], "instances": [[3, 2, 1], …]}`: a batch with its column names (a CSV header), each
///   row one value per column; a stored model takes its features from them by name, as it does from a CSV file.
extension PredictRequest {
    /// Reads a body; every problem is a 422 naming its field, a batch of more than `maxRows` rows a 413
    /// (``BatchLimit``).
    public init(json: JSONValue, maxRows: Int) throws(XalorraError) {
        try self.init(json: json, rows: nil, maxRows: maxRows)
    }

    /// Reads a body sent as `bytes`: the request, and whether it asks for explanations (``explains(_:)``). Not JSON
    /// is a 400; otherwise as ``init(json:maxRows:)``. The rows of `instances` are read straight into cells
    /// (``JSONParser/readRows(into:)``) rather than into a tree first.
    public static func decode(body bytes: [UInt8], maxRows: Int) throws(XalorraError) -> (request: Self, explain: Bool) {
        var rows = NumberArray()
        var took = false
        let parsed: (value: JSONValue, read: Bool)
        do {
            parsed = try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in
                try JSONParser.parse(buffer) { parser, key in
                    guard key == "instances", !took, parser.readRows(into: &rows) else { return .notRead }
                    took = true
                    return .taken
                }
            }
        } catch {
            throw error.badRequest(bodyIsEmpty: bytes.isEmpty)
        }
        let request = try Self(json: parsed.value, rows: parsed.read && took ? rows : nil, maxRows: maxRows)
        return (request, try explains(parsed.value))
    }

    /// - Parameter rows: the rows of `instances`, when the parser read them (and left them out of `json`).
    private init(json: JSONValue, rows read: NumberArray?, maxRows: Int) throws(XalorraError) {
        guard case .object = json else { throw XalorraError.invalid("body", "expected a JSON object, got \(json.typeName)") }
        let columns = try Self.columns(json["columns"])
        if let read {
            try BatchLimit.check(rows: read.rowEnds.count, limit: maxRows)
            var matrix = FeatureMatrix(columns: columns ?? [])
            matrix.reserve(rows: read.rowEnds.count, width: read.rowEnds.first ?? 0)
            var start = 0
            for (index, end) in read.rowEnds.enumerated() {
                if let columns, end - start != columns.count {
                    throw XalorraError.invalid(
                        "instances[\(index)]", "expected \(columns.count) values (one per column), got \(end - start)")
                }
                matrix.append(row: read.cells[start..<end])
                start = end
            }
            self = .batch(matrix)
            return
        }
        if let instances = json["instances"] {
            guard case .array(let rows) = instances else {
                throw XalorraError.invalid("instances", "expected an array of feature arrays")
            }
            try BatchLimit.check(rows: rows.count, limit: maxRows)
            var matrix = FeatureMatrix(columns: columns ?? [])
            var cells: [Number?] = []
            for (index, row) in rows.enumerated() {
                let field = "instances[\(index)]"
                cells.removeAll(keepingCapacity: true)
                try Self.read(row, field: field, into: &cells, number: { $0 }, missing: .some(nil))
                if let columns, cells.count != columns.count {
                    throw XalorraError.invalid(field, "expected \(columns.count) values (one per column), got \(cells.count)")
                }
                matrix.append(row: cells)
            }
            self = .batch(matrix)
            return
        }
        guard columns == nil else {
            throw XalorraError.invalid(
                "columns", "names the columns of \"instances\"; the \"features\" of one row are in the model's order")
        }
        guard let features = json["features"] else { throw XalorraError.invalid("features", "field required") }
        var numbers: [Number] = []
        try Self.read(features, field: "features", into: &numbers, number: { $0 }, missing: nil)
        self = .single(numbers)
    }

    /// Whether the body asks for explanations: `"explain": true` (absent, `null` or `false`: no); anything else is a
    /// 422.
    public static func explains(_ json: JSONValue) throws(XalorraError) -> Bool {
        switch json["explain"] {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        case let value?: throw XalorraError.invalid("explain", "expected true or false, got \(value.typeName)")
        }
    }

    /// ``body`` with `"explain":true` first, asking the server for explanations.
    public var explainedBody: [UInt8] {
        Array(#"{"explain":true,"#.utf8) + body.dropFirst()
    }

    /// `"columns"`: absent (or `null`), or a non-empty array of names.
    private static func columns(_ value: JSONValue?) throws(XalorraError) -> [String]? {
        guard let value, value != .null else { return nil }
        guard case .array(let items) = value, !items.isEmpty else {
            throw XalorraError.invalid("columns", "expected a non-empty array of column names")
        }
        var names: [String] = []
        names.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            guard case .string(let name) = item else {
                throw XalorraError.invalid("columns[\(index)]", "expected a column name, got \(item.typeName)")
            }
            names.append(name)
        }
        return names
    }

    /// Appends the cells of one row to `cells`: at least one, each a number or, where `missing` is given, `null`
    /// (appended as `missing`); every other element is named in one 422.
    private static func read<Cell>(
        _ value: JSONValue, field: String, into cells: inout [Cell], number: (Number) -> Cell, missing: Cell?
    ) throws(XalorraError) {
        guard case .array(let items) = value else {
            throw XalorraError.invalid(field, "expected an array of numbers, got \(value.typeName)")
        }
        guard !items.isEmpty else { throw XalorraError.invalid(field, BatchLimit.emptyRow) }
        cells.reserveCapacity(cells.count + items.count)
        var problems: [XalorraError.FieldError] = []
        for (index, item) in items.enumerated() {
            if case .number(let value) = item {
                cells.append(number(value))
            } else if item == .null, let missing {
                cells.append(missing)
            } else {
                problems.append(.init(field: "\(field)[\(index)]", message: "expected a number, got \(item.typeName)"))
            }
        }
        guard problems.isEmpty else {
            throw XalorraError(.validation, "\(field) must contain only numbers", details: problems)
        }
    }

    /// The body of this request: `{"features":[…]}`, or the whole batch as ``batchPart(_:from:maxRows:maxBytes:)``
    /// writes it.
    public var body: [UInt8] {
        switch self {
        case .single(let features):
            var body = Array(#"{"features":"#.utf8)
            JSONWriter.write(numbers: features, into: &body)
            body.append(UInt8(ascii: "}"))
            return body
        case .batch(let rows):
            return Self.batchPart(rows, from: 0, maxRows: .max, maxBytes: .max).body
        }
    }

    /// The body for the rows of `rows` from `start`: at most `maxRows` of them and, after the first, no more than
    /// `maxBytes` of body, with the column names (when the rows have them) in every part. How a client sends a batch
    /// larger than a server takes in one call. Returns the body and the index after its last row.
    public static func batchPart(
        _ rows: FeatureMatrix, from start: Int, maxRows: Int, maxBytes: Int
    ) -> (body: [UInt8], end: Int) {
        var body = Array("{".utf8)
        if !rows.columns.isEmpty {
            body += #""columns":["#.utf8
            for (index, name) in rows.columns.enumerated() {
                if index > 0 { body.append(UInt8(ascii: ",")) }
                JSONWriter.write(string: name, into: &body)
            }
            body += "],".utf8
        }
        body += #""instances":["#.utf8
        var end = start
        var row: [UInt8] = []
        while end < rows.rowCount, end - start < maxRows {
            row.removeAll(keepingCapacity: true)
            if end > start { row.append(UInt8(ascii: ",")) }
            row.append(UInt8(ascii: "["))
            for (index, cell) in rows.row(end).enumerated() {
                if index > 0 { row.append(UInt8(ascii: ",")) }
                if let cell { JSONWriter.write(number: cell, into: &row) } else { row += "null".utf8 }
            }
            row.append(UInt8(ascii: "]"))
            guard end == start || body.count + row.count + 2 <= maxBytes else { break }
            body += row
            end += 1
        }
        body += "]}".utf8
        return (body, end)
    }
}
