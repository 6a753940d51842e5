import XalorraCore
import XalorraML

/// A command-line value after validation against its ``ValueKind``.
public enum ParsedValue: Sendable, Equatable {
    case text(String)
    case integer(Int)
    case number(Number)
    case duration(TimeSpan)
    case time(Timestamp)

    /// Validates `raw` as `kind`; the error text completes "The value 'raw' is invalid for 'name': …".
    static func make(_ raw: String, as kind: ValueKind, now: Timestamp) -> Result<ParsedValue, ValueProblem> {
        switch kind {
        case .text, .file:
            return .success(.text(raw))
        case .integer(let range):
            guard let value = Int(raw), range.contains(value) else {
                return .failure(ValueProblem(
                    "expected a whole number from \(range.lowerBound) to \(range.upperBound)", suggestion: nil))
            }
            return .success(.integer(value))
        case .number:
            guard let number = Number(text: raw) else { return .failure(ValueProblem("not a finite number")) }
            return .success(.number(number))
        case .duration:
            guard let span = TimeSpan(raw) else {
                return .failure(ValueProblem("expected a duration such as 90s, 15m, 1h or 30d"))
            }
            return .success(.duration(span))
        case .time:
            guard let time = Timestamp(isoOrAgo: raw, now: now) else {
                return .failure(ValueProblem("expected \(Timestamp.isoOrAgoExpectation)"))
            }
            return .success(.time(time))
        case .choice(let words):
            guard words.contains(raw) else {
                return .failure(ValueProblem(
                    "expected one of \(words.joined(separator: ", "))",
                    suggestion: Suggestion.closest(to: raw, in: words)))
            }
            return .success(.text(raw))
        }
    }
}

/// Why a value was refused.
struct ValueProblem: Error {
    let reason: String
    let suggestion: String?

    init(_ reason: String, suggestion: String? = nil) {
        self.reason = reason
        self.suggestion = suggestion
    }
}
