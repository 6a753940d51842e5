import XalorraCore

/// The Aksara API's `/users/*` and the admin's `/admin/users*`, with its status codes, messages and envelope.
enum UsersController {
    /// `POST /users/register`.
    static let register: RouteHandler = { input in
        let user = try newUser(input, admin: false)
        let created = try await input.api.register(user)
        return .json(Envelope.success(created.json, message: UserMessage.registered), status: 201)
    }

    /// `POST /users/login`.
    static let login: RouteHandler = { input in
        var fields = try BodyFields(input)
        let login = fields.string("username", required: true)
        let password = fields.string("password", required: true)
        try fields.validate { () throws(XalorraError) in () }
        let result = try await input.api.login(login ?? "", password: password ?? "")
        return .json(Envelope.success(result.json, message: UserMessage.loggedIn))
    }

    /// `POST /users/refresh`.
    static let refresh: RouteHandler = { input in
        let pair = try await input.api.refresh(try refreshToken(input))
        return .json(Envelope.success(pair.json, message: UserMessage.refreshed))
    }

    /// `POST /users/logout`.
    static let logout: RouteHandler = { input in
        try await input.api.logout(try refreshToken(input))
        return .noContent
    }

    /// `GET /users/profile`.
    static let profile: RouteHandler = { input in
        .json(Envelope.success(try await input.api.profile().json, message: UserMessage.profile))
    }

    /// `PUT /users/profile`.
    static let updateProfile: RouteHandler = { input in
        var fields = try BodyFields(input)
        let email = fields.string("email")
        let name = fields.string("nama_lengkap")
        let changes = try fields.validate { () throws(XalorraError) in try UserChanges(email: email, fullName: name) }
        let user = try await input.api.updateProfile(changes)
        return .json(Envelope.success(user.json, message: UserMessage.profileUpdated))
    }

    /// `POST /users/change-password`.
    static let changePassword: RouteHandler = { input in
        var fields = try BodyFields(input)
        let current = fields.string("current_password", required: true)
        let new = fields.string("new_password", required: true)
        try fields.validate { () throws(XalorraError) in
            try XalorraError.check([("new_password", new.flatMap(UserRules.password))])
        }
        try await input.api.changePassword(current: current ?? "", new: new ?? "")
        return .json(Envelope.success(.null, message: UserMessage.passwordChanged))
    }

    /// `GET /admin/users`.
    static let users: RouteHandler = { input in
        let query = try UserQuery(
            search: input.query["search"], limit: try input.query.integer("limit", default: Paging.defaultLimit),
            offset: try input.query.integer("offset", default: 0))
        return .json(try await input.api.users(query).json)
    }

    /// `POST /admin/users`.
    static let createUser: RouteHandler = { input in
        let created = try await input.api.createUser(try newUser(input, admin: true))
        return .json(Envelope.success(created.json, message: UserMessage.created), status: 201)
    }

    /// `GET /admin/users/{username}`.
    static let user: RouteHandler = { input in
        .json(Envelope.success(
            try await input.api.user(input.parameter("username")).json, message: UserMessage.retrieved))
    }

    /// `PATCH /admin/users/{username}`.
    static let updateUser: RouteHandler = { input in
        var fields = try BodyFields(input)
        let email = fields.string("email")
        let name = fields.string("nama_lengkap")
        let role = fields.role("role")
        let tenant = fields.string("tenant")
        let active = fields.bool("is_active")
        let password = fields.string("password")
        let changes = try fields.validate { () throws(XalorraError) in
            try UserChanges(
                email: email, fullName: name, role: role, tenant: tenant, isActive: active, password: password)
        }
        let user = try await input.api.updateUser(input.parameter("username"), changes)
        return .json(Envelope.success(user.json, message: UserMessage.updated))
    }

    /// `DELETE /admin/users/{username}`.
    static let deleteUser: RouteHandler = { input in
        try await input.api.deleteUser(input.parameter("username"))
        return .noContent
    }

    /// `{"username","email","nama_lengkap","password"}`, and for an admin also `role` and `tenant`.
    private static func newUser(_ input: HTTPInput, admin: Bool) throws(XalorraError) -> NewUser {
        var fields = try BodyFields(input)
        let username = fields.string("username", required: true)
        let email = fields.string("email", required: true)
        let name = fields.string("nama_lengkap", required: true)
        let password = fields.string("password", required: true)
        let role = admin ? fields.role("role") : nil
        let tenant = admin ? fields.string("tenant") : nil
        return try fields.validate { () throws(XalorraError) in
            try NewUser(
                username: username ?? "", email: email ?? "", fullName: name ?? "", password: password ?? "",
                role: role ?? .user, tenant: tenant)
        }
    }

    private static func refreshToken(_ input: HTTPInput) throws(XalorraError) -> String {
        var fields = try BodyFields(input)
        let token = fields.string("refresh_token", required: true)
        try fields.validate { () throws(XalorraError) in () }
        return token ?? ""
    }
}
