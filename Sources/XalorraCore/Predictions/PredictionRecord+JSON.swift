import XalorraML

/// An item of `GET /logs` (and of its live feeds), both directions: the server writes it, `RemoteAPI` reads it back
/// into the record `LocalAPI` returns.
extension PredictionRecord: JSONRepresentable, JSONDecodable {
    /// `{id, timestamp, model, version, input, prediction, user_id, tenant, latency_ms}` (DESIGN §2); a missing value
    /// of `input` is `null` in its place.
    public var json: JSONValue {
        .object([
            ("id", .int(id)), ("timestamp", .string(timestamp.iso8601)), ("model", .string(model)),
            ("version", .string(version)), ("input", .array(input.map { $0.map(JSONValue.number) ?? .null })),
            ("prediction", .number(prediction)), ("user_id", .string(userID)), ("tenant", .string(tenant)),
            ("latency_ms", .number(.double(Double(latencyMicros) / 1000))),
        ])
    }

    /// Reads ``json`` back; a latency that is not a sane duration is refused rather than trapped on.
    public init(json: JSONValue) throws(XalorraError) {
        let text = try json.text("timestamp")
        guard let time = Timestamp(iso: text) else { throw JSONValue.unexpectedResponse("timestamp '\(text)'") }
        // Milliseconds with three decimals, as the server writes them; anything that is not a sane duration (a
        // response is not trusted to be one) is refused rather than trapped on when it becomes microseconds.
        let latency = try json.numberField("latency_ms").doubleValue
        guard latency >= 0, latency < 1e12 else { throw JSONValue.unexpectedResponse("latency_ms \(latency)") }
        self.init(
            id: try json.integer("id"), timestamp: time, model: try json.text("model"),
            version: try json.text("version"), input: try Self.cells(json),
            prediction: try json.numberField("prediction"), userID: try json.text("user_id"),
            tenant: try json.text("tenant"), latencyMicros: Int64((latency * 1000).rounded()))
    }

    /// The `input` of an item: numbers, `null` for a missing value; anything else is not a logged row.
    private static func cells(_ json: JSONValue) throws(XalorraError) -> [Number?] {
        try json.list("input").map { item throws(XalorraError) -> Number? in
            switch item {
            case .number(let number): return number
            case .null: return nil
            default: throw JSONValue.unexpectedResponse("'input' holds \(item.typeName)")
            }
        }
    }
}
