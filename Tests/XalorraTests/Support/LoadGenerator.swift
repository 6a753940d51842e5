import Foundation
import GRDB
import Synchronization
import XalorraCore

/// Concurrent clients, each sending one request after another until stopped, recording how every request ended:
/// what the durability and concurrency tests compare the store with.
final class LoadGenerator: Sendable {
    /// How one request ended: `status` is nil when it got no answer (the connection was cut, or refused).
    struct Outcome: Sendable {
        let client: Int
        let sequence: Int
        let status: Int?
        let body: String
    }

    /// What the loops share with the generator.
    private final class State: Sendable {
        let stopped = Atomic<Bool>(false)
        let outcomes = Mutex<[Outcome]>([])
    }

    private let state: State
    private let loops: Task<Void, Never>

    /// Starts `clients` loops; loop `client` calls `send(client, 0)`, `send(client, 1)`, … until ``stop()``.
    /// - Parameter send: one request; returns its status and body, throws when no answer came.
    init(clients: Int, _ send: @escaping @Sendable (_ client: Int, _ sequence: Int) async throws -> (Int, String)) {
        let state = State()
        self.state = state
        loops = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var sequence = 0
                        while !state.stopped.load(ordering: .acquiring) && !Task.isCancelled {
                            let outcome: Outcome
                            do {
                                let (status, body) = try await send(client, sequence)
                                outcome = Outcome(client: client, sequence: sequence, status: status, body: body)
                            } catch {
                                outcome = Outcome(client: client, sequence: sequence, status: nil, body: "\(error)")
                            }
                            state.outcomes.withLock { $0.append(outcome) }
                            sequence += 1
                        }
                    }
                }
            }
        }
    }

    /// A generator dropped without ``stop(cancel:)`` (its test threw) stops its loops, rather than loading the
    /// servers of the tests that follow.
    deinit {
        state.stopped.store(true, ordering: .releasing)
        loops.cancel()
    }

    /// Every outcome so far.
    var results: [Outcome] { state.outcomes.withLock { $0 } }

    /// Waits until `condition` holds for the outcomes so far, polling every 20 ms; false after `seconds`.
    func wait(seconds: Double, until condition: ([Outcome]) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(results) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return condition(results)
    }

    /// Asks every loop to end after its current request, waits for them, and returns every outcome.
    /// - Parameter cancel: cancel the requests in flight too (they count as unanswered), for a server that was
    ///   killed: AsyncHTTPClient would otherwise retry connecting to it until each request's deadline.
    /// Starts no further requests; those under way go on to their end (``stop(cancel:)`` waits for them).
    func stopStarting() { state.stopped.store(true, ordering: .releasing) }

    @discardableResult
    func stop(cancel: Bool = false) async -> [Outcome] {
        state.stopped.store(true, ordering: .releasing)
        if cancel { loops.cancel() }
        await loops.value
        return results
    }
}

/// Read-only access to a store's SQLite file, straight through GRDB (not through xalorra).
enum StoreInspector {
    /// Opens the store of `home` read-only.
    static func open(_ home: URL) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: home.appendingPathComponent("xalorra.db").path, configuration: configuration)
    }

    /// Every logged prediction of `home` (of `model`, when given), oldest first, read through the store's repository:
    /// a batch is one record of the table, so its rows are only seen as rows through it.
    static func records(_ home: URL, model: String? = nil) async throws -> [PredictionRecord] {
        let repository = SQLitePredictionRepository(
            database: try AppDatabase.open(path: home.appendingPathComponent("xalorra.db").path))
        var query = try LogQuery(model: model)
        query.limit = LogQuery.maxLimit
        var records: [PredictionRecord] = []
        while true {
            let page = try await repository.records(after: records.last?.id ?? 0, matching: query)
            records += page
            if page.count < query.limit { return records }
        }
    }

    /// The inputs of ``records(_:model:)`` as the compact JSON arrays `[1,null,3]`.
    static func inputs(_ home: URL, model: String? = nil) async throws -> [String] {
        try await records(home, model: model).map { record in
            var text: [UInt8] = []
            JSONWriter.write(cells: record.input, into: &text)
            return String(decoding: text, as: UTF8.self)
        }
    }

    /// `PRAGMA integrity_check`'s answer and `PRAGMA foreign_key_check`'s number of violations.
    static func consistency(_ home: URL) throws -> (integrity: String, foreignKeyViolations: Int) {
        try open(home).read { db in
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ")
            let violations = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count
            return (integrity, violations)
        }
    }
}

/// Runs blocking work (a child process, a pipe read) on a Dispatch thread, off Swift's cooperative pool, which has
/// only as many threads as cores: blocking it would stall the load the work is meant to run beside.
func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
