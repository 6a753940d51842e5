/// Reads numeric CSV with a header row (RFC 4180 quoting, `,` separator, LF or CRLF line ends).
///
/// Every cell must be a finite number or empty (a missing value); the first bad cell is reported with its line and
/// column name. Blank lines are skipped.
public enum CSVReader {
    /// Parses `bytes` into a matrix whose columns are the header's names.
    public static func read(_ bytes: [UInt8]) throws(DatasetError) -> FeatureMatrix {
        try bytes.withUnsafeBufferPointer { buffer throws(DatasetError) in try read(buffer) }
    }

    /// Parses the UTF-8 text in `buffer`; see ``read(_:)-(Array<UInt8>)``.
    public static func read(_ buffer: UnsafeBufferPointer<UInt8>) throws(DatasetError) -> FeatureMatrix {
        var scanner = CSVScanner(buffer: buffer)
        var header: [String] = []
        while header.isEmpty, !scanner.atEnd {
            try scanner.record { field throws(DatasetError) in header.append(String(decoding: field, as: UTF8.self)) }
            if header == [""] { header = [] }
        }
        guard !header.isEmpty else { throw DatasetError(line: 1, reason: "the file is empty; expected a header row") }
        let width = header.count
        var matrix = FeatureMatrix(columns: header)
        matrix.reserve(rows: buffer.count / max(2 * width, 1), width: width)
        var row: [Number?] = []
        row.reserveCapacity(width)
        while !scanner.atEnd {
            let line = scanner.line
            row.removeAll(keepingCapacity: true)
            let count = try scanner.record { field throws(DatasetError) in
                guard row.count < width else { return }
                if field.isEmpty {
                    row.append(nil)
                } else if let number = Number(bytes: field) {
                    row.append(number)
                } else {
                    let text = String(decoding: field, as: UTF8.self)
                    throw DatasetError(line: line, column: header[row.count], reason: "'\(text)' is not a number")
                }
            }
            if count == 1, row == [nil] { continue }  // a blank line
            guard count == width else {
                throw DatasetError(line: line, reason: "\(count) cells, but the header has \(width)")
            }
            matrix.append(row: row, line: line)
        }
        return matrix
    }
}

/// Walks a CSV buffer one record at a time.
struct CSVScanner {
    let buffer: UnsafeBufferPointer<UInt8>
    var position = 0
    /// The 1-based line where the next record starts.
    private(set) var line = 1

    init(buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
        // Skip a UTF-8 byte order mark, which spreadsheet exports often start with.
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { position = 3 }
    }

    var atEnd: Bool { position >= buffer.count }

    /// Hands each field of the next record, trimmed of spaces and unquoted, to `visit`; returns the field count.
    @discardableResult
    mutating func record(
        _ visit: (UnsafeBufferPointer<UInt8>) throws(DatasetError) -> Void
    ) throws(DatasetError) -> Int {
        var count = 0
        while true {
            if position < buffer.count, buffer[position] == UInt8(ascii: "\"") {
                let value = try quotedField()
                try value.withUnsafeBufferPointer { field throws(DatasetError) in try visit(trimmed(field)) }
            } else {
                let start = position
                while position < buffer.count {
                    let byte = buffer[position]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { break }
                    position += 1
                }
                try visit(trimmed(UnsafeBufferPointer(rebasing: buffer[start..<position])))
            }
            count += 1
            guard position < buffer.count else { return count }
            let separator = buffer[position]
            position += 1
            if separator == UInt8(ascii: ",") { continue }
            if separator == UInt8(ascii: "\r"), position < buffer.count, buffer[position] == UInt8(ascii: "\n") {
                position += 1
            }
            line += 1
            return count
        }
    }

    /// Reads `"..."` with `""` as an escaped quote.
    private mutating func quotedField() throws(DatasetError) -> [UInt8] {
        let startLine = line
        var value: [UInt8] = []
        position += 1
        while true {
            guard position < buffer.count else {
                throw DatasetError(line: startLine, reason: "a quoted cell is not closed")
            }
            let byte = buffer[position]
            position += 1
            if byte == UInt8(ascii: "\"") {
                guard position < buffer.count, buffer[position] == UInt8(ascii: "\"") else { return value }
                position += 1
            } else if byte == UInt8(ascii: "\n") {
                line += 1
            }
            value.append(byte)
        }
    }

    /// Drops surrounding spaces and tabs, which hand-written CSV often has after commas.
    private func trimmed(_ field: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var lower = 0
        var upper = field.count
        while lower < upper, field[lower] == 0x20 || field[lower] == 0x09 { lower += 1 }
        while upper > lower, field[upper - 1] == 0x20 || field[upper - 1] == 0x09 { upper -= 1 }
        return UnsafeBufferPointer(rebasing: field[lower..<upper])
    }
}
