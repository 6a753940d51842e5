public import XalorraML

/// The product's surface: one method per operation. `LocalAPI` implements it on the store; the server's controllers
/// and the CLI's commands call it and do nothing else but translate.
public protocol XalorraAPI: Sendable {
    /// Predicts with `model` (`name` or `name@version`) and logs the answer.
    func predict(model: String, features: [Number]) async throws(XalorraError) -> Prediction

    /// Predicts every row with one model version and logs them all in one transaction (all or nothing).
    func predictBatch(model: String, rows: FeatureMatrix) async throws(XalorraError) -> BatchPrediction

    /// Predicts and logs `request` as ``predict(model:features:)`` or ``predictBatch(model:rows:)`` does, then
    /// explains every row with the version that answered (`"explain": true`, `predict --explain`); the explanations
    /// are not logged. A model that cannot be explained is a 422 before anything is predicted.
    func predictExplained(model: String, request: PredictRequest) async throws(XalorraError) -> ExplainedPrediction

    /// A page of the prediction log, newest first.
    func logs(_ query: LogQuery) async throws(XalorraError) -> Page<PredictionRecord>

    /// Predictions logged from now on (or after `id`) that match `query`, oldest first, until the task is cancelled.
    func followLogs(_ query: LogQuery, after id: Int64?) -> AsyncThrowingStream<PredictionRecord, any Error>

    /// Every logged prediction matching the request's filters, oldest first, as the bytes of its format, a chunk at a
    /// time as the consumer pulls (no cap, bounded memory). Refusals (a tenant not the caller's, a bad filter) are
    /// thrown before the first byte; a failure part way ends the stream with that error.
    func exportLogs(_ request: LogExportRequest) async throws(XalorraError) -> AsyncThrowingStream<[UInt8], any Error>

    /// What the Open Inference Protocol says about `model` at `version` (a number or `latest`; the newest when nil):
    /// its versions and the answering version's inputs; the baseline's when no version is stored and the deployment
    /// answers unknown models with it.
    func inferenceMetadata(model: String, version: String?) async throws(XalorraError) -> InferenceModelMetadata

    /// The HTTP route table.
    func routes() async throws(XalorraError) -> [RouteListing]

    /// Mints a token (admins only when remote).
    func mintToken(_ request: TokenRequest) async throws(XalorraError) -> IssuedToken

    /// Verifies a token of either kind and returns its claims.
    func verifyToken(_ token: String) async throws(XalorraError) -> TokenClaims

    /// The store's and the host's health.
    func health() async throws(XalorraError) -> HealthReport

    // MARK: Users: self-service (the Aksara API's /users/*)

    /// Creates an account with role `user` in a tenant of its own (never the operator's), whatever `user` asks for;
    /// refused when `XALORRA_REGISTRATION=closed`.
    func register(_ user: NewUser) async throws(XalorraError) -> User

    /// Exchanges a username or email and password for a token pair.
    func login(_ login: String, password: String) async throws(XalorraError) -> LoginResult

    /// Rotates a refresh token: it is revoked and a new pair issued. A rotated-out token presented again revokes
    /// every token descended from it.
    func refresh(_ refreshToken: String) async throws(XalorraError) -> TokenPair

    /// Revokes one of the caller's refresh tokens.
    func logout(_ refreshToken: String) async throws(XalorraError)

    /// The caller's account.
    func profile() async throws(XalorraError) -> User

    /// Changes the caller's email or full name.
    func updateProfile(_ changes: UserChanges) async throws(XalorraError) -> User

    /// Changes the caller's password after checking the current one; signs every session out.
    func changePassword(current: String, new: String) async throws(XalorraError)

    // MARK: Users: administration

    /// Creates an account with any role and tenant.
    func createUser(_ user: NewUser) async throws(XalorraError) -> User

    /// A page of accounts.
    func users(_ query: UserQuery) async throws(XalorraError) -> Page<User>

    /// One account.
    func user(_ username: String) async throws(XalorraError) -> User

    /// Changes an account's email, name, role, tenant, active flag or password.
    func updateUser(_ username: String, _ changes: UserChanges) async throws(XalorraError) -> User

    /// Deletes an account and its refresh tokens.
    func deleteUser(_ username: String) async throws(XalorraError)

    // MARK: API keys

    /// Creates an API key for the caller (or, for admins, for `request.user`) and returns it: the only time its text
    /// is shown. A key made with a key never may do more than that key.
    func createKey(_ request: APIKeyRequest) async throws(XalorraError) -> CreatedAPIKey

