/// Rows of features stored flat: the input of a batch prediction or a training set.
///
/// Rows from CSV all have the header's width; rows from NDJSON may differ in length (the baseline model sums any
/// number of features). A `nil` cell is a missing value (an empty CSV cell or a JSON `null`).
public struct FeatureMatrix: Sendable, Equatable {
    /// The column names from the CSV header; empty when the rows came without one (NDJSON).
    public var columns: [String]
    /// All cells, row after row.
    public private(set) var values: [Number?]
    /// Where each row starts in `values`, plus the end of the last row.
    public private(set) var offsets: [Int]
    /// The 1-based input line where each row starts, when the reader recorded it (CSV does); see ``line(ofRow:)``.
    public private(set) var lines: [Int]

    /// Creates an empty matrix.
    public init(columns: [String] = []) {
        self.columns = columns
        self.values = []
        self.offsets = [0]
        self.lines = []
    }

    /// The number of rows.
    public var rowCount: Int { offsets.count - 1 }

    /// The cells of row `index`.
    public func row(_ index: Int) -> ArraySlice<Number?> {
        values[offsets[index]..<offsets[index + 1]]
    }

    /// Appends one row.
    public mutating func append(row: some Collection<Number?>) {
        values.append(contentsOf: row)
        offsets.append(values.count)
    }

    /// Appends one row that starts on 1-based input `line`, so errors found later can point at the file.
    public mutating func append(row: some Collection<Number?>, line: Int) {
        append(row: row)
        lines.append(line)
    }

    /// The 1-based input line where row `index` starts; `nil` unless every row was appended with its line.
    public func line(ofRow index: Int) -> Int? {
        lines.count == rowCount ? lines[index] : nil
    }

    /// Reserves room for `rows` more rows of `width` cells.
    public mutating func reserve(rows: Int, width: Int) {
        values.reserveCapacity(values.count + rows * width)
        offsets.reserveCapacity(offsets.count + rows)
        lines.reserveCapacity(lines.count + rows)
    }

    /// Two matrices are equal when they hold the same columns and cells; where the rows came from does not count.
    public static func == (lhs: FeatureMatrix, rhs: FeatureMatrix) -> Bool {
        lhs.columns == rhs.columns && lhs.offsets == rhs.offsets && lhs.values == rhs.values
    }
}
