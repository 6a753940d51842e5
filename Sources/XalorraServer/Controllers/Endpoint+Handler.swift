import XalorraCore

extension Endpoint {
    /// The controller function that answers this operation. The `switch` is exhaustive: an endpoint without a
    /// handler does not compile, and none can have two.
    func handler(metrics: ServerMetrics) -> RouteHandler {
        switch self {
        case .root: ServiceController.root
        case .whoami: PredictionController.whoami
        case .echo: PredictionController.echo
        case .predict: PredictionController.predict

        case .register: UsersController.register
        case .login: UsersController.login
        case .refresh: UsersController.refresh
        case .logout: UsersController.logout
        case .profile: UsersController.profile
        case .updateProfile: UsersController.updateProfile
        case .changePassword: UsersController.changePassword

        case .sendMessage: ChatController.sendMessage
        case .conversations: ChatController.conversations
        case .conversation: ChatController.conversation
        case .renameConversation: ChatController.renameConversation
        case .deleteConversation: ChatController.deleteConversation

        case .logs: PredictionController.logs
        case .logStream: PredictionController.logStream
        case .logSocket: PredictionController.logSocket
        case .logExport: LogExportController.export

        case .models: ModelsController.models
        case .model: ModelsController.model
        case .deleteModel: ModelsController.deleteModel
        case .modelVersion: ModelsController.modelVersion
        case .exportModelVersion: ModelsController.exportModelVersion
        case .deleteModelVersion: ModelsController.deleteModelVersion
        case .importModel: ModelsController.importModel
        case .modelDrift: ModelsController.drift

        case .train: TrainingController.train
        case .trainingJobs: TrainingController.trainingJobs
        case .trainingJob: TrainingController.trainingJob
        case .cancelTrainingJob: TrainingController.cancelTrainingJob

        case .users: UsersController.users
        case .createUser: UsersController.createUser
        case .user: UsersController.user
        case .updateUser: UsersController.updateUser
        case .deleteUser: UsersController.deleteUser
        case .mintToken: AdminController.mintToken

        case .keys: KeysController.keys
        case .createKey: KeysController.createKey
        case .key: KeysController.key
        case .revokeKey: KeysController.revokeKey
        case .adminKeys: KeysController.adminKeys
        case .audit: AuditController.audit

        case .health: ServiceController.health
        case .healthDetailed: ServiceController.healthDetailed
        case .routes: ServiceController.routes
        case .openAPI: ServiceController.openAPI
        case .docs: ServiceController.docs
        case .metrics: ServiceController.metrics(metrics)
        case .dashboard: DashboardController.page
        case .dashboardAsset: DashboardController.asset

        case .inferenceServer: InferenceController.inferenceServer
        case .inferenceLive: InferenceController.inferenceLive
        case .inferenceReady: InferenceController.inferenceReady
        case .inferenceModel: InferenceController.inferenceModel
        case .inferenceModelReady: InferenceController.inferenceModelReady
        case .inferenceVersion: InferenceController.inferenceVersion
        case .inferenceVersionReady: InferenceController.inferenceVersionReady
        case .infer: InferenceController.infer
        case .inferVersion: InferenceController.inferVersion

        case .chatModels: OpenAIController.models
        case .chatModel: OpenAIController.model
        case .chatCompletions: OpenAIController.chatCompletions
        }
    }
}
