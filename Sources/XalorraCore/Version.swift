/// The product's version.
public enum XalorraVersion {
    /// Semantic version of this build, as `--version` and `GET /` report it.
    public static let current = "0.1.0"
}
