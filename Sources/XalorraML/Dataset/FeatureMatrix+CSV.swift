/// Writing a matrix back as CSV: how a training set travels to a server (`POST /train/{model}`).
extension FeatureMatrix {
    /// The matrix as CSV that ``CSVReader`` reads back to an equal matrix: the header row, then one line per row,
    /// LF line ends; a missing value is an empty cell, a number is written as ``Number/description`` (integers
    /// without a fraction, doubles in their shortest round-trip form). A column name containing `,`, `"` or a line
    /// break is quoted. (A row that is a single missing value reads back as a blank line, which the reader skips,
    /// as it would in any CSV file.)
    public func csv() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 8 + columns.count * 16)
        for (index, name) in columns.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            Self.appendHeaderCell(name, into: &out)
        }
        out.append(0x0A)
        for row in 0..<rowCount {
            var first = true
            for cell in self.row(row) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                if let cell { out.append(contentsOf: cell.description.utf8) }
            }
            out.append(0x0A)
        }
        return out
    }

    /// `name`, quoted with `""` for each quote when it holds a character that would end or split the cell.
    private static func appendHeaderCell(_ name: String, into out: inout [UInt8]) {
        let special: Set<UInt8> = [UInt8(ascii: ","), UInt8(ascii: "\""), 0x0A, 0x0D]
        guard name.utf8.contains(where: special.contains) else {
            out.append(contentsOf: name.utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in name.utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}
