import XalorraCore

extension RemoteAPI {
    public func register(_ user: NewUser) async throws(XalorraError) -> User {
        try User(json: await send(.register, body: Self.body(user)).member("data"))
    }

    public func login(_ login: String, password: String) async throws(XalorraError) -> LoginResult {
        let body = JSONValue.object([("username", .string(login)), ("password", .string(password))])
        return try LoginResult(json: await send(.login, body: body).member("data"))
    }

    public func refresh(_ refreshToken: String) async throws(XalorraError) -> TokenPair {
        let body = JSONValue.object([("refresh_token", .string(refreshToken))])
        return try TokenPair(json: await send(.refresh, body: body).member("data"))
    }

    public func logout(_ refreshToken: String) async throws(XalorraError) {
        _ = try await send(.logout, body: .object([("refresh_token", .string(refreshToken))]))
    }

    public func profile() async throws(XalorraError) -> User {
        try User(json: await send(.profile).member("data"))
    }

    public func updateProfile(_ changes: UserChanges) async throws(XalorraError) -> User {
        try User(json: await send(.updateProfile, body: Self.body(changes)).member("data"))
    }

    public func changePassword(current: String, new: String) async throws(XalorraError) {
        let body = JSONValue.object([("current_password", .string(current)), ("new_password", .string(new))])
        _ = try await send(.changePassword, body: body)
    }

    public func createUser(_ user: NewUser) async throws(XalorraError) -> User {
        try User(json: await send(.createUser, body: Self.body(user)).member("data"))
    }

    public func users(_ query: UserQuery) async throws(XalorraError) -> Page<User> {
        var parameters = [("limit", "\(query.limit)"), ("offset", "\(query.offset)")]
        if let search = query.search { parameters.append(("search", search)) }
        return try Page(json: await send(.users, query: parameters))
    }

    public func user(_ username: String) async throws(XalorraError) -> User {
        try User(json: await send(.user, username).member("data"))
    }

    public func updateUser(_ username: String, _ changes: UserChanges) async throws(XalorraError) -> User {
        try User(json: await send(.updateUser, username, body: Self.body(changes)).member("data"))
    }

    public func deleteUser(_ username: String) async throws(XalorraError) {
        _ = try await send(.deleteUser, username)
    }

    private static func body(_ user: NewUser) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("username", .string(user.username)), ("email", .string(user.email)),
            ("nama_lengkap", .string(user.fullName)), ("password", .string(user.password)),
            ("role", .string(user.role.rawValue)),
        ]
        if let tenant = user.tenant { members.append(("tenant", .string(tenant))) }
        return .object(members)
    }

    private static func body(_ changes: UserChanges) -> JSONValue {
        var members: [(String, JSONValue)] = []
        if let email = changes.email { members.append(("email", .string(email))) }
        if let name = changes.fullName { members.append(("nama_lengkap", .string(name))) }
        if let role = changes.role { members.append(("role", .string(role.rawValue))) }
        if let tenant = changes.tenant { members.append(("tenant", .string(tenant))) }
        if let active = changes.isActive { members.append(("is_active", .bool(active))) }
        if let password = changes.password { members.append(("password", .string(password))) }
        return .object(members)
    }
}
