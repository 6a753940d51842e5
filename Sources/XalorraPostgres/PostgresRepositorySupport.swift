import Logging
import NIOCore
import PostgresNIO
import XalorraCore

extension PostgresDatabase {
    /// Runs `body` in one transaction on one leased connection (`BEGIN`, then `COMMIT`, or `ROLLBACK` when it
    /// throws) and returns once the commit is acknowledged. An ``XalorraError`` thrown by `body` passes through
    /// unchanged (the client's own `withTransaction` wraps it).
    /// - Parameter mode: what follows `BEGIN` (`ISOLATION LEVEL REPEATABLE READ READ ONLY`); writes say READ
    ///   COMMITTED, which they are written for, whatever the database's default (review V, F9).
    func inTransaction<T: Sendable>(
        _ mode: String = "ISOLATION LEVEL READ COMMITTED", _ body: (PostgresConnection) async throws -> T
    ) async throws(XalorraError) -> T {
        let logger = self.logger
        do {
            return try await client.withTransaction(mode, logger: logger, body)
        } catch {
            throw describe(error)
        }
    }
}

/// A statement was not sent because its connection had already closed (``PostgresConnection/send(_:_:)``).
struct ConnectionClosed: Error {}

extension PostgresConnection {
    /// Sends `query`, or fails at once with ``ConnectionClosed`` when the connection has already closed: every
    /// statement of the module goes through here. postgres-nio writes a query to its channel without a promise, so
    /// a query written after the channel closed (a fast shutdown's sessions end while the pool still hands them
    /// out) is dropped unanswered and its caller waits forever: a `BEGIN` did, and with it the group commit and
    /// every prediction of that instance behind it (`ClusterTests`, issue 14's "never hang").
    @discardableResult
    func send(_ query: PostgresQuery, _ logger: Logger) async throws -> PostgresRowSequence {
        guard !isClosed else { throw ConnectionClosed() }
        return try await self.query(query, logger: logger)
    }

    /// Every row `query` returns.
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [PostgresRow] {
        try await send(query, logger).collect()
    }

    /// Every row the prepared `statement` returns (prepared on this connection by its first use), behind the same
    /// closed-connection guard as ``send(_:_:)``.
    ///
    /// postgres-nio keeps a preparation that failed as failed on its connection for good: every later use there gets
    /// the same error without asking the server. A preparation can fail for a moment's reason (its table locked by a
    /// migration past `lock_timeout`), so a connection on which the statement failed is closed, whatever the failure,
    /// and the pool opens a fresh one: the failure is that request's answer (503 for a lock timeout), never every
    /// later group's on that connection.
    func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, _ logger: Logger
    ) async throws -> [Statement.Row] {
        guard !isClosed else { throw ConnectionClosed() }
        do {
            var rows: [Statement.Row] = []
            for try await row in try await execute(statement, logger: logger) { rows.append(row) }
            return rows
        } catch {
            // Closed before the lease ends (a connection that just answered closes at once), so that the pool does
            // not hand it out again.
            if !PostgresDatabase.isConnectionFailure(error) { try? await close() }
            throw error
        }
    }

    /// Runs `query` for its effect; how many rows it returned (a statement that says `RETURNING 1`: how many it
    /// changed; the async row sequence has no command tag).
    @discardableResult
    func run(_ query: PostgresQuery, _ logger: Logger) async throws -> Int {
        try await send(query, logger).collect().count
    }
}

extension SQLBuilder {
    /// The statement `sql`, which uses the placeholders bound so far.
    func statement(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: bindings) }
}

/// SQLSTATEs the repositories tell apart.
enum PostgresState {
    /// A unique constraint refused a row.
    static let uniqueViolation = "23505"
    /// A statement that gave up: `lock_timeout` (55P03 lock_not_available) or `statement_timeout` (57014
    /// query_canceled).
    static let timedOut: Set<String> = ["55P03", "57014"]

    /// The SQLSTATE of a failure the server reported, if it is one.
    static func of(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }
}

extension PostgresRandomAccessRow {
    /// The value of column `name`, failures as a damaged-record ``XalorraError``.
    func value<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws(XalorraError) -> T {
        do {
            return try self[name].decode(T.self)
        } catch {
            throw XalorraError(.internal, "store: column \(name) cannot be read")
        }
    }
}

extension ByteBuffer {
    /// The readable bytes as an array.
    var bytes: [UInt8] { Array(readableBytesView) }
}
