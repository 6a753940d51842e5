public import JWTKit

/// The claims of every xalorra token (DESIGN §3): `sub` and `user_id` carry the same username.
public struct TokenClaims: JWTPayload, Sendable, Equatable {
    /// Access tokens authorise API calls; refresh tokens only buy new access tokens.
    public enum Kind: String, Codable, Sendable {
        case access
        case refresh
    }

    /// The username (registered claim).
    public var sub: String
    /// The username again, under the seed's name.
    public var userID: String
    /// The bearer's role.
    public var role: Role
    /// The bearer's tenant.
    public var tenant: String
    /// `access` or `refresh`; tokens without it are access tokens (the seed's tokens had none).
    public var typ: Kind?
    /// Issued at, seconds since the epoch.
    public var iat: Int64?
    /// Expiry, seconds since the epoch; tokens without it are refused unless legacy tokens are accepted.
    public var exp: Int64?
    /// A unique id, so one token can be revoked.
    public var jti: String?
    /// Not before, seconds since the epoch: xalorra never issues it, but honours it.
    public var nbf: Int64?

    /// The largest time a claim may hold: 9999-12-31T23:59:59Z, the last second RFC 3339 can write.
    public static let maxNumericDate: Int64 = 253_402_300_799

    enum CodingKeys: String, CodingKey {
        case sub, role, tenant, typ, iat, exp, jti, nbf
        case userID = "user_id"
    }

    /// Creates claims for `user`.
    public init(
        user: String, role: Role, tenant: String, kind: Kind, issuedAt: Int64, expires: Int64, id: String
    ) {
        self.sub = user
        self.userID = user
        self.role = role
        self.tenant = tenant
        self.typ = kind
        self.iat = issuedAt
        self.exp = expires
        self.jti = id
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let userID = try container.decodeIfPresent(String.self, forKey: .userID)
        let sub = try container.decodeIfPresent(String.self, forKey: .sub)
        guard let name = userID ?? sub else {
            throw DecodingError.keyNotFound(
                CodingKeys.userID, .init(codingPath: [], debugDescription: "the token names no user (user_id or sub)"))
        }
        self.sub = sub ?? name
        self.userID = userID ?? name
        self.role = try container.decode(Role.self, forKey: .role)
        self.tenant = try container.decodeIfPresent(String.self, forKey: .tenant) ?? "default"
        self.typ = try container.decodeIfPresent(Kind.self, forKey: .typ)
        self.iat = try container.decodeIfPresent(Int64.self, forKey: .iat)
        self.exp = try container.decodeIfPresent(Int64.self, forKey: .exp)
        self.jti = try container.decodeIfPresent(String.self, forKey: .jti)
        self.nbf = try container.decodeIfPresent(Int64.self, forKey: .nbf)
    }

    /// Claim checks need the deployment's settings (leeway, legacy tokens) and name each failure, so
    /// ``TokenService/verify(_:now:)`` does them after the signature has been checked here by jwt-kit.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

extension TokenClaims: JSONRepresentable {
    /// The claims in the order DESIGN §3 lists them.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("sub", .string(sub)), ("user_id", .string(userID)), ("role", .string(role.rawValue)),
            ("tenant", .string(tenant)),
        ]
        if let typ { members.append(("typ", .string(typ.rawValue))) }
        if let iat { members.append(("iat", .int(iat))) }
        if let exp { members.append(("exp", .int(exp))) }
        if let jti { members.append(("jti", .string(jti))) }
        if let nbf { members.append(("nbf", .int(nbf))) }
        return .object(members)
    }
}

extension TokenClaims: JSONDecodable {
    public init(json: JSONValue) throws(XalorraError) {
        let roleName = try json.text("role")
        guard let role = Role(rawValue: roleName) else { throw JSONValue.unexpectedResponse("role '\(roleName)'") }
        self.init(
            user: try json.text("user_id"), role: role, tenant: try json.text("tenant"),
            kind: TokenClaims.Kind(rawValue: json["typ"]?.stringValue ?? "access") ?? .access,
            issuedAt: try json.integer("iat"), expires: try json.integer("exp"), id: try json.text("jti"))
    }
}
