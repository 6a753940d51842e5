/// Why a data file could not be read, with its 1-based line and the column where one applies.
public struct DatasetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line of the input (the header is line 1).
    public let line: Int
    /// The column name or position, when the problem is one cell.
    public let column: String?
    /// What is wrong.
    public let reason: String

    /// Creates an error for `line`, optionally naming `column`.
    public init(line: Int, column: String? = nil, reason: String) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// `line 3, column 'b': 'x' is not a number`.
    public var description: String {
        if let column { return "line \(line), column '\(column)': \(reason)" }
        return "line \(line): \(reason)"
    }
}
