/// Prometheus's text exposition format, as every series of `/metrics` writes it.
public enum PrometheusText {
    /// A label value: `\`, `"` and newlines escaped, the format's only rule.
    public static func label(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
