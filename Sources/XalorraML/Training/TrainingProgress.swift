/// Where a training run is, reported after each boosting round or solver iteration.
public struct TrainingProgress: Sendable, Equatable {
    /// Rounds or iterations done.
    public var done: Int
    /// Rounds or iterations planned (an iterative solver's is its cap).
    public var total: Int
    /// The loss on the validation split after this step, when there is one.
    public var validationLoss: Double?

    /// Creates a report.
    public init(done: Int, total: Int, validationLoss: Double?) {
        self.done = done
        self.total = total
        self.validationLoss = validationLoss
    }
}

/// Why training stopped without a model.
public struct TrainingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, for people.
    public let message: String
    /// Whether it stopped because the observer asked it to.
    public let cancelled: Bool

    /// Creates an error.
    public init(_ message: String, cancelled: Bool = false) {
        self.message = message
        self.cancelled = cancelled
    }

    /// Training was cancelled.
    public static let cancelledByObserver = TrainingError("training was cancelled", cancelled: true)

    public var description: String { message }
}
