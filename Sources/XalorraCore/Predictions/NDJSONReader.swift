import XalorraML

/// Reads batch rows written as NDJSON: one `{"features": [1, 2, null]}` object per line (`null` is missing).
public enum NDJSONReader {
    /// Parses `bytes`; blank lines are skipped, anything else that is not such an object is an error naming its line.
    public static func read(_ bytes: [UInt8]) throws(DatasetError) -> FeatureMatrix {
        var matrix = FeatureMatrix()
        matrix.reserve(rows: bytes.count / 24, width: 3)
        var row: [Number?] = []
        var line = 0
        var start = 0
        try bytes.withUnsafeBufferPointer { buffer throws(DatasetError) in
            while start < buffer.count {
                line += 1
                var end = start
                while end < buffer.count, buffer[end] != 0x0A { end += 1 }
                let text = UnsafeBufferPointer(rebasing: buffer[start..<end])
                start = end + 1
                guard text.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { continue }
                let value: JSONValue
                do {
                    value = try JSONParser.parse(text)
                } catch {
                    throw DatasetError(line: line, reason: "not valid JSON (\(error))")
                }
                guard case .array(let cells)? = value["features"] else {
                    throw DatasetError(line: line, reason: #"expected an object {"features": [numbers]}"#)
                }
                row.removeAll(keepingCapacity: true)
                for (index, cell) in cells.enumerated() {
                    switch cell {
                    case .number(let number): row.append(number)
                    case .null: row.append(nil)
                    default:
                        throw DatasetError(
                            line: line, column: "features[\(index)]", reason: "expected a number, got \(cell.typeName)")
                    }
                }
                matrix.append(row: row)
            }
        }
        return matrix
    }
}
