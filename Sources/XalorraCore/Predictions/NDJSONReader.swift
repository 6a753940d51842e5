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
                row.removeAll(keepingCapacity: true)
                if fastRow(text, into: &row) {
                    matrix.append(row: row)
                    continue
                }
                row.removeAll(keepingCapacity: true)
                let value: JSONValue
                do {
                    value = try JSONParser.parse(text)
                } catch {
                    throw DatasetError(line: line, reason: "not valid JSON (\(error))")
                }
                guard case .array(let cells)? = value["features"] else {
                    throw DatasetError(line: line, reason: #"expected an object {"features": [numbers]}"#)
                }
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

    /// Reads the exact shape `{"features":[1,2,null]}` (white space allowed) without building a JSON tree: batch
    /// files are millions of such lines. Anything else, valid or not, returns false and takes the full parser,
    /// so what is accepted and every error message stay the parser's.
    static func fastRow(_ text: UnsafeBufferPointer<UInt8>, into row: inout [Number?]) -> Bool {
        var index = 0
        func skipSpace() {
            while index < text.count, text[index] == 0x20 || text[index] == 0x09 || text[index] == 0x0D { index += 1 }
        }
        func expect(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard index + count <= text.count else { return false }
            for offset in 0..<count where text[index + offset] != literal.utf8Start[offset] { return false }
            index += count
            return true
        }
        skipSpace()
        guard expect("{") else { return false }
        skipSpace()
        guard expect("\"features\"") else { return false }
        skipSpace()
        guard expect(":") else { return false }
        skipSpace()
        guard expect("[") else { return false }
        skipSpace()
        if index < text.count, text[index] == UInt8(ascii: "]") {
            index += 1
        } else {
            while true {
                skipSpace()
                if expect("null") {
                    row.append(nil)
                } else {
                    let start = index
                    while index < text.count, text[index] != UInt8(ascii: ","), text[index] != UInt8(ascii: "]"),
                        text[index] != 0x20, text[index] != 0x09
                    {
                        index += 1
                    }
                    let token = UnsafeBufferPointer(rebasing: text[start..<index])
                    guard isPlainJSONNumber(token), let number = Number(bytes: token) else { return false }
                    row.append(number)
                }
                skipSpace()
                guard index < text.count else { return false }
                if text[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard text[index] == UInt8(ascii: "]") else { return false }
                index += 1
                break
            }
        }
        skipSpace()
        guard expect("}") else { return false }
        skipSpace()
        return index == text.count
    }

    /// Whether `token` is written as JSON writes numbers (`Number` alone also takes `+1`, `.5`, `5.` and `01`).
    private static func isPlainJSONNumber(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = token.first == UInt8(ascii: "-") ? 1 : 0
        guard index < token.count, token[index] &- 48 < 10 else { return false }
        if token[index] == UInt8(ascii: "0"), index + 1 < token.count, token[index + 1] &- 48 < 10 { return false }
        while index < token.count {
            if token[index] == UInt8(ascii: ".") {
                guard index + 1 < token.count, token[index + 1] &- 48 < 10 else { return false }
            }
            index += 1
        }
        return true
    }
}
