import XalorraCore
import XalorraML

/// A validated command line: the command, and typed values for its options and arguments.
public struct ParsedArguments: Sendable {
    /// The subcommand path below the root (`["token", "verify"]`).
    public let path: [String]
    /// The selected command.
    public let command: CommandSpec
    /// Option values by long name, in the order given (flags hold one empty text per use).
    var options: [String: [ParsedValue]] = [:]
    /// Argument values by argument name.
    var arguments: [String: [ParsedValue]] = [:]

    init(path: [String], command: CommandSpec) {
        self.path = path
        self.command = command
    }

    /// Whether the flag or option was given.
    public func has(_ long: String) -> Bool { options[long] != nil }

    /// The last value given for a text option.
    public func text(_ long: String) -> String? {
        if case .text(let value)? = options[long]?.last { return value }
        return nil
    }

    /// Every value given for a repeatable text option.
    public func texts(_ long: String) -> [String] {
        (options[long] ?? []).compactMap { if case .text(let value) = $0 { value } else { nil } }
    }

    /// The last value given for an integer option.
    public func integer(_ long: String) -> Int? {
        if case .integer(let value)? = options[long]?.last { return value }
        return nil
    }

    /// The last value given for a duration option.
    public func duration(_ long: String) -> TimeSpan? {
        if case .duration(let value)? = options[long]?.last { return value }
        return nil
    }

    /// The last value given for a time option.
    public func time(_ long: String) -> Timestamp? {
        if case .time(let value)? = options[long]?.last { return value }
        return nil
    }

    /// The text of positional argument `name`.
    public func argument(_ name: String) -> String? {
        if case .text(let value)? = arguments[name]?.first { return value }
        return nil
    }

    /// The numbers given for a repeating number argument.
    public func numbers(_ name: String) -> [Number] {
        (arguments[name] ?? []).compactMap { if case .number(let value) = $0 { value } else { nil } }
    }

    /// The settings flags (`--url`, `--token`, `--home`, `--as`) that were given; a repeated list flag
    /// (`--cors-origin`) gives its values joined by commas, as the environment variable spells a list.
    public var settingFlags: [String: String] {
        var flags: [String: String] = [:]
        for key in SettingKey.all {
            guard let flag = key.flag, has(flag) else { continue }
            flags[flag] = key.isList ? texts(flag).joined(separator: ",") : text(flag)
        }
        return flags
    }
}