    /// A page of API keys, newest first: the caller's own, or (admins) everyone's or one user's.
    func keys(_ query: APIKeyQuery) async throws(XalorraError) -> Page<APIKey>

    /// One API key by its id: the caller's own, or any for admins.
    func key(_ id: String) async throws(XalorraError) -> APIKey

    /// Revokes an API key at once (every request with it is refused from now on).
    func revokeKey(_ id: String) async throws(XalorraError) -> APIKey

    /// A page of the audit log, newest first (admins).
    func audit(_ query: AuditQuery) async throws(XalorraError) -> Page<AuditEntry>

    // MARK: Chat (the Aksara API's /chat/*)

    /// Saves `message` into the caller's conversation `conversation` (`conv_…`) or a new one, and the AI's reply,
    /// handing the reply's text to `onDelta` as it is produced. When the AI fails (503) the message stays saved.
    func sendMessage(
        _ message: String, conversation: String?, onDelta: @escaping @Sendable (String) async -> Void
    ) async throws(XalorraError) -> ChatReply

    /// A page of the caller's conversations.
    func conversations(_ query: ConversationQuery) async throws(XalorraError) -> Page<Conversation>

    /// One of the caller's conversations with a page of its messages, oldest first.
    func conversation(_ id: String, limit: Int, offset: Int) async throws(XalorraError) -> ConversationDetail

    /// Renames one of the caller's conversations.
    func renameConversation(_ id: String, title: String) async throws(XalorraError) -> ConversationTitle

    /// Deletes one of the caller's conversations with its messages.
    func deleteConversation(_ id: String) async throws(XalorraError)

    // MARK: Chat, as the OpenAI API (/v1/*)

    /// The models a chat completion may name: the configured responder's.
    func chatModels() async throws(XalorraError) -> [ChatModel]

    /// Answers an OpenAI-style chat completion with the configured responder, handing each piece of the reply to
    /// `onDelta` as it is produced; the request's user and assistant messages and the reply are saved as a new
    /// conversation of the caller (the request's before the responder runs, so they stay when it fails).
    func chatCompletion(
        _ request: ChatCompletionRequest, onDelta: @escaping @Sendable (ChatCompletionDelta) async -> Void
    ) async throws(XalorraError) -> ChatCompletion

    // MARK: Models (the registry) and training

    /// A page of the caller's tenant's models (another tenant's for admins), by name.
    func models(_ query: ModelQuery) async throws(XalorraError) -> Page<ModelSummary>

    /// One model with all its versions, newest first.
    func model(_ name: String) async throws(XalorraError) -> ModelDetail

    /// One version: `name` (the newest) or `name@version`.
    func modelVersion(_ reference: String) async throws(XalorraError) -> ModelVersion

    /// A version as a portable JSON document that ``importModel(_:document:)`` reads back.
    func exportModel(_ reference: String) async throws(XalorraError) -> [UInt8]

    /// How the inputs and predictions logged for `model` (`name`: the newest version, or `name@version`) in the
    /// caller's tenant since `since` (``DriftReport/defaultWindow`` ago when `nil`) compare with its training data.
    func drift(model: String, since: Timestamp?) async throws(XalorraError) -> DriftReport

    /// Stores an XGBoost JSON model (or an exported xalorra document) as the next version of `name`.
    func importModel(_ name: String, document: [UInt8]) async throws(XalorraError) -> ModelVersion

    /// Deletes one version (`name@version`) or the whole model (`name`).
    func deleteModel(_ reference: String) async throws(XalorraError)

    /// Queues a training job and returns at once (202 over HTTP); a server's worker runs it.
    func submitTraining(_ request: TrainingRequest) async throws(XalorraError) -> TrainingJob

    /// Trains and waits: in-process offline, as a followed job remotely. `progress` sees the job as it advances;
    /// the job returned has finished (succeeded, or failed/cancelled with its error thrown).
    func train(
        _ request: TrainingRequest, progress: @escaping @Sendable (TrainingJob) async -> Void
    ) async throws(XalorraError) -> TrainingJob

    /// A page of training jobs, newest first.
    func trainingJobs(_ query: TrainingJobQuery) async throws(XalorraError) -> Page<TrainingJob>

    /// One training job.
    func trainingJob(_ id: String) async throws(XalorraError) -> TrainingJob

    /// Cancels a queued or running job; a finished one is a 409.
    func cancelTrainingJob(_ id: String) async throws(XalorraError) -> TrainingJob
}
