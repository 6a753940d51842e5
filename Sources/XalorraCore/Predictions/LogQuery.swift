/// Which logged predictions to list: the filters of `GET /logs` and `xalorra logs`.
public struct LogQuery: Sendable, Equatable {
    /// The largest page a caller may ask for.
    public static let maxLimit = 1000

    /// Only this model's predictions.
    public var model: String?
    /// Only predictions at or after this time.
    public var since: Timestamp?
    /// Only predictions at or before this time.
    public var until: Timestamp?
    /// Only this tenant's predictions; `nil` means every tenant (admins only).
    public var tenant: String?
    /// How many to return, newest first.
    public var limit: Int
    /// How many of the newest matches to skip.
    public var offset: Int

    /// Creates a query; the limit must be 1…``maxLimit`` and the offset not negative.
    public init(
        model: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil, tenant: String? = nil,
        limit: Int = Paging.defaultLimit, offset: Int = 0
    ) throws(XalorraError) {
        try XalorraError.check(Paging.problems(limit: limit, offset: offset, max: Self.maxLimit))
        if let since, let until, since > until {
            throw XalorraError.invalid("since", "is after until")
        }
        self.model = model
        self.since = since
        self.until = until
        self.tenant = tenant
        self.limit = limit
        self.offset = offset
    }
}
