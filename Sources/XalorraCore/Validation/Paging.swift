/// `limit` and `offset`, as every list takes them: the default page size, the bounds and the query parameters'
/// schema, declared once for the server, the CLI's options and `/openapi.json`.
public enum Paging {
    /// The page size when the caller names none.
    public static let defaultLimit = 20
    /// How many matches to skip: any whole number from 0.
    public static let offset = IntegerRule(atLeast: 0)

    /// The page size of a list whose pages hold at most `max` items: 1 to `max`.
    public static func limit(max: Int) -> IntegerRule { IntegerRule(1...max) }

    /// The problems of a page request (`Limit must be between 1 and 100`), for ``XalorraError/check(_:)``.
    public static func problems(limit: Int, offset: Int, max: Int) -> [(field: String, message: String?)] {
        [
            ("limit", Self.limit(max: max).problem(limit).map { "Limit \($0), got \(limit)" }),
            ("offset", Self.offset.problem(offset).map { "Offset \($0), got \(offset)" }),
        ]
    }

    /// The `limit` and `offset` query parameters of a list whose pages hold at most `max` items.
    public static func parameters(max: Int, defaultLimit: Int = Paging.defaultLimit) -> [Route.QueryParameter] {
        [
            .init("limit", Schema.withDefault(limit(max: max).schema, .int(defaultLimit))),
            .init("offset", Schema.withDefault(offset.schema, 0)),
        ]
    }
}
