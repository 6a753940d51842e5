public import XalorraML

/// Predictions to store together, in one transaction: a single request is a batch of one.
public struct PredictionBatch: Sendable {
    public let timestamp: Timestamp
    public let tenant: String
    public let userID: String
    public let model: String
    public let version: String
    /// One input row per prediction, in the model's order; a `nil` cell is a missing value, logged as one.
    public let inputs: FeatureMatrix
    /// One output per row.
    public let predictions: [Number]
    /// Compute time per row, in microseconds.
    public let latencyMicros: Int64
    /// The rows as the store keeps them: ``PredictionBlock``s of at most ``PredictionBlock/maxRows`` rows each.
    let blocks: [[UInt8]]
    /// The rows' lines of the seed's text log, newline-terminated, when formatted ahead (see ``writeLogLines(_:)``);
    /// empty when the text log is off or the batch is larger than ``preformattedRows``.
    let logLines: [UInt8]
    /// Whether the rows have lines in the text log.
    let textLog: Bool

    /// Batches of up to this many rows format their text log when made; larger ones when it is written, this many
    /// rows at a time: the text of 10,000 rows is larger than the request that carried them, and of a million rows
    /// (an offline file) hundreds of megabytes.
    static let preformattedRows = PredictionBlock.maxRows

    /// Creates a batch; `inputs` and `predictions` must have the same number of rows.
    ///
    /// What the store and the text log will write is made here, on the caller's task, rather than when the batch is
    /// committed: the group committer is one writer for every request of the process, and whatever it does per row
    /// is done on one core.
    /// - Parameter textLog: format the text log's lines (the setting `XALORRA_PREDICTION_LOG`).
    public init(
        timestamp: Timestamp, tenant: String, userID: String, model: String, version: String,
        inputs: FeatureMatrix, predictions: [Number], latencyMicros: Int64, textLog: Bool = true
    ) {
        precondition(inputs.rowCount == predictions.count, "one prediction per input row")
        self.timestamp = timestamp
        self.tenant = tenant
        self.userID = userID
        self.model = model
        self.version = version
        self.inputs = inputs
        self.predictions = predictions
        self.latencyMicros = latencyMicros
        self.blocks = PredictionBlock.encode(inputs: inputs, predictions: predictions)
        self.textLog = textLog
        self.logLines = textLog && predictions.count <= Self.preformattedRows
            ? Self.logLines(timestamp: timestamp, model: model, inputs: inputs, predictions: predictions,
                            rows: 0..<predictions.count)
            : []
    }

    /// Hands the rows' text log lines to `write`, in order: in one piece when they were formatted ahead, otherwise
    /// formatted ``preformattedRows`` rows at a time. Nothing when the text log is off.
    func writeLogLines(_ write: ([UInt8]) throws(XalorraError) -> Void) throws(XalorraError) {
        guard textLog else { return }
        if !logLines.isEmpty {
            try write(logLines)
            return
        }
        for start in stride(from: 0, to: predictions.count, by: Self.preformattedRows) {
            let rows = start..<min(start + Self.preformattedRows, predictions.count)
            try write(Self.logLines(timestamp: timestamp, model: model, inputs: inputs, predictions: predictions, rows: rows))
        }
    }

    /// The features of row `index`, a missing value (`nil`) in its place.
    func input(_ index: Int) -> [Number?] { Array(inputs.row(index)) }

    /// One seed-format line per row (`[time] model=m input=[1, null, 3] prediction=6`), each ending in a newline:
    /// the text ``PredictionRecord/appendLogLine(timestamp:model:input:prediction:into:)`` writes, written straight
    /// into one buffer sized for the longest text each number may take (most of a batch's cost was appending).
    static func logLines(
        timestamp: Timestamp, model: String, inputs: FeatureMatrix, predictions: [Number], rows range: Range<Int>
    ) -> [UInt8] {
        // Every row of a batch shares its time stamp and model: that prefix is formatted once, with ` input=[`.
        var prefix: [UInt8] = []
        PredictionRecord.appendLogPrefix(timestamp: timestamp, model: model, into: &prefix)
        prefix.append(contentsOf: " input=[".utf8)
        let middle = Array("] prediction=".utf8)
        guard !range.isEmpty else { return [] }
        let rows = range.count
        let cells = inputs.offsets[range.upperBound] - inputs.offsets[range.lowerBound]
        // Each number takes at most `bufferSize` bytes (a double's text; an integer has 20 at most, `null` 4), and
        // each cell 2 more for the separator: the bound holds wherever a number starts.
        let number = DoubleText.bufferSize
        let bound = rows * (prefix.count + middle.count + number + 1) + cells * (number + 2)
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            var cursor = buffer.baseAddress!
            func copy(_ bytes: [UInt8]) {
                bytes.withUnsafeBufferPointer { source in
                    cursor.update(from: source.baseAddress!, count: source.count)
                    cursor += source.count
                }
            }
            func write(_ value: Number) {
                switch value {
                case .int(let integer): cursor += LogText.write(integer, into: cursor)
                case .double(let double) where double.isFinite: cursor += DoubleText.write(double, into: cursor)
                case .double(let double):
                    for byte in Number.format(double).utf8.prefix(number) {
                        cursor.pointee = byte
                        cursor += 1
                    }
                }
            }
            inputs.values.withUnsafeBufferPointer { values in
                for row in range {
                    copy(prefix)
                    let start = inputs.offsets[row]
                    let end = inputs.offsets[row + 1]
                    for index in start..<end {
                        if index > start {
                            cursor[0] = UInt8(ascii: ",")
                            cursor[1] = UInt8(ascii: " ")
                            cursor += 2
                        }
                        if let cell = values[index] {
                            write(cell)
                        } else {
                            for byte in "null".utf8 {
                                cursor.pointee = byte
                                cursor += 1
                            }
                        }
                    }
                    copy(middle)
                    write(predictions[row])
                    cursor.pointee = 0x0A
                    cursor += 1
                }
            }
            count = cursor - buffer.baseAddress!
        }
    }
}

/// Integers written into raw memory, for ``PredictionBatch/logLines(timestamp:model:inputs:predictions:)``.
enum LogText {
    /// Writes the decimal text of `value` at `out` (at least 20 bytes writable) and returns its length.
    static func write(_ value: Int64, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = value.magnitude
        var start = 0
        if value < 0 {
            out[0] = UInt8(ascii: "-")
            start = 1
        }
        var digits = 1
        var scan = magnitude
        while scan >= 10 {
            scan /= 10
            digits += 1
        }
        var index = start + digits
        repeat {
            index -= 1
            out[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        return start + digits
    }
}
