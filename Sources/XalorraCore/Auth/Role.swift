/// What a token's bearer may do: `admin` acts across tenants and on `/admin/*`; `user` within its own tenant.
public enum Role: String, Sendable, CaseIterable, Codable {
    case admin
    case user
}
