/// Text from data made safe for a terminal: every character a terminal would obey instead of show is written as a
/// visible escape, so a stored name cannot clear the screen, move the cursor, set the window title, ring the bell,
/// overwrite a line with a forged one, or reorder what follows it.
///
/// Escaped: the C0 controls (U+0000-U+001F), DEL (U+007F), the C1 controls (U+0080-U+009F, which some terminals
/// obey even UTF-8 encoded: U+009B is CSI) and the bidirectional overrides and isolates (U+202A-U+202E,
/// U+2066-U+2069). They show as `\0`, `\t`, `\n`, `\r`, `\e` (ESC), else `\u{XX}` in lower-case hex without leading
/// zeros (`\u{7}` BEL, `\u{9b}`, `\u{202e}`). A backslash stays as it is, so the result has no character left to
/// escape: escaping it again changes nothing, which lets a table escape its cells and the line writer the line.
public enum TerminalText {
    /// How much of its own layout a text keeps.
    public enum Mode: Sendable {
        /// One line (a table cell, a field, a message): every control is escaped, line feed and tab included.
        case line
        /// Content with lines of its own (a chat reply, help text): line feeds and tabs stay, the CR of a CRLF is
        /// dropped, every other control is escaped.
        case text
    }

    /// `text` with every character a terminal would obey written as a visible escape.
    public static func escaped(_ text: String, _ mode: Mode = .line) -> String {
        // Most text has nothing to escape: look at the bytes once (C1 and the bidi characters start with C2 and E2).
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }) else { return text }
        var out = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            guard isUnsafe(scalar) else {
                out.append(scalar)
                continue
            }
            if mode == .text {
                if scalar == "\n" || scalar == "\t" {
                    out.append(scalar)
                    continue
                }
                if scalar == "\r", index + 1 < scalars.count, scalars[index + 1] == "\n" { continue }
            }
            out.append(contentsOf: escape(scalar).unicodeScalars)
        }
        return String(out)
    }

    /// Whether a terminal would obey `scalar` rather than show it.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// The visible form of an unsafe scalar.
    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\0": #"\0"#
        case "\t": #"\t"#
        case "\n": #"\n"#
        case "\r": #"\r"#
        case "\u{1B}": #"\e"#
        default: #"\u{"# + String(scalar.value, radix: 16) + "}"
        }
    }

    /// JSON text made safe for a terminal without changing the value it denotes: DEL, the C1 controls and the bidi
    /// characters (which JSON allows raw, and which can only occur inside strings) become `\u` escapes, other C0
    /// controls but tab and line feed (never raw in valid JSON) too, and a CR (in valid JSON only whitespace
    /// between tokens) is dropped. Text with none of them comes back as it is.
    public static func jsonSafe(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(where: { ($0 < 0x20 && $0 != 0x0A && $0 != 0x09) || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 })
        else { return bytes }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 32)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            // The length of an unsafe character starting here, and its scalar value.
            var found: (length: Int, value: UInt32)?
            switch byte {
            case 0x0D: found = (1, 0x0D)
            case 0x09, 0x0A: break
            case 0..<0x20, 0x7F: found = (1, UInt32(byte))
            case 0xC2 where index + 1 < bytes.count && (0x80...0x9F).contains(bytes[index + 1]):
                found = (2, UInt32(bytes[index + 1]))
            case 0xE2 where index + 2 < bytes.count:
                let value = UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F) | 0x2000
                if bytes[index + 1] & 0xC0 == 0x80, bytes[index + 2] & 0xC0 == 0x80,
                    let scalar = Unicode.Scalar(value), isUnsafe(scalar)
                {
                    found = (3, value)
                }
            default: break
            }
            guard let (length, value) = found else {
                out.append(byte)
                index += 1
                continue
            }
            index += length
            if value == 0x0D { continue }
            let hex = Array("0123456789abcdef".utf8)
            out += [0x5C, UInt8(ascii: "u")]
            for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int(value >> UInt32(shift) & 0xF)]) }
        }
        return out
    }
}
