/// One page of a list: the Aksara paginated envelope `{data, pagination, timestamp}`.
public struct Page<Item: Sendable>: Sendable {
    /// The items on this page.
    public let items: [Item]
    /// How many items match in all.
    public let total: Int
    /// The page size asked for.
    public let limit: Int
    /// How many matches come before this page.
    public let offset: Int

    /// Creates a page.
    public init(items: [Item], total: Int, limit: Int, offset: Int) {
        self.items = items
        self.total = total
        self.limit = limit
        self.offset = offset
    }

    /// Whether more items follow this page.
    public var hasNext: Bool { offset + items.count < total }
    /// Whether items come before this page.
    public var hasPrevious: Bool { offset > 0 }
}

extension Page: JSONRepresentable where Item: JSONRepresentable {
    /// `{"data":[…],"pagination":{total,limit,offset,has_next,has_prev},"timestamp":…}`.
    public var json: JSONValue {
        .object([
            ("data", .array(items.map(\.json))),
            ("pagination", .object([
                ("total", .int(total)), ("limit", .int(limit)), ("offset", .int(offset)),
                ("has_next", .bool(hasNext)), ("has_prev", .bool(hasPrevious)),
            ])),
            ("timestamp", .string(Timestamp.now().iso8601Seconds)),
        ])
    }
}

extension Page: JSONDecodable where Item: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let pagination = try json.member("pagination")
        self.init(
            items: try json.list("data").map { item throws(XalorraError) in try Item(json: item) },
            total: Int(try pagination.integer("total")), limit: Int(try pagination.integer("limit")),
            offset: Int(try pagination.integer("offset")))
    }
}
