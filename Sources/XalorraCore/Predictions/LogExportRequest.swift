/// An export of the prediction log: every row matching the filters of `GET /logs` (no page, no cap), oldest first,
/// in one ``LogExportFormat``. `xalorra logs export` builds it from its options, the server from the query of
/// `GET /logs/export`, and `RemoteAPI` writes that query from it.
public struct LogExportRequest: Sendable, Equatable {
    /// The filters (`model`, `since`, `until`, `tenant`); the limit is the page size the store is read in.
    public var filters: LogQuery
    /// How the rows are written.
    public var format: LogExportFormat

    /// Creates a request; `since` after `until` is a 422, as for `GET /logs`.
    public init(
        model: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil, tenant: String? = nil,
        format: LogExportFormat = .standard
    ) throws(XalorraError) {
        self.filters = try LogQuery(
            model: model, since: since, until: until, tenant: tenant, limit: LogQuery.maxLimit)
        self.format = format
    }

    /// Reads `GET /logs/export?format=…&model=…&since=…&until=…&tenant=…`: `format` is `ndjson` (the default) or
    /// `csv`; `since` and `until` an ISO time or a duration ago (`15m`), resolved against `now`.
    public init(parameters: [String: String], now: Timestamp = .now()) throws(XalorraError) {
        func time(_ name: String) throws(XalorraError) -> Timestamp? {
            guard let text = parameters[name] else { return nil }
            guard let time = Timestamp(isoOrAgo: text, now: now) else {
                throw XalorraError.invalid(name, "'\(text)' is not \(Timestamp.isoOrAgoExpectation)")
            }
            return time
        }
        var format = LogExportFormat.standard
        if let text = parameters["format"] {
            guard let chosen = LogExportFormat(rawValue: text) else {
                throw XalorraError.invalid(
                    "format", "'\(text)' is not one of \(LogExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = chosen
        }
        try self.init(
            model: parameters["model"], since: time("since"), until: time("until"), tenant: parameters["tenant"],
            format: format)
    }

    /// The query of `GET /logs/export` for this request, times written to the microsecond so that the server reads
    /// back exactly the instants the CLI resolved.
    public var parameters: [(String, String)] {
        var items = [("format", format.rawValue)]
        if let model = filters.model { items.append(("model", model)) }
        if let since = filters.since { items.append(("since", since.iso8601)) }
        if let until = filters.until { items.append(("until", until.iso8601)) }
        if let tenant = filters.tenant { items.append(("tenant", tenant)) }
        return items
    }
}
