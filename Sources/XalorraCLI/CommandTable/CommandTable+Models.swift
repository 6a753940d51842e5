import XalorraCore
import XalorraML

/// The model commands' rows of the table: `train` and `models`.
extension CommandTable {
    static let train = CommandSpec(
        "train", summary: "Train a model version from a CSV; list, show and cancel training jobs.",
        discussion: """
            Reads the CSV (--data - reads standard input), trains with a progress bar on a terminal, and prints the \
            new version and its validation metrics. Offline it trains in this process; with --url the server runs \
            the job and this command follows it (Ctrl-C cancels it). --detach only queues the job and prints its \
            id: the server, or a `xalorra serve` on the same store, runs it. With --json, prints the finished \
            job's body (GET /train/jobs/{id}); with --detach, the body of the 202. The settings that do not apply \
            to the kind are ignored (linear and logistic use --l2, --valid-fraction and --seed).
            """,
        arguments: [ArgumentSpec("model", "Name of the model to train a new version of")],
        options: [
            .value("--data", .file, metaVar: "csv", "Training data, CSV with a header row; - reads stdin (required)"),
            .value("--target", .text, metaVar: "column", "Column to predict (required)"),
            .value("--kind", .choice(ModelKind.trainable.map(\.rawValue)), metaVar: "kind", default: "gbdt", "Model kind"),
            .value("--trees", .integer(trainingRange("trees")), metaVar: "n", default: "100", "Boosting rounds (gbdt)"),
            .value("--max-depth", .integer(trainingRange("max_depth")), metaVar: "d", default: "6", "Deepest a tree grows (gbdt)"),
            .value("--learning-rate", .number, metaVar: "x", default: "0.1", "Shrinkage, above 0 and at most 1 (gbdt)"),
            .value("--min-samples-leaf", .integer(trainingRange("min_samples_leaf")), metaVar: "n", default: "20",
                "Fewest training rows in a leaf (gbdt)"),
            .value("--l2", .number, metaVar: "x", default: "1.0", "L2 penalty, at least 0"),
            .value("--bins", .integer(trainingRange("bins")), metaVar: "n", default: "255", "Histogram bins per feature (gbdt)"),
            .value("--valid-fraction", .number, metaVar: "f", default: "0.2",
                "Share held out for metrics and early stopping, at least 0 and below 1"),
            .value("--early-stopping", .integer(trainingRange("early_stopping")), metaVar: "n", default: "off",
                "Stop after n rounds without a better validation loss (gbdt)"),
            .value("--seed", .integer(trainingRange("seed")), metaVar: "n", default: "0", "Seeds the validation split"),
            .value("--objective", .choice(Hyperparameters.Objective.allCases.map(\.rawValue)), metaVar: "objective",
                default: "auto", "What gbdt minimises; auto: log-loss for a 0/1 target, else squared error"),
            .value("--threads", .integer(trainingRange("threads")), metaVar: "n", default: "all cores offline, 1 on a server",
                "Training threads (same result)"),
            .flag("--detach", "Queue the job, print its id and return without waiting"),
        ],
        subcommands: [
            CommandSpec(
                "jobs", summary: "List training jobs, newest first.",
                options: [
                    .value("--model", .text, metaVar: "model", "Only this model's jobs"),
                    .value("--status", .choice(TrainingJob.Status.allCases.map(\.rawValue)), metaVar: "status",
                        "Only jobs in this state"),
                ] + paging(max: TrainingJobQuery.maxLimit) + [
                    .value("--tenant", .text, metaVar: "tenant", default: "your tenant", "Another tenant's jobs (admins)"),
                ],
                examples: ["xalorra train jobs", "xalorra train jobs --model price --status running --json"],
                run: TrainCommand.jobs),
            CommandSpec(
                "show", summary: "Show a training job: status, progress, settings, the version it made.",
                arguments: [ArgumentSpec("job", "The job (job_…)")],
                examples: ["xalorra train show job_3"], run: TrainCommand.show),
            CommandSpec(
                "cancel", summary: "Cancel a queued or running training job.",
                arguments: [ArgumentSpec("job", "The job (job_…)")],
                examples: ["xalorra train cancel job_3"], run: TrainCommand.cancel),
        ],
        examples: [
            "xalorra train price --data houses.csv --target price --kind gbdt",
            "xalorra train churn --data users.csv --target churned --kind logistic --url http://127.0.0.1:8001",
            "xalorra train price --data houses.csv --target price --trees 500 --early-stopping 20 --detach",
        ],
        run: TrainCommand.train)

