/// What a shell may offer at each command path: the generators render this same model in each shell's language.
struct CompletionModel {
    /// How an option's or argument's value completes.
    enum ValueCompletion: Equatable {
        case none
        case files
        case words([String])
    }

    struct Entry {
        /// The path joined by spaces (`""` for the root, `"token verify"`).
        let key: String
        let command: CommandSpec
        /// The command's own options then the global ones.
        let options: [OptionSpec]
    }

    let entries: [Entry] = CommandTable.walk().map { path, command in
        Entry(key: path.joined(separator: " "), command: command, options: command.options + CommandTable.globalOptions)
    }

    static func completion(for kind: ValueKind?) -> ValueCompletion {
        switch kind {
        case .file?: .files
        case .choice(let words)?: .words(words)
        default: .none
        }
    }

    /// How the positional arguments of `command` complete (files win over words).
    static func argumentCompletion(_ command: CommandSpec) -> ValueCompletion {
        let kinds = command.arguments.map { completion(for: $0.kind) }
        if kinds.contains(.files) { return .files }
        return kinds.first { if case .words = $0 { true } else { false } } ?? .none
    }

    /// The value marker the shell helpers print: `@file`, `@none` or the words.
    static func marker(_ completion: ValueCompletion) -> String {
        switch completion {
        case .none: "@none"
        case .files: "@file"
        case .words(let words): words.joined(separator: " ")
        }
    }

    /// The `case` arms of `_xalorra_option_values` and `_xalorra_arguments`, shared by the bash and zsh scripts.
    /// - Parameter print: the shell's command to print one line (`echo` or `print -r --`).
    func valueFunctions(print: String) -> String {
        var out = "_xalorra_option_values() {\n    case \"$1|$2\" in\n"
        for entry in entries {
            for option in entry.options where option.value != nil {
                let spellings = [option.long] + (option.short.map { ["-\($0)"] } ?? [])
                let patterns = spellings.map { Self.quoted("\(entry.key)|\($0)") }.joined(separator: "|")
                out += "        \(patterns)) \(print) \(Self.quoted(Self.marker(Self.completion(for: option.value)))) ;;\n"
            }
        }
        out += "        *) return 1 ;;\n    esac\n}\n\n_xalorra_arguments() {\n    case \"$1\" in\n"
        for entry in entries where Self.argumentCompletion(entry.command) != .none {
            out += "        \(Self.quoted(entry.key))) \(print) \(Self.quoted(Self.marker(Self.argumentCompletion(entry.command)))) ;;\n"
        }
        return out + "    esac\n}\n"
    }

    /// `'text'` for POSIX shells and zsh, with embedded quotes escaped.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences("'", with: "'\\''") + "'"
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    func replacingOccurrences(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
