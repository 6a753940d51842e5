/// The `message` of the model and training routes' success envelopes: the server says them, and the CLI prints the
/// same bodies with `--json`.
public enum ModelMessageText {
    public static let modelRetrieved = "Model retrieved successfully"
    public static let versionRetrieved = "Model version retrieved successfully"
    public static let imported = "Model imported successfully"
    public static let jobQueued = "Training job queued"
    public static let jobRetrieved = "Training job retrieved successfully"
    public static let jobCancelled = "Training job cancelled"
}
