import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCore

/// `xalorra logs`: the newest predictions, oldest first; `--tail` follows new ones until Ctrl-C.
enum LogsCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let arguments = context.arguments
        let query = try LogQuery(
            model: arguments.text("--model"), since: arguments.time("--since"), until: arguments.time("--until"),
            tenant: arguments.text("--tenant"), limit: arguments.integer("--limit") ?? Paging.defaultLimit,
            offset: arguments.integer("--offset") ?? 0)
        let api = try await context.api()
        let page = try await api.logs(query)
        let tail = arguments.has("--tail")
        if context.json && !tail {
            context.printJSON(page.json)
            return 0
        }
        for record in page.items.reversed() { printRecord(record, context) }
        guard tail else { return 0 }
        context.terminal.flush()
        return try await follow(context, api: api, query: query, after: query.offset == 0 ? page.items.first?.id : nil)
    }

    private static func printRecord(_ record: PredictionRecord, _ context: CommandContext) {
        if context.json {
            context.printJSON(record.json)
        } else {
            context.terminal.print(record.logLine)
        }
    }

    /// Prints predictions as they are logged until SIGINT or SIGTERM, then exits 0.
    private static func follow(
        _ context: CommandContext, api: any XalorraAPI, query: LogQuery, after id: Int64?
    ) async throws -> Int32 {
        let task = Task {
            for try await record in api.followLogs(query, after: id) {
                printRecord(record, context)
                context.terminal.flush()
            }
        }
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        try await task.value
        return 0
    }
}
