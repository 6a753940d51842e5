public import XalorraML

/// How a model version's logged inputs and predictions compare with its training data (issue 16's drift): the
/// population stability index (PSI) of each feature and of the predictions, the share of missing values then and
/// now, and a verdict. `GET /models/{name}/drift` and `xalorra models drift`.
public struct DriftReport: Sendable, Equatable {
    /// What a PSI says: below ``PopulationStability/moderate`` (0.1) stable, from there moderate, from
    /// ``PopulationStability/drifted`` (0.2) on drifted; no data when no rows were logged in the window.
    public enum Verdict: String, Sendable, Equatable, CaseIterable {
        case stable, moderate, drifted
        case noData = "no_data"

        /// The verdict on one PSI (`nil`: nothing to compare).
        public init(psi: Double?) {
            guard let psi else {
                self = .noData
                return
            }
            self = psi >= PopulationStability.drifted ? .drifted : psi >= PopulationStability.moderate ? .moderate : .stable
        }

        /// How bad it is, for the worst of several.
        var rank: Int { [.noData: 0, .stable: 1, .moderate: 2, .drifted: 3][self]! }
    }

    /// One compared column: a feature, or the predictions.
    public struct Column: Sendable, Equatable {
        /// The feature's name (`prediction` for the predictions).
        public let name: String
        /// The population stability index; `nil` when no rows were logged.
        public let psi: Double?
        /// The share of logged rows missing this value; `nil` when no rows were logged.
        public let missingShare: Double?
        /// The share of training rows that missed it.
        public let trainingMissingShare: Double

        /// Creates a column.
        public init(name: String, psi: Double?, missingShare: Double?, trainingMissingShare: Double) {
            self.name = name
            self.psi = psi
            self.missingShare = missingShare
            self.trainingMissingShare = trainingMissingShare
        }

        /// This column's verdict.
        public var verdict: Verdict { Verdict(psi: psi) }
    }

    /// How far back a report looks when not told (`--since`, `?since=`): 24 hours, in seconds.
    public static let defaultWindow: Int64 = 24 * 3600

    /// The model's name.
    public let model: String
    /// The version compared.
    public let version: Int
    /// The window's start: rows logged at or after it count.
    public let since: Timestamp
    /// The window's end (when the report was made).
    public let until: Timestamp
    /// Logged rows in the window.
    public let rows: Int
    /// Training rows the profile was made of.
    public let trainingRows: Int
    /// Each feature, in the model's order.
    public let features: [Column]
    /// The predictions.
    public let prediction: Column

    /// Creates a report.
    public init(
        model: String, version: Int, since: Timestamp, until: Timestamp, rows: Int, trainingRows: Int,
        features: [Column], prediction: Column
    ) {
        self.model = model
        self.version = version
        self.since = since
        self.until = until
        self.rows = rows
        self.trainingRows = trainingRows
        self.features = features
        self.prediction = prediction
    }

    /// The report of what `counter` counted against its profile.
    init(model: String, version: Int, since: Timestamp, until: Timestamp, counter: DriftCounter) {
        let profile = counter.profile
        let features = profile.features.indices.map { index in
            Column(
                name: profile.features[index], psi: counter.stabilityIndex(feature: index),
                missingShare: counter.missingShare(feature: index),
                trainingMissingShare: profile.columns[index].missingShare)
        }
        let prediction = Column(
            name: "prediction", psi: counter.predictionStabilityIndex,
            missingShare: counter.rows > 0 ? 0 : nil, trainingMissingShare: 0)
        self.init(
            model: model, version: version, since: since, until: until, rows: counter.rows,
            trainingRows: profile.rows, features: features, prediction: prediction)
    }

    /// The worst verdict of the features and the predictions: drifted when any PSI is 0.2 or more.
    public var verdict: Verdict {
        guard rows > 0 else { return .noData }
        return (features + [prediction]).map(\.verdict).max { $0.rank < $1.rank } ?? .noData
    }

    /// The features whose PSI is 0.2 or more, in the model's order.
    public var drifted: [String] { features.filter { $0.verdict == .drifted }.map(\.name) }

    /// `name@version`.
    public var reference: String { "\(model)@\(version)" }
}
