/// The built-in `baseline` kind: the prediction is the sum of the features (the Xalorra seed's dummy model).
///
/// Integer features give an integer sum, as the seed's Python `sum` does; any double, or an integer sum that
/// would overflow 64 bits, gives a double.
public enum BaselineModel {
    /// The version name a baseline answer carries.
    public static let version = "baseline"

    /// Sums `features`.
    public static func predict(_ features: [Number]) -> Number {
        var integer: Int64 = 0
        var index = 0
        while index < features.count {
            guard case .int(let value) = features[index] else { break }
            let (sum, overflow) = integer.addingReportingOverflow(value)
            if overflow { break }
            integer = sum
            index += 1
        }
        if index == features.count { return .int(integer) }
        var total = Double(integer)
        while index < features.count {
            total += features[index].doubleValue
            index += 1
        }
        return .double(total)
    }
}
