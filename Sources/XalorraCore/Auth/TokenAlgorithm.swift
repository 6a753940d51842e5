/// The HMAC algorithms a deployment may pin with `JWT_ALGORITHM`; every other `alg`, `none` included, is refused.
public enum TokenAlgorithm: String, Sendable, CaseIterable {
    case hs256 = "HS256"
    case hs384 = "HS384"
    case hs512 = "HS512"
}
