/// A command line that does not fit the command table: printed with the command's usage, exit code 2.
public struct UsageError: Error, Sendable, Equatable {
    /// The sentence after `error: `.
    public let message: String
    /// The command whose usage to print.
    public let path: [String]

    /// Creates a usage error for the command at `path`.
    public init(_ message: String, path: [String]) {
        self.message = message
        self.path = path
    }
}

/// Finds the closest spelling for "Did you mean …?".
enum Suggestion {
    /// The candidate nearest to `word` by edit distance, when it is close enough to be a likely typo.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, distance(word, $0)) }.min { $0.1 < $1.1 }
        guard let (best, score) = scored else { return nil }
        return score <= max(2, word.count / 3) ? best : nil
    }

    /// `Did you mean 'x'?` or nothing.
    static func phrase(for word: String, in candidates: [String]) -> String {
        closest(to: word, in: candidates).map { " Did you mean '\($0)'?" } ?? ""
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
