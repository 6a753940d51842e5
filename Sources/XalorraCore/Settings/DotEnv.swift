/// Reads `.env` files: `KEY=VALUE` lines, `#` comments, an optional `export ` prefix, optional matching quotes.
public enum DotEnv {
    /// The assignments in `text`; later lines win over earlier ones.
    public static func parse(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            var line = rawLine.trimmingWhitespace()
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).trimmingWhitespace() }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingWhitespace()
            var value = line[line.index(after: equals)...].trimmingWhitespace()
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = value.dropFirst().dropLast()
            } else {
                value = value.withoutTrailingComment()
            }
            guard !key.isEmpty else { continue }
            values[String(key)] = String(value)
        }
        return values
    }
}

public extension Substring {
    /// This text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }

    /// This text cut before a ` #` comment, as shells read unquoted values.
    func withoutTrailingComment() -> Substring {
        var previous: Character = "x"
        for index in indices {
            if self[index] == "#", previous == " " || previous == "\t" {
                return self[..<index].trimmingWhitespace()
            }
            previous = self[index]
        }
        return self
    }
}
