#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Computing metrics from predictions and the true targets.
extension Metrics {
    /// RMSE, MAE and R² of `predictions` against `targets` (same length).
    ///
    /// R² is `1 − SS_res / SS_tot`; it is `nil` when the targets are all equal (SS_tot = 0), where it is undefined.
    /// Every metric is `nil` for no rows.
    public static func regression(predictions: [Double], targets: [Double]) -> Metrics {
        precondition(predictions.count == targets.count, "one prediction per target")
        let count = targets.count
        guard count > 0 else { return Metrics(rows: 0) }
        let mean = targets.reduce(0, +) / Double(count)
        var squares = 0.0
        var absolutes = 0.0
        var total = 0.0
        for (prediction, target) in zip(predictions, targets) {
            let error = prediction - target
            squares += error * error
            absolutes += abs(error)
            total += (target - mean) * (target - mean)
        }
        return Metrics(
            rows: count,
            rmse: (squares / Double(count)).squareRoot(),
            mae: absolutes / Double(count),
            r2: total > 0 ? 1 - squares / total : nil
        )
    }

    /// Log-loss, accuracy and AUC of the probabilities of class 1 against 0/1 `targets` (same length).
    ///
    /// Probabilities are clipped to [1e-15, 1 − 1e-15] for the log-loss; a row counts as class 1 when its
    /// probability is above 0.5 (exactly 0.5 is class 0, as scikit-learn decides); AUC is the Mann–Whitney
    /// statistic with tied probabilities ranked by their average, and `nil` unless both classes occur.
    /// Every metric is `nil` for no rows.
    public static func classification(probabilities: [Double], targets: [Double]) -> Metrics {
        precondition(probabilities.count == targets.count, "one probability per target")
        let count = targets.count
        guard count > 0 else { return Metrics(rows: 0) }
        var loss = 0.0
        var correct = 0
        for (probability, target) in zip(probabilities, targets) {
            let positive = target > 0.5
            // Clip the probability of the true class rather than `p` itself, so that `1 − p` is not rounded
            // (1 − (1 − 1e-15) is 1.11e-15 in doubles) and a certain mistake costs exactly −ln 1e-15 either way.
            let likelihood = positive ? probability : 1 - probability
            loss -= log(min(max(likelihood, 1e-15), 1 - 1e-15))
            if (probability > 0.5) == positive { correct += 1 }
        }
        return Metrics(
            rows: count,
            logLoss: loss / Double(count),
            accuracy: Double(correct) / Double(count),
            auc: areaUnderCurve(probabilities: probabilities, targets: targets)
        )
    }

    /// Multi-class log-loss and accuracy of `probabilities` (`classCount` per row, in class order) against each row's
    /// class index `classes`: the probability of the true class clipped to [1e-15, 1 − 1e-15] for the log-loss, and a
    /// row counted right when its most probable class (the first on a tie) is the true one. No AUC.
    public static func multiClass(probabilities: [Double], classes: [Int], classCount: Int) -> Metrics {
        precondition(probabilities.count == classes.count * classCount, "classCount probabilities per row")
        let count = classes.count
        guard count > 0 else { return Metrics(rows: 0) }
        var loss = 0.0
        var correct = 0
        probabilities.withUnsafeBufferPointer { probabilities in
            for (row, label) in classes.enumerated() {
                let first = probabilities.baseAddress! + row * classCount
                loss -= log(min(max(first[label], 1e-15), 1 - 1e-15))
                if TreeEnsemble.argmax(first, count: classCount) == label { correct += 1 }
            }
        }
        return Metrics(rows: count, logLoss: loss / Double(count), accuracy: Double(correct) / Double(count))
    }

    /// The ROC AUC from ranks: `(Σ ranks of positives − n₁(n₁+1)/2) / (n₁·n₀)`, ties sharing their mean rank.
    static func areaUnderCurve(probabilities: [Double], targets: [Double]) -> Double? {
        let positives = targets.count(where: { $0 > 0.5 })
        let negatives = targets.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = probabilities.indices.sorted { probabilities[$0] < probabilities[$1] }
        var rankSum = 0.0
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, probabilities[order[end]] == probabilities[order[start]] { end += 1 }
            // Ranks start + 1 ... end share their mean.
            let rank = Double(start + 1 + end) / 2
            for position in start..<end where targets[order[position]] > 0.5 { rankSum += rank }
            start = end
        }
        let n1 = Double(positives)
        return (rankSum - n1 * (n1 + 1) / 2) / (n1 * Double(negatives))
    }
}
