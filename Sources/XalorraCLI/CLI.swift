#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCore

/// The `xalorra` program: parse, dispatch, and turn every failure into a message and an exit code.
public enum CLI {
    /// Runs the command line `arguments` (without the program name) and returns the exit code.
    public static func main(_ arguments: [String], environment: [String: String] = processEnvironment()) async -> Int32 {
        let terminal = Terminal(environment: environment)
        defer { terminal.flush() }
        do {
            switch try ArgumentParser.parse(arguments) {
            case .help(let path):
                terminal.printText(HelpRenderer.help(for: path), terminator: false)
                return 0
            case .version:
                terminal.print("\(CommandTable.program) \(XalorraVersion.current)")
                return 0
            case .run(let parsed):
                let context = CommandContext(arguments: parsed, terminal: terminal, environment: environment)
                do {
                    let code = try await dispatch(context)
                    await context.stores.close()
                    return code
                } catch {
                    await context.stores.close()
                    throw error
                }
            }
        } catch let error as UsageError {
            terminal.flush()
            terminal.error(error.message)
            terminal.printError("Usage: \(HelpRenderer.usage(for: error.path))")
            let help = ([CommandTable.program, "help"] + error.path).joined(separator: " ")
            terminal.printError("  See '\(help)' for more information.")
            return 2
        } catch let error as XalorraError {
            terminal.flush()
            terminal.error(error.message, hint: error.hint)
            for detail in error.details where !error.message.contains(detail.message) {
                terminal.printError("  \(detail.field): \(detail.message)")
            }
            return error.code.exitCode
        } catch {
            terminal.flush()
            terminal.error("\(error)")
            return 1
        }
    }

    private static func dispatch(_ context: CommandContext) async throws -> Int32 {
        let command = context.arguments.command
        let name = ([CommandTable.program] + context.arguments.path).joined(separator: " ")
        guard let run = command.run else {
            if context.arguments.path.isEmpty {
                context.terminal.printText(HelpRenderer.help(for: []), terminator: false)
                return 0
            }
            throw UsageError("Missing subcommand for '\(name)'.", path: context.arguments.path)
        }
        return try await run(context)
    }

    /// The process environment, read from `environ` (no Foundation needed).
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}
