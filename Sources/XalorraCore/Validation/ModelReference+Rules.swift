/// The rules of a model reference's parts, as path parameters publish them.
extension ModelReference {
    /// ASCII letters and digits: what a model name starts with.
    static let alphanumerics = ScalarClass([0x30...0x39, 0x41...0x5A, 0x61...0x7A])

    /// A model's name: a letter or digit, then letters, digits, `.`, `_`, `-`; at most ``maxLength``.
    public static let nameRule = TextRule(
        length: 1...maxLength, first: alphanumerics, characters: alphanumerics.union(ScalarClass("._-")))
    /// A version number: 1 or more, without leading zeros, small enough for any integer type.
    public static let versionRule = TextRule(
        length: 1...18, first: ScalarClass([0x31...0x39]), characters: ScalarClass([0x30...0x39]))

    /// The schema of a path's `{name}` (a model's name) or `{model}` (a name, optionally `@VERSION`, as
    /// `POST /predict/{model}` takes it).
    public static func schema(versioned: Bool) -> JSONValue {
        guard versioned, let maxLength = nameRule.maxLength, let maxVersion = versionRule.maxLength,
            let name = nameRule.pattern, let version = versionRule.pattern
        else { return nameRule.schema }
        let pattern = name.dropLast() + "(@" + version.dropFirst().dropLast() + ")?$"
        return .object([
            ("type", "string"), ("minLength", 1), ("maxLength", .int(maxLength + 1 + maxVersion)),
            ("pattern", .string(String(pattern))),
        ])
    }

    /// The schema of a path's `{version}`: a version number or `latest` (the newest).
    public static let versionSchema: JSONValue = .object([
        ("anyOf", .array([.object([("const", "latest")]), versionRule.schema])),
    ])
}
