import XalorraML

/// How `xalorra logs export` and `GET /logs/export` write the prediction log: the one home of both wire formats, so
/// offline and remote print the same bytes.
public enum LogExportFormat: String, Sendable, CaseIterable {
    /// One `GET /logs` item per line: `{"id":1,"timestamp":…,"latency_ms":0.012}` and a line feed.
    case ndjson
    /// A header row, then one row per prediction; fields holding a comma, a double quote, CR or LF are quoted as
    /// RFC 4180 says (`"a ""b"""`); lines end with a line feed. `input` is one field, the features joined by single
    /// spaces, a missing value empty in its place (`1  3` for `[1,null,3]`): split on one space, it gives the cells
    /// back as a CSV row has them, an empty cell for a missing value.
    case csv

    /// The format when none is named.
    public static let standard = LogExportFormat.ndjson

    /// The CSV header row's fields, in order.
    public static let csvColumns = [
        "id", "timestamp", "model", "version", "user_id", "tenant", "latency_ms", "prediction", "input",
    ]

    /// The response's media type.
    public var contentType: String {
        switch self {
        case .ndjson: "application/x-ndjson"
        case .csv: "text/csv; charset=utf-8"
        }
    }

    /// Appends what comes before the first row: the CSV header line; nothing for NDJSON.
    public func appendHeader(into out: inout [UInt8]) {
        guard self == .csv else { return }
        for (index, column) in Self.csvColumns.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: column.utf8)
        }
        out.append(0x0A)
    }

    /// Appends one prediction's line.
    public func append(_ record: PredictionRecord, into out: inout [UInt8]) {
        switch self {
        case .ndjson:
            // The item of `GET /logs`, through its one JSON form.
            JSONWriter.write(record.json, into: &out)
        case .csv:
            JSONWriter.appendInteger(record.id, into: &out)
            out.append(UInt8(ascii: ","))
            record.timestamp.appendLogText(into: &out)
            out.append(contentsOf: "Z,".utf8)
            for text in [record.model, record.version, record.userID, record.tenant] {
                Self.appendCSVField(text, into: &out)
                out.append(UInt8(ascii: ","))
            }
            // `latency_ms` as the item's JSON has it (microseconds / 1000); a test holds the two formats equal.
            let milliseconds = Number.double(Double(record.latencyMicros) / 1000)
            JSONWriter.write(number: milliseconds, into: &out)
            out.append(UInt8(ascii: ","))
            JSONWriter.write(number: record.prediction, into: &out)
            out.append(UInt8(ascii: ","))
            for (index, cell) in record.input.enumerated() {
                if index > 0 { out.append(UInt8(ascii: " ")) }
                if let cell { JSONWriter.write(number: cell, into: &out) }
            }
        }
        out.append(0x0A)
    }

    /// Appends `text` as one CSV field: as it is, or in double quotes with its quotes doubled when it holds a comma,
    /// a double quote, CR or LF (RFC 4180 §2).
    static func appendCSVField(_ text: String, into out: inout [UInt8]) {
        let utf8 = text.utf8
        let quoted = utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        guard quoted else {
            out.append(contentsOf: utf8)
            return
        }
        out.append(UInt8(ascii: "\""))
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") { out.append(byte) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
    }
}
