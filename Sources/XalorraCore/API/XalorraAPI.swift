public import XalorraML

/// The product's surface: one method per operation. `LocalAPI` implements it on the store; the server's controllers
/// and the CLI's commands call it and do nothing else but translate.
public protocol XalorraAPI: Sendable {
    /// Predicts with `model` (`name` or `name@version`) and logs the answer.
    func predict(model: String, features: [Number]) async throws(XalorraError) -> Prediction

    /// Predicts every row with one model version and logs them all in one transaction (all or nothing).
    func predictBatch(model: String, rows: FeatureMatrix) async throws(XalorraError) -> BatchPrediction

    /// A page of the prediction log, newest first.
    func logs(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord>

    /// Predictions logged from now on (or after `id`) that match `query`, oldest first, until the task is cancelled.
    func followLogs(_ query: LogQuery, after id: Int64?) -> AsyncThrowingStream<PredictionRecord, any Error>

    /// The HTTP route table.
    func routes() async throws(XalorraError) -> [Route]

    /// Mints a token (admins only when remote).
    func mintToken(_ request: TokenRequest) async throws(XalorraError) -> IssuedToken

    /// Verifies a token of either kind and returns its claims.
    func verifyToken(_ token: String) async throws(XalorraError) -> TokenClaims

    /// The store's and the host's health.
    func health() async throws(XalorraError) -> HealthReport
}
