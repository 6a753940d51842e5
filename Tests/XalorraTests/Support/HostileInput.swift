import Foundation
import Testing
@testable import XalorraClient
import XalorraCore

/// What the hostile-input suites (`HostileInput*Tests`) share: the corpus of bad values, one request and what it may
/// answer, and the live fixture the requests are built against. The cases are generated from the route table and the
/// served OpenAPI document, so a new route, parameter or body field is covered without an edit.
enum HostileInput {
    // MARK: - The corpus

    /// Text that has broken servers before: SQL injection, path traversal, NUL and control bytes, markup, size.
    static let hostileStrings: [(label: String, value: String)] = [
        ("sql-or", "' OR 1=1 --"),
        ("sql-drop", "\"; DROP TABLE predictions; --"),
        ("traversal", "../"),
        ("traversal-deep", "../../../../etc/passwd"),
        ("traversal-encoded", "..%2F"),
        ("traversal-dots", "%2e%2e/"),
        ("nul", "a\u{0}b"),
        ("control", "\u{1}\u{7F}\u{1B}[31m"),
        ("unicode", "😀\u{202E}ǅ\u{FEFF}"),
        ("markup", "<script>alert(1)</script>"),
        ("format", "%s%n%x%%"),
        ("crlf", "a\r\nX-Injected: 1"),
        ("blank", " \t "),
        ("long", String(repeating: "A", count: 5000)),
    ]

    /// Path segments written literally (not percent-encoded once more): traversal the way attackers send it.
    static let literalSegments = ["..", "../", "..%2F", "%2e%2e", "%2e%2e/", "%2e%2e%2f", "%00", "%FF", "%C0%AF", "%", "%zz"]

    /// JSON values of the wrong type or shape for any field.
    static let wrongTypes = [
        "1", "-1", "0.5", "true", "false", "null", "[]", "{}", #"["a"]"#, #"{"$ne": null}"#,
    ]

    /// Number literals JSON does not have, or that do not fit a double.
    static let invalidLiterals = [
        "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "123456789012345678901234567890e300", "0x10", "01", "+1",
        "1.",
    ]

    /// Raw JSON texts too big or too deep, within `XALORRA_MAX_BODY`.
    static let bigValues: [(label: String, json: [UInt8])] = [
        ("string-100k", Array(("\"" + String(repeating: "A", count: 100_000) + "\"").utf8)),
        ("array-50k", Array(("[" + Array(repeating: "0", count: 50_000).joined(separator: ",") + "]").utf8)),
        ("depth-\(JSONParser.maxDepth + 1)", nested(JSONParser.maxDepth + 1)),
    ]

    /// Field values that are not valid JSON text at the byte level.
    static let invalidBytes: [(label: String, json: [UInt8])] = [
        ("invalid-utf8", [0x22, 0xFF, 0xFE, 0x22]),
        ("overlong-utf8", [0x22, 0xC0, 0xAF, 0x22]),
        ("surrogate-utf8", [0x22, 0xED, 0xA0, 0x80, 0x22]),
        ("raw-nul", [0x22, 0x61, 0x00, 0x62, 0x22]),
        ("lone-surrogate-escape", Array(#""\ud800""#.utf8)),
    ]

    /// Whole bodies for every route that takes one; `valid` ones are well-formed JSON.
    static let wholeBodies: [(label: String, body: [UInt8], valid: Bool)] = [
        ("empty", [], false),
        ("truncated", Array(#"{"features": [1, 2"#.utf8), false),
        ("unclosed-string", Array(#"{"a": "b"#.utf8), false),
        ("trailing-comma", Array(#"{"a": 1,}"#.utf8), false),
        ("single-quotes", Array("{'a': 1}".utf8), false),
        ("comment", Array(#"{"a": 1 /* x */}"#.utf8), false),
        ("not-json", Array("hello".utf8), false),
        ("nan", Array(#"{"a": NaN}"#.utf8), false),
        ("bom", [0xEF, 0xBB, 0xBF] + Array("{}".utf8), false),
        ("nul", [0x00], false),
        ("invalid-utf8", [0xFF, 0xFE, 0xFD], false),
        ("depth-100k", Array(repeating: UInt8(ascii: "["), count: 100_000), false),
        ("depth-\(JSONParser.maxDepth + 1)", nested(JSONParser.maxDepth + 1), true),
        ("array", Array("[1,2,3]".utf8), true),
        ("string", Array(#""x""#.utf8), true),
        ("number", Array("42".utf8), true),
        ("null", Array("null".utf8), true),
        ("duplicate-keys", Array(#"{"a": 1, "a": 2}"#.utf8), true),
        ("array-50k", Array(("[" + Array(repeating: "0", count: 50_000).joined(separator: ",") + "]").utf8), true),
    ]

    static func nested(_ depth: Int) -> [UInt8] {
        Array(repeating: UInt8(ascii: "["), count: depth) + [UInt8(ascii: "1")]
            + Array(repeating: UInt8(ascii: "]"), count: depth)
    }

    static func jsonString(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        JSONWriter.write(.string(text), into: &bytes)
        return bytes
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters, as the remote client does.
    static func encoded(_ text: String) -> String { RemoteAPI.escape(text) }
}
