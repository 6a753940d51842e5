/// A model name as written in a request: `xgb-v2` (the newest version) or `xgb-v2@3` (a pinned one).
public struct ModelReference: Sendable, Hashable, CustomStringConvertible {
    /// The longest model name accepted.
    public static let maxLength = 128

    /// The model's name.
    public let name: String
    /// The pinned version, if any.
    public let version: Int?

    /// Parses and validates `text`: a letter or digit, then letters, digits, `.`, `_`, `-`, at most 128 in all,
    /// optionally followed by `@` and a positive version number.
    public init(_ text: String) throws(XalorraError) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        try NameRule.check(name, field: "model")
        guard Self.nameRule.problem(name) == nil else {
            throw XalorraError.invalid(
                "model",
                "'\(text)' is not a model name (letters, digits, '.', '_', '-'; at most \(Self.maxLength); "
                    + "optionally @VERSION)")
        }
        self.name = name
        if parts.count == 2 {
            guard Self.versionRule.problem(String(parts[1])) == nil, let version = Int(parts[1]) else {
                throw XalorraError.invalid("model", "'\(parts[1])' is not a version number (expected NAME@1, NAME@2, …)")
            }
            self.version = version
        } else {
            self.version = nil
        }
    }

    /// The model a route's path names: `{name}` and `{version}`, a version number or `latest` (the newest).
    public init(name: String, version: String) throws(XalorraError) {
        guard version == "latest" || Self.versionRule.problem(version) == nil else {
            throw XalorraError.invalid("version", "'\(version)' is not a version number (1, 2, … or latest)")
        }
        try self.init(version == "latest" ? name : "\(name)@\(version)")
        guard !name.contains("@") else {
            throw XalorraError.invalid("model", "'\(name)' names a version; give the model's name alone")
        }
    }

    /// `name` or `name@version`.
    public var description: String { version.map { "\(name)@\($0)" } ?? name }
}