    static let models = CommandSpec(
        "models", summary: "List, show, import, export and delete model versions.",
        discussion: """
            Without a subcommand, lists the models like `models list`. A model is NAME; one of its versions is \
            NAME@VERSION, and NAME alone means the newest. Versions never change: a new training or import adds one.
            """,
        options: modelListOptions,
        subcommands: [
            CommandSpec(
                "list", summary: "List models with their newest versions.", options: modelListOptions,
                examples: ["xalorra models list", "xalorra models list --json"], run: ModelsCommand.list),
            CommandSpec(
                "show",
                summary: "Show a model version: kind, features, metrics, settings, size (NAME: the newest, and the list).",
                arguments: [ArgumentSpec("model", "NAME or NAME@VERSION")],
                examples: ["xalorra models show price", "xalorra models show price@2 --json"], run: ModelsCommand.show),
            CommandSpec(
                "import", summary: "Import an XGBoost JSON model, a LightGBM text model or a `models export` file as the next version.",
                arguments: [
                    ArgumentSpec("model", "Model name"),
                    ArgumentSpec(
                        "file", .file, "XGBoost JSON model, LightGBM text model, or a file `models export` wrote; - reads stdin"),
                ],
                examples: ["xalorra models import xgb-v2 model.json"], run: ModelsCommand.importModel),
            CommandSpec(
                "export", summary: "Write a model version to a file that `models import` reads back.",
                arguments: [
                    ArgumentSpec("model", "NAME or NAME@VERSION"), ArgumentSpec("file", .file, "Output file; - for stdout"),
                ],
                examples: ["xalorra models export price@2 price-2.json"], run: ModelsCommand.export),
            CommandSpec(
                "delete", summary: "Delete a model with all its versions, or one version of it.",
                arguments: [ArgumentSpec("model", "NAME (every version) or NAME@VERSION")],
                options: [.flag("--yes", short: "y", "Do not ask for confirmation on a terminal")],
                examples: ["xalorra models delete price@1", "xalorra models delete price --yes"],
                run: ModelsCommand.delete),
            CommandSpec(
                "drift", summary: "Compare a version's logged inputs and predictions with its training data (PSI).",
                discussion: """
                    Bins the rows logged for the version (NAME: the newest) in your tenant since --since as its \
                    training data was binned, and prints each feature's and the predictions' population stability \
                    index (PSI), the share of missing values now and in training, and a verdict: PSI below 0.1 \
                    stable, from 0.1 moderate, from 0.2 drifted (flagged). Imported versions, and versions trained \
                    before profiles were kept, have no training profile: retrain them.
                    """,
                arguments: [ArgumentSpec("model", "NAME or NAME@VERSION")],
                options: [
                    .value("--since", .time, metaVar: "time", default: "24h",
                        "Rows logged from this ISO time, or this long ago (15m, 2h, 7d)"),
                ],
                examples: ["xalorra models drift price", "xalorra models drift price@2 --since 7d"],
                run: ModelsCommand.drift),
        ],
        examples: ["xalorra models", "xalorra models show price", "xalorra models import xgb-v2 model.json"],
        run: ModelsCommand.list)

    /// The options of `models` and `models list`.
    private static let modelListOptions =
        paging(max: ModelQuery.maxLimit) + [
            .value("--tenant", .text, metaVar: "tenant", default: "your tenant", "Another tenant's models (admins)"),
        ]
}

/// The whole numbers the training setting `name` allows, from its rule (``Hyperparameters/fields``): the options take
/// exactly what the API takes.
private func trainingRange(_ name: String) -> ClosedRange<Int> {
    guard let range = Hyperparameters.integerRange(name) else { preconditionFailure("no integer rule for \(name)") }
    return range
}
