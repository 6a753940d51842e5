/// The Aksara success envelope, used by every endpoint that is not one of the Xalorra seed's four.
public enum Envelope {
    /// `{"data": …, "message": …, "timestamp": …}`.
    public static func success(_ data: JSONValue, message: String, at time: Timestamp = .now()) -> JSONValue {
        .object([("data", data), ("message", .string(message)), ("timestamp", .string(time.iso8601Seconds))])
    }

    /// `{"error": {"code","message","details"?}, "timestamp": …}`.
    public static func failure(_ error: XalorraError, at time: Timestamp = .now()) -> JSONValue {
        .object([("error", error.json), ("timestamp", .string(time.iso8601Seconds))])
    }
}
