import XalorraCore

/// Aligned columns for people: a header row, then one row per item, the last column left ragged.
///
/// Every cell is escaped for the terminal (``TerminalText``, one-line mode) before the widths are measured, so a
/// stored value can neither break a row nor shift the columns after it: the escaped text is what is shown and
/// what is counted.
struct TextTable {
    let headers: [String]
    var rows: [[String]] = []

    init(_ headers: [String]) { self.headers = headers.map { TerminalText.escaped($0) } }

    mutating func add(_ row: [String]) { rows.append(row.map { TerminalText.escaped($0) }) }

    /// The lines of the table, the header first.
    func render() -> [String] {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 || index >= widths.count
                    ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        return [line(headers)] + rows.map(line)
    }
}
