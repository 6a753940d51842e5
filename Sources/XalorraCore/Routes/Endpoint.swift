/// Every operation of the HTTP API, by name: a route's identity. Its ``route`` holds everything else about it
/// (defined once, in `RouteTable.swift`); the server answers each case with exactly one handler (an exhaustive
/// `switch`, so a route without one does not compile), and the client builds its requests from it.
public enum Endpoint: String, Sendable, CaseIterable {
    // The Xalorra internal API v0.3 (the seed's four endpoints).
    case root, whoami, echo, predict
    // The Aksara AI API's users.
    case register, login, refresh, logout, profile, updateProfile, changePassword
    // The Aksara AI API's chat.
    case sendMessage, conversations, conversation, renameConversation, deleteConversation
    // The prediction log and its realtime feeds.
    case logs, logStream, logSocket, logExport
    // The model registry.
    case models, model, deleteModel, modelVersion, exportModelVersion, deleteModelVersion, importModel
    // Drift of a model version's inputs and predictions (issue 16).
    case modelDrift
    // Training jobs.
    case train, trainingJobs, trainingJob, cancelTrainingJob
    // Administration.
    case users, createUser, user, updateUser, deleteUser, mintToken
    // API keys (issue 18): the caller's own, and everyone's for admins.
    case keys, createKey, key, revokeKey, adminKeys
    // The audit log (issue 18).
    case audit
    // Health, documentation and metrics.
    case health, healthDetailed, routes, openAPI, docs, metrics
    // The dashboard (issue 17): its page and its files.
    case dashboard, dashboardAsset
    // The Open Inference Protocol (KServe v2).
    case inferenceServer, inferenceLive, inferenceReady, inferenceModel, inferenceModelReady, inferenceVersion
    case inferenceVersionReady, infer, inferVersion
    // The OpenAI API's chat.
    case chatModels, chatModel, chatCompletions

    /// This operation's route.
    public var route: Route { RouteTable.byEndpoint[self]! }
}
