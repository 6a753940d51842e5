/// The one rule for the names a model is known by and carries: its own name and its feature names, whether they come
/// from an import (XGBoost `feature_names`, an export's `features`) or a training file's header. Such names are shown
/// in tables and terminals and have no use for control characters, so none may hold one: C0 (U+0000-U+001F), DEL,
/// C1 (U+0080-U+009F), and the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that
/// make text display in another order than it is stored.
public enum NameRule {
    /// Why `name` is refused (`holds a control character (U+001B)`), or `nil` when it is acceptable.
    public static func problem(_ name: String) -> String? {
        for scalar in name.unicodeScalars where isRefused(scalar) {
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "holds a control character (U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))"
        }
        return nil
    }

    /// A 422 naming `field` when `name` breaks the rule.
    public static func check(_ name: String, field: String) throws(XalorraError) {
        if let problem = problem(name) { throw XalorraError.invalid(field, problem) }
    }

    /// Whether `scalar` may not appear in a name.
    static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
