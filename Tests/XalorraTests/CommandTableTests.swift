import Foundation
import Testing
@testable import XalorraCLI

/// Help, completions and the man page all come from the command table, and the committed copies match it.
struct CommandTableTests {
    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func golden(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: nil))
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// `xalorra --help` matches its golden file.
    @Test func rootHelpGolden() throws {
        #expect(HelpRenderer.help(for: []) == (try golden("help.txt")))
    }

    /// `xalorra help predict` matches its golden file.
    @Test func predictHelpGolden() throws {
        #expect(HelpRenderer.help(for: ["predict"]) == (try golden("help-predict.txt")))
    }

    /// The committed completions and man page are exactly what the binary generates now.
    @Test(arguments: GeneratorCommands.generatedFiles.map(\.path))
    func committedFileIsCurrent(path: String) throws {
        let committed = try String(contentsOf: Self.packageRoot.appendingPathComponent(path), encoding: .utf8)
        let generated = try #require(GeneratorCommands.generatedFiles.first { $0.path == path }).render()
        #expect(committed == generated, "\(path) is stale: run scripts/generate.sh and commit the result")
    }

    /// Every command and option is documented: no empty summaries, no duplicate spellings within a command.
    @Test func tableIsWellFormed() {
        for (path, command) in CommandTable.walk() {
            #expect(!command.summary.isEmpty, "\(path) has no summary")
            let options = command.options + CommandTable.globalOptions
            let longs = options.map(\.long)
            #expect(Set(longs).count == longs.count, "\(path) repeats an option")
            let shorts = options.compactMap(\.short)
            #expect(Set(shorts).count == shorts.count, "\(path) repeats a short option")
            #expect(command.arguments.dropLast().allSatisfy { !$0.repeating }, "\(path): only the last may repeat")
            #expect(command.run != nil || !command.subcommands.isEmpty, "\(path) does nothing")
        }
    }

    /// Every command of DESIGN §2 is registered.
    @Test func designCommandsRegistered() {
        let names = Set(CommandTable.root.subcommands.map(\.name))
        for name in ["token", "predict", "train", "models", "logs", "users", "chat", "routes", "serve", "health", "help"] {
            #expect(names.contains(name), "\(name) is missing")
        }
    }

    /// The generated scripts are valid for each shell that is installed (CI installs all three).
    @Test(arguments: [("bash", "xalorra.bash", ["-n"]), ("zsh", "_xalorra", ["-n"]), ("fish", "xalorra.fish", ["--no-execute"])])
    func completionSyntax(shell: String, file: String, flags: [String]) throws {
        guard let path = ["/usr/bin/\(shell)", "/bin/\(shell)"].first(where: FileManager.default.isExecutableFile)
        else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "\(shell) must be installed in CI")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = flags + [Self.packageRoot.appendingPathComponent("completions/\(file)").path]
        let err = Pipe()
        process.standardError = err
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(shell) rejects completions/\(file): \(message)")
    }
}
