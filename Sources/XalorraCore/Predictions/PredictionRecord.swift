public import XalorraML

/// One logged prediction: a row of the store and an item of `GET /logs`.
public struct PredictionRecord: Sendable, Equatable {
    public let id: Int64
    public let timestamp: Timestamp
    public let model: String
    public let version: String
    /// The features as logged, in the model's order; `nil` is a missing value (an empty CSV cell, a JSON `null`, a
    /// binary tensor's NaN), kept in its place so the row says which feature was missing and can be replayed.
    public let input: [Number?]
    public let prediction: Number
    public let userID: String
    public let tenant: String
    /// Time spent computing the answer, in microseconds.
    public let latencyMicros: Int64

    /// Creates a record.
    public init(
        id: Int64, timestamp: Timestamp, model: String, version: String, input: [Number?], prediction: Number,
        userID: String, tenant: String, latencyMicros: Int64
    ) {
        self.id = id
        self.timestamp = timestamp
        self.model = model
        self.version = version
        self.input = input
        self.prediction = prediction
        self.userID = userID
        self.tenant = tenant
        self.latencyMicros = latencyMicros
    }

    /// The seed's log line: `[2025-07-20T14:21:11.768594] model=xgb-v2 input=[1, 2, 3] prediction=6`. A missing value
    /// is `null` (`input=[1, null, 3]`): the list stays the JSON array it always was (every number is written as
    /// JSON writes it), so the same reader takes it, and it is the token every JSON form of the row uses; Python's
    /// `None` or `nan` would make it neither.
    public var logLine: String {
        var out: [UInt8] = []
        PredictionRecord.appendLogLine(
            timestamp: timestamp, model: model, input: input, prediction: prediction, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the seed's log line (without a newline) for the given values.
    public static func appendLogLine(
        timestamp: Timestamp, model: String, input: some Collection<Number?>, prediction: Number,
        into out: inout [UInt8]
    ) {
        appendLogPrefix(timestamp: timestamp, model: model, into: &out)
        appendLogFields(input: input, prediction: prediction, into: &out)
    }

    /// Appends `[2025-07-20T14:21:11.768594] model=xgb-v2`, the part of the log line every row of a batch shares.
    public static func appendLogPrefix(timestamp: Timestamp, model: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        timestamp.appendLogText(into: &out)
        out.append(contentsOf: "] model=".utf8)
        out.append(contentsOf: model.utf8)
    }

    /// Appends ` input=[1, null, 3] prediction=6`, the part of the log line after the model: the one writer of it.
    /// The list is the row's JSON array with `, ` between cells (every number as JSON writes it, `null` for a gap).
    public static func appendLogFields(input: some Collection<Number?>, prediction: Number, into out: inout [UInt8]) {
        out.append(contentsOf: " input=[".utf8)
        var first = true
        for cell in input {
            if !first {
                out.append(UInt8(ascii: ","))
                out.append(UInt8(ascii: " "))
            }
            first = false
            if let cell { JSONWriter.write(number: cell, into: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(contentsOf: "] prediction=".utf8)
        JSONWriter.write(number: prediction, into: &out)
    }
}
