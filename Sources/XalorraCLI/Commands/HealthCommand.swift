import XalorraCore

/// `xalorra health`: the store's (or the server's) health, as `GET /health/detailed`.
enum HealthCommand {
    static func run(_ context: CommandContext) async throws -> Int32 {
        let report = try await context.api().health()
        if context.json {
            context.printJSON(report.json)
        } else {
            let percent = HealthReport.percentText
            var table = TextTable(["CHECK", "VALUE"])
            table.add(["status", report.status])
            table.add(["version", XalorraVersion.current])
            table.add(["database", "\(report.databaseUp ? "connected" : "disconnected"), \((report.databaseMilliseconds * 100).rounded() / 100) ms"])
            if let ai = report.aiService {
                let state = ai.health.available ? "available" : "unavailable"
                table.add(["ai service", "\(ai.name): \(state), \((ai.health.milliseconds * 100).rounded() / 100) ms"])
            }
            table.add(["uptime", "\(report.uptimeSeconds) s"])
            table.add(["cpu", percent(report.cpuPercent)])
            table.add(["memory", percent(report.memoryPercent)])
            table.add(["disk", percent(report.diskPercent)])
            for line in table.render() { context.terminal.print(line) }
        }
        return report.databaseUp ? 0 : 1
    }
}
