import XalorraCore
import XalorraPostgres

/// Which store the live servers and binaries a test starts run on. SQLite unless a test runs under
/// ``run(_:_:)`` with `.postgres`: then every ``LiveServer`` started without an explicit `XALORRA_DATABASE_URL` gets
/// a fresh database on the test cluster (``PostgresCluster``), and its ``BinaryRunner`` (the offline runs) the same.
/// So a suite runs against PostgreSQL by calling its SQLite test bodies inside `run(.postgres)`.
enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite
    case postgres

    @TaskLocal static var current: TestBackend = .sqlite

    var description: String { rawValue }

    /// The backends this machine can run: SQLite, and PostgreSQL when it is installed (always under CI).
    static var available: [TestBackend] { PostgresCluster.enabled ? [.sqlite, .postgres] : [.sqlite] }

    /// Runs `body` with `backend` as the current one.
    static func run<T: Sendable>(_ backend: TestBackend, _ body: () async throws -> T) async throws -> T {
        try await $current.withValue(backend) { try await body() }
    }

    /// The environment a new live server adds for the current backend: a new database's URL on PostgreSQL.
    static func environment() async throws -> [String: String] {
        switch current {
        case .sqlite: [:]
        case .postgres: ["XALORRA_DATABASE_URL": try await PostgresCluster.shared.freshDatabase()]
        }
    }

    /// The store `settings` name when it is a PostgreSQL one, opened for an in-process ``LocalAPI`` (SQLite's
    /// opens itself); close it when done.
    static func store(for settings: Settings) async throws -> (any Store)? {
        guard case .postgres(let location) = settings.database else { return nil }
        return try await PostgresStore.open(location, maximumConnections: 4)
    }
}
