import XalorraML

extension TrainingRequest {
    /// The JSON form of `POST /train/{model}`: `{"kind","target",…hyperparameters, "columns": [names],
    /// "rows": [[numbers or null], …]}`, or `"rows"` as objects by column name (`"columns"` then comes from the first
    /// row). The rows are read straight from the text into the matrix (a ``JSONValue`` of a 64 MB upload would take
    /// a gigabyte); the other members must be small. Malformed JSON is a 400, everything else a 422 naming its field.
    public init(model: String, body: [UInt8]) throws(XalorraError) {
        let read: Result<(fields: [(String, JSONValue)], data: FeatureMatrix), any Error> = body.withUnsafeBufferPointer {
            buffer in Result { try Self.read(buffer) }
        }
        switch read {
        case .success(let (fields, data)): try self.init(model: model, fields: fields, data: data)
        case .failure(let error as XalorraError): throw error
        case .failure(let error as JSONParseError): throw error.badRequest(bodyIsEmpty: body.isEmpty)
        case .failure(let error): throw XalorraError(.internal, "reading a training body: \(error)")
        }
    }

    /// Reads the members in one pass, noting where `rows` is, then the rows once `columns` is known.
    private static func read(_ buffer: UnsafeBufferPointer<UInt8>) throws -> ([(String, JSONValue)], FeatureMatrix) {
        var reader = JSONReader(buffer)
        guard try reader.peek() == .object else {
            _ = try reader.value()
            try reader.finish()
            throw XalorraError.invalid("body", "expected a JSON object")
        }
        var fields: [(String, JSONValue)] = []
        var columnsValue: JSONValue?
        var rowsOffset: Int?
        try reader.enterObject()
        while let key = try reader.nextKey() {
            switch key {
            case "rows":
                rowsOffset = reader.offset
                try reader.skip()
            case "columns":
                columnsValue = try reader.value(
                    atMost: 1 + ModelLimits.maxFeatures,
                    orThrow: XalorraError.invalid("columns", "more than \(ModelLimits.maxFeatures) columns"))
            default:
                fields.append((key, try reader.value(atMost: 1000, orThrow: XalorraError.invalid(key, "is too large"))))
            }
        }
        try reader.finish()
        guard let rowsOffset else {
            throw XalorraError.invalid("rows", "expected an array of rows (arrays with \"columns\", or objects)")
        }
        var rows = JSONReader(buffer, at: rowsOffset)
        guard try rows.peek() == .array else {
            throw XalorraError.invalid("rows", "expected an array of rows (arrays with \"columns\", or objects)")
        }
        var columns: [String]?
        if case .array(let names)? = columnsValue {
            let given = names.compactMap(\.stringValue)
            guard given.count == names.count, !given.isEmpty else {
                throw XalorraError.invalid("columns", "expected a non-empty array of column names")
            }
            columns = given
        }
        return (fields, try readRows(&rows, columns: columns))
    }

    /// The rows: arrays of one cell per column, or objects by column name (a missing name is a missing value); without
    /// `columns`, the first row must be an object and its keys are the columns.
    private static func readRows(_ reader: inout JSONReader, columns given: [String]?) throws -> FeatureMatrix {
        var columns = given
        var positions: [String: Int] = [:]
        var data = FeatureMatrix(columns: given ?? [])
        var cells: [Number?] = []
        var index = 0
        try reader.enterArray()
        while try reader.nextElement() {
            let kind = try reader.peek()
            if columns == nil {
                guard kind == .object else {
                    throw XalorraError.invalid("columns", "expected the column names (or rows as objects)")
                }
                columns = try firstRowKeys(reader)
            }
            let names = columns ?? []
            if positions.isEmpty {
                data = FeatureMatrix(columns: names)
                for (position, name) in names.enumerated() where positions[name] == nil { positions[name] = position }
            }
            cells.removeAll(keepingCapacity: true)
            switch kind {
            case .array:
                try reader.enterArray()
                while try reader.nextElement() {
                    guard cells.count < names.count else { throw wrongWidth(index, names.count) }
                    cells.append(try cell(&reader, field: "rows[\(index)][\(cells.count)]"))
                }
                guard cells.count == names.count else { throw wrongWidth(index, names.count) }
            case .object:
                cells = Array(repeating: nil, count: names.count)
                try reader.enterObject()
                while let key = try reader.nextKey() {
                    let value = try cell(&reader, field: "rows[\(index)].\(key)")
                    if let position = positions[key] { cells[position] = value }
                }
            default:
                throw wrongWidth(index, names.count)
            }
            data.append(row: cells)
            index += 1
        }
        guard columns != nil else {
            throw XalorraError.invalid("columns", "expected the column names (or rows as objects)")
        }
        return data
    }

    /// The keys of the object row the reader is at, in order, leaving the reader where it was.
    private static func firstRowKeys(_ reader: JSONReader) throws -> [String] {
        var copy = reader
        var keys: [String] = []
        try copy.enterObject()
        while let key = try copy.nextKey() {
            keys.append(key)
            try copy.skip()
        }
        return keys
    }

    private static func wrongWidth(_ index: Int, _ width: Int) -> XalorraError {
        XalorraError.invalid("rows[\(index)]", "expected \(width) values (one per column) or an object")
    }

    /// One cell: a number or `null` (missing).
    private static func cell(_ reader: inout JSONReader, field: String) throws -> Number? {
        switch try reader.peek() {
        case .number: return try reader.number()
        case .null:
            _ = try reader.value()
            return nil
        case let kind:
            try reader.skip()
            throw XalorraError.invalid(field, "expected a number or null, got \(kind.name)")
        }
    }
}
