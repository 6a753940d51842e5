/// The one rule for the names a model is known by and carries: its own name and its feature names, whether they come
/// from an import (XGBoost `feature_names`, an export's `features`) or a training file's header. Such names are shown
/// in tables and terminals and have no use for control characters, so none may hold one: C0 (U+0000-U+001F), DEL,
/// C1 (U+0080-U+009F), and the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that
/// make text display in another order than it is stored.
public enum NameRule {
    /// The characters a name may hold: any but the controls and bidi formatting characters above.
    public static let rule = TextRule(characters: .all.subtracting(.controls).subtracting(.bidiControls))

    /// Why `name` is refused (`holds a control character (U+001B)`), or `nil` when it is acceptable.
    public static func problem(_ name: String) -> String? {
        guard case .character(let scalar)? = rule.problem(name) else { return nil }
        return "holds a control character (\(ScalarClass.codePoint(scalar)))"
    }

    /// A 422 naming `field` when `name` breaks the rule.
    public static func check(_ name: String, field: String) throws(XalorraError) {
        if let problem = problem(name) { throw XalorraError.invalid(field, problem) }
    }
}
