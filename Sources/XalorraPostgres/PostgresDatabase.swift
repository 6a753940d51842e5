#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import PostgresNIO
import XalorraCore

/// What every PostgreSQL repository goes through: the pool, with failures as ``XalorraError`` (a message for people,
/// never SQL, internals or the password).
package struct PostgresDatabase: Sendable {
    /// The pool, behind its fault guard (``PostgresPool``); ``PostgresStore`` runs it.
    package let client: PostgresPool
    /// Where the server is (its password never goes into a message).
    package let location: PostgresLocation
    package let logger: Logger

    /// Runs `body` on a leased connection.
    package func withConnection<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T
    ) async throws(XalorraError) -> T {
        do {
            return try await client.withConnection { connection in try await body(connection) }
        } catch {
            throw describe(error)
        }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    package func transaction<T: Sendable>(
        _ body: (PostgresConnection) async throws -> T
    ) async throws(XalorraError) -> T {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch {
            throw describe(error)
        }
    }

    /// Runs `query` on any connection and collects its rows.
    package func rows(_ query: PostgresQuery) async throws(XalorraError) -> [PostgresRow] {
        do {
            let logger = self.logger
            return try await client.withConnection { connection in try await connection.rows(query, logger: logger) }
        } catch {
            throw describe(error)
        }
    }

    /// Runs a statement whose rows do not matter.
    package func execute(_ query: PostgresQuery) async throws(XalorraError) {
        _ = try await rows(query)
    }

    /// Waits for `body` on a thread that may block (a training thread, never an event loop): for the few
    /// repository methods that are synchronous.
    package func blocking<T: Sendable>(
        _ body: @escaping @Sendable () async throws(XalorraError) -> T
    ) throws(XalorraError) -> T {
        let box = ResultBox<T>()
        let semaphore = DispatchSemaphoreLite()
        Task.detached {
            do throws(XalorraError) {
                box.result = .success(try await body())
            } catch {
                box.result = .failure(error)
            }
            semaphore.signal()
        }
        semaphore.wait()
        return try box.result!.get()
    }

    /// `error` as a message for people: a refusal the code threw passes through; a server that cannot be reached or
    /// went away is 503 `SERVICE_UNAVAILABLE` (``PostgresPool/unavailable(_:)``); otherwise the server's message
    /// (without the statement).
    package func describe(_ error: any Error) -> XalorraError {
        Self.describe(error, location: location)
    }

    /// - Parameter opening: the store is being opened (a command, `serve` starting): a server that cannot be
    ///   reached is `cannot reach PostgreSQL at host:port: why` then, for the person who typed the URL.
    package static func describe(_ error: any Error, location: PostgresLocation, opening: Bool = false) -> XalorraError {
        if let error = error as? XalorraError { return error }
        // `withTransaction` wraps whatever happened inside: report the cause (a 404 thrown in the closure stays one).
        if let error = error as? PostgresTransactionError {
            if let cause = error.closureError ?? error.beginError ?? error.commitError {
                return describe(cause, location: location, opening: opening)
            }
        }
        if !opening && isConnectionFailure(error) { return PostgresPool.unavailable(location) }
        if let state = PostgresState.of(error), PostgresState.timedOut.contains(state) { return busy }
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return XalorraError(.internal, "PostgreSQL: \(message)\(state)")
            }
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown:
                return unreachable(location, reason: error.underlying.map { "\($0)" } ?? "\(error.code)")
            case .sslUnsupported:
                return unreachable(location, reason: "the server does not offer TLS (sslmode=require)")
            case .authMechanismRequiresPassword:
                return unreachable(location, reason: "the server asks for a password and the URL has none")
            default:
                return XalorraError(.internal, "PostgreSQL: \(error.code)")
            }
        }
        if error is CancellationError { return XalorraError(.internal, "PostgreSQL: the request was cancelled") }
        // Only the network's own failures mean the server cannot be reached (review V, F5): a row that does not
        // decode, or any other error, is a fault of the store or of this build, not an outage.
        if error is PostgresDecodingError { return XalorraError(.internal, "store: a stored row cannot be read") }
        if error is ChannelError || error is IOError
            || String(describing: type(of: error)) == "NIOConnectionError"
        {
            return unreachable(location, reason: "\(error)")
        }
        return XalorraError(.internal, "PostgreSQL: unexpected error")
    }

    /// A statement gave up waiting for a lock (`lock_timeout`, 55P03) or ran out of time (`statement_timeout`,
    /// 57014): the database is held up by someone else's transaction, so the request is retried shortly.
    package static let busy = XalorraError(
        .serviceUnavailable, "the database is busy (a lock or a statement timed out); try again shortly", retryAfter: 1)

    /// `cannot reach PostgreSQL at host:port: reason` (the reason never holds the URL's password): opening a store
    /// (a command, `serve` starting) says why; a request on an open one gets ``PostgresPool/unavailable(_:)``.
    package static func unreachable(_ location: PostgresLocation, reason: String) -> XalorraError {
        var reason = reason
        if let password = location.password, !password.isEmpty {
            reason = reason.replacingAll(password, with: "***")
        }
        let host = location.host.contains(":") ? "[\(location.host)]" : location.host
        return XalorraError(.internal, "cannot reach PostgreSQL at \(host):\(location.port): \(reason)")
    }
}

/// A one-shot result slot handed between a task and a waiting thread (the semaphore orders the accesses).
private final class ResultBox<T: Sendable>: @unchecked Sendable {
    var result: Result<T, XalorraError>?
}

/// A counting semaphore on a pthread mutex and condition: no Foundation or Dispatch needed.
private final class DispatchSemaphoreLite: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var count = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        count += 1
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait() {
        pthread_mutex_lock(&mutex)
        while count == 0 { pthread_cond_wait(&condition, &mutex) }
        count -= 1
        pthread_mutex_unlock(&mutex)
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation).
    fileprivate func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            out += rest[..<range.lowerBound]
            out += replacement
            rest = rest[range.upperBound...]
        }
        return out + rest
    }
}

extension PostgresConnection {
    /// Runs `query` and collects its rows.
    package func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await rows(query, logger)
    }
}

/// A statement built piece by piece with numbered parameters (`$1`, `$2`, …), for filters that vary.
package struct SQLBuilder {
    package var text: String
    package var bindings = PostgresBindings()

    package init(_ text: String = "") { self.text = text }

    /// Binds `value` and returns its placeholder.
    package mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    /// Binds `value` (or NULL) and returns its placeholder.
    package mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) -> String {
        bindings.append(value)
        return "$\(bindings.count)"
    }

    package var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: bindings) }
}
