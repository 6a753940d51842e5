import Logging
import PostgresNIO
import Synchronization
import XalorraCore

/// postgres-nio's pool (`PostgresClient`) behind a fault guard, so that a database that goes away is a quick 503 and
/// its return is noticed at once (issue 14, "Faults").
///
/// The pool alone does neither: while it cannot connect it queues every request for up to a minute (its circuit
/// breaker trips after 60 s) and retries with a backoff that grows to a minute, so it could come back long after the
/// database did. Here:
/// * a request waits at most ``connectionWait`` for a connection (the waiting is cancelled in the pool);
/// * a wait that runs out, or a connection that fails, starts a probe (one plain connection and `SELECT 1`); once
///   it fails the database is *down*: every request fails at once with ``unavailable`` (503 `SERVICE_UNAVAILABLE`,
///   `Retry-After: 1`), the pool is replaced by a fresh one (the requests waiting in the old one fail at once; the
///   new one, asked for nothing meanwhile, never enters the old one's backoff), and the probe is repeated every
///   ``probeInterval``;
/// * the first probe that succeeds ends the outage: requests succeed again within a probe interval of the
///   database's return.
package final class PostgresPool: Sendable {
    /// How often a probe tries to reach a database that is down.
    package static let probeInterval: Duration = .milliseconds(200)

    /// Where the server is, for the 503's message.
    package let location: PostgresLocation
    /// The longest a request waits for a connection before it fails with ``unavailable``.
    package let connectionWait: Duration
    private let configuration: PostgresClient.Configuration
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var client: PostgresClient
        var runner: Task<Void, Never>?
        /// The last probe failed: requests fail at once.
        var down = false
        var probing = false
        var closed = false
    }

    /// A pool on `configuration`, running from now until ``close()``.
    package init(
        configuration: PostgresClient.Configuration, location: PostgresLocation, logger: Logger,
        connectionWait: Duration = .seconds(1)
    ) {
        self.configuration = configuration
        self.location = location
        self.logger = logger
        self.connectionWait = connectionWait
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        state = Mutex(State(client: client))
        // Detached: a store opened inside a service group must not inherit the group's graceful-shutdown signal
        // (the pool would stop with the first service); ``close()`` stops it.
        let runner = Task.detached { await client.run() }
        state.withLock { $0.runner = runner }
    }

    /// The 503 every request gets while the database cannot be reached: `database unreachable at host:port`, never
    /// more (no password, no driver internals).
    package var unavailable: XalorraError { Self.unavailable(location) }

    package static func unavailable(_ location: PostgresLocation) -> XalorraError {
        let host = location.host.contains(":") ? "[\(location.host)]" : location.host
        return XalorraError(
            .serviceUnavailable, "database unreachable at \(host):\(location.port); try again shortly", retryAfter: 1)
    }

    /// ``unavailable`` while the database is known to be down (the last probe failed); `nil` otherwise. Asks
    /// nothing of the database.
    package var outage: XalorraError? {
        state.withLock { $0.down || $0.closed } ? unavailable : nil
    }

    /// Runs `body` on a leased connection: fails at once while the database is down, and after ``connectionWait``
    /// without a connection.
    package func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let (client, refused) = state.withLock { ($0.client, $0.down || $0.closed) }
        if refused { throw unavailable }
        let connection: Lease
        do {
            connection = try await lease(client)
        } catch {
            if error is WaitExpired || PostgresDatabase.isConnectionFailure(error) {
                suspect()
                throw unavailable
            }
            throw error
        }
        defer { connection.release() }
        do {
            return try await body(connection.connection)
        } catch {
            if PostgresDatabase.isConnectionFailure(error) { suspect() }
            throw error
        }
    }

    /// Runs `body` in one transaction (`BEGIN mode` … `COMMIT`, `ROLLBACK` when it throws) on a leased connection,
    /// READ COMMITTED unless `mode` says otherwise: the level the writes are written for, whatever the database's
    /// default (review V, F9). The one transaction helper of the module (``PostgresDatabase/inTransaction(_:_:)``
    /// and ``PostgresDatabase/transaction(_:)`` go through it).
    package func withTransaction<T>(
        _ mode: String = "ISOLATION LEVEL READ COMMITTED", logger: Logger, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.send(PostgresQuery(unsafeSQL: "BEGIN \(mode)"), logger)
            let value: T
            do {
                value = try await body(connection)
            } catch {
                await Self.rollBack(connection, after: error, logger: logger)
                throw error
            }
            try await connection.send("COMMIT", logger)
            return value
        }
    }

    /// The longest a `ROLLBACK` is waited for before its connection is given up (closed).
    static let rollbackWait: Duration = .seconds(2)

    /// Ends the failed transaction on `connection`: `ROLLBACK`, unless `error` says the connection is gone (the
    /// server rolls back the transaction of a session that ends, and a statement sent down a closed connection is
    /// never answered, see ``PostgresConnection/send(_:_:)``), waited for at most ``rollbackWait``, after which the
    /// connection is closed so that the pool does not hand it out again: a failed request answers in bounded time
    /// even when its connection closes between the check and the write.
    static func rollBack(_ connection: PostgresConnection, after error: any Error, logger: Logger) async {
        guard !PostgresDatabase.isConnectionFailure(error), !connection.isClosed else { return }
        let (ended, end) = AsyncStream.makeStream(of: Bool.self)
        let rollback = Task {
            _ = try? await connection.send("ROLLBACK", logger)
            end.yield(true)
        }
        let timer = Task {
            try? await Task.sleep(for: rollbackWait)
            end.yield(false)
        }
        var iterator = ended.makeAsyncIterator()
        let answered = await iterator.next() ?? false
        end.finish()
        timer.cancel()
        if !answered {
            rollback.cancel()
            // Its own close is not waited for.
            Task { try? await connection.close() }
        }
    }

    /// Stops the pool (and any probe). Idempotent.
    package func close() async {
        let runner = state.withLock { state in
            defer { state.runner = nil }
            state.closed = true
            return state.runner
        }
        guard let runner else { return }
        runner.cancel()
        await runner.value
    }

    // MARK: Leasing with a deadline

    /// A connection held by a task of its own until ``release()``.
    private struct Lease {
        let connection: PostgresConnection
        let done: AsyncStream<Never>.Continuation

        func release() { done.finish() }
    }

    /// Waiting for a connection ran out.
    private struct WaitExpired: Error {}

    /// A connection of `client`, leased in a task of its own so that the waiting can be given up (the pool's own
    /// wait has no deadline): that task hands the connection over and holds the lease until it is released.
    private func lease(_ client: PostgresClient) async throws -> Lease {
        let (handed, handoff) = AsyncThrowingStream.makeStream(of: PostgresConnection.self)
        let (released, release) = AsyncStream.makeStream(of: Never.self)
        let holder = Task {
            do {
                try await client.withConnection { connection in
                    handoff.yield(connection)
                    handoff.finish()
                    for await _ in released {}
                }
            } catch {
                handoff.finish(throwing: error)
            }
        }
        let wait = connectionWait
        let timer = Task {
            try await Task.sleep(for: wait)
            handoff.finish(throwing: WaitExpired())
        }
        defer { timer.cancel() }
        do {
            var iterator = handed.makeAsyncIterator()
            guard let connection = try await iterator.next() else {
                throw Task.isCancelled ? CancellationError() : WaitExpired()
            }
            return Lease(connection: connection, done: release)
        } catch {
            // A connection handed over after the deadline goes straight back; a wait still queued is cancelled.
            release.finish()
            holder.cancel()
            throw error
        }
    }

    // MARK: Probing

    /// Something went wrong with the database: find out whether it is reachable, and while it is not, refuse
    /// requests at once and keep looking.
    private func suspect() {
        let start = state.withLock { state in
            guard !state.probing, !state.closed else { return false }
            state.probing = true
            return true
        }
        guard start else { return }
        Task.detached { await self.probeUntilReachable() }
    }

    /// Probes until the database answers. At the first failure the database is down: requests are refused from
    /// then on, and the pool is replaced by a fresh one, which fails every request still waiting in the old one at
    /// once and, receiving no request until the database is back, does not back off.
    private func probeUntilReachable() async {
        var failed = false
        while !state.withLock({ $0.closed }) {
            if await probe() {
                state.withLock { state in
                    state.down = false
                    state.probing = false
                }
                if failed { logger.warning("PostgreSQL at \(address) is reachable again") }
                return
            }
            if !failed {
                failed = true
                state.withLock { $0.down = true }
                logger.warning(
                    "PostgreSQL at \(address) cannot be reached: requests answer 503 SERVICE_UNAVAILABLE until it is back")
                replacePool()
            }
            try? await Task.sleep(for: Self.probeInterval)
        }
        state.withLock { $0.probing = false }
    }

    /// `host:port` for the log (never the password).
    private var address: String {
        (location.host.contains(":") ? "[\(location.host)]" : location.host) + ":\(location.port)"
    }

    /// One plain connection and `SELECT 1`, within a second.
    private func probe() async -> Bool {
        do {
            var configuration = try PostgresStore.connectionConfiguration(location)
            configuration.options.connectTimeout = .seconds(1)
            let connection = try await PostgresConnection.connect(
                configuration: configuration, id: 0, logger: PostgresStore.quietLogger)
            let answered = (try? await connection.send("SELECT 1", PostgresStore.quietLogger)) != nil
            try? await connection.close()
            return answered
        } catch {
            return false
        }
    }

    /// A fresh pool in place of the current one, which is shut down (requests still waiting in it fail with
    /// ``unavailable``).
    private func replacePool() {
        let fresh = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let runner = Task.detached { await fresh.run() }
        let old = state.withLock { state -> Task<Void, Never>? in
            guard !state.closed else { return runner }
            defer {
                state.client = fresh
                state.runner = runner
            }
            return state.runner
        }
        old?.cancel()
    }
}

extension PostgresDatabase {
    /// Whether `error` means the server cannot be reached or went away (rather than refusing a statement): a
    /// connection refused, closed or timed out, the pool's circuit breaker, or the server shutting down, starting
    /// up, or out of connections (SQLSTATE classes 08 and 57P, and 53300).
    package static func isConnectionFailure(_ error: any Error) -> Bool {
        if let error = error as? PostgresTransactionError {
            return (error.closureError ?? error.beginError ?? error.commitError).map(isConnectionFailure) ?? false
        }
        // The pool's own errors (its circuit breaker tripped, it shut down) come from a module this package does
        // not import (`_ConnectionPoolModule`): told by their type's name.
        if String(describing: type(of: error)) == "ConnectionPoolError" { return true }
        if error is ConnectionClosed { return true }
        guard let error = error as? PSQLError else { return false }
        if let state = error.serverInfo?[.sqlState] {
            return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
            return true
        default:
            return false
        }
    }
}
