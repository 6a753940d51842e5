/// A set of Unicode scalars, kept as sorted ranges: the characters a ``TextRule`` allows. It is checked in Swift and
/// written as a regular-expression class (`[A-Za-z0-9_]`, `[^\u0000-\u001F]`) that ECMA-262, Python and Rust read
/// alike, so the published pattern and the server's check cannot disagree about a character.
public struct ScalarClass: Sendable, Equatable {
    /// The ranges of scalar values, sorted and disjoint.
    let ranges: [ClosedRange<UInt32>]

    /// The scalars in `ranges` (which may overlap and come in any order).
    init(_ ranges: [ClosedRange<UInt32>]) {
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...Swift.max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        self.ranges = merged
    }

    /// The scalars listed.
    init(_ scalars: String) { self.init(scalars.unicodeScalars.map { $0.value...$0.value }) }

    /// Every scalar.
    public static let all = ScalarClass([0...0x10FFFF])
    /// Every scalar but NUL: what any text may hold (a rule's default), since PostgreSQL refuses NUL in text and
    /// SQLite's C interfaces end text at it.
    public static let text = all.subtracting(nul)
    /// NUL, which ends the store's text columns (and bcrypt's input): text holding one would be cut silently.
    public static let nul = ScalarClass([0...0])
    /// C0 controls (U+0000-U+001F), DEL and the C1 controls (U+0080-U+009F): NUL ends the store's text columns,
    /// line breaks forge lines, ESC drives terminals.
    public static let controls = ScalarClass([0x00...0x1F, 0x7F...0x9F])
    /// The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make text show in
    /// another order than it is stored.
    public static let bidiControls = ScalarClass([0x202A...0x202E, 0x2066...0x2069])
    /// Unicode's White_Space property (what `Unicode.Scalar.Properties.isWhitespace` says), spelled out: regular
    /// expression engines disagree about `\s`.
    public static let whitespace = ScalarClass([
        0x09...0x0D, 0x20...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
    ])
    /// Space and tab: what a trimming rule removes around a value.
    public static let blanks = ScalarClass(" \t")
    /// ASCII letters, digits and underscore.
    public static let word = ScalarClass([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])

    /// Whether `scalar` is in the set.
    public func contains(_ scalar: Unicode.Scalar) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < scalar.value { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(scalar.value)
    }

    /// `U+001B`: how messages name a scalar.
    public static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
    }

    /// The scalars in both.
    public func union(_ other: ScalarClass) -> ScalarClass { ScalarClass(ranges + other.ranges) }

    /// The scalars not in this set.
    public var inverted: ScalarClass {
        var gaps: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { gaps.append(next...(range.lowerBound - 1)) }
            next = range.upperBound &+ 1
        }
        if next <= 0x10FFFF { gaps.append(next...0x10FFFF) }
        return ScalarClass(gaps)
    }

    /// The scalars of this set that are not in `other`.
    public func subtracting(_ other: ScalarClass) -> ScalarClass { inverted.union(other).inverted }

    /// The set as a bracketed class: the shorter of the listed form (`[A-Za-z0-9_]`) and the negated one
    /// (`[^\u0000-\u001F]`), with every scalar outside printable ASCII as `\uXXXX` (all the sets here lie in the
    /// Basic Multilingual Plane, where that escape means the same in every engine).
    public var regex: String {
        let listed = Self.bracket(ranges)
        let negated = Self.bracket(inverted.ranges)
        if let listed, let negated { return listed.count <= negated.count + 1 ? "[\(listed)]" : "[^\(negated)]" }
        if let listed { return "[\(listed)]" }
        // Every set here has a side within the plane; the negation of nothing is any character.
        return negated.map { $0.isEmpty ? "[\\s\\S]" : "[^\($0)]" } ?? "[\\s\\S]"
    }

    /// The ranges inside a class's brackets, or `nil` when one lies outside the Basic Multilingual Plane.
    private static func bracket(_ ranges: [ClosedRange<UInt32>]) -> String? {
        guard ranges.allSatisfy({ $0.upperBound <= 0xFFFF }) else { return nil }
        return ranges.map { range in
            range.lowerBound == range.upperBound
                ? escape(range.lowerBound)
                : range.upperBound == range.lowerBound + 1
                    ? escape(range.lowerBound) + escape(range.upperBound)
                    : "\(escape(range.lowerBound))-\(escape(range.upperBound))"
        }.joined()
    }

    /// Letters and digits as they are; everything else as `\uXXXX`, which no engine reads as syntax.
    private static func escape(_ value: UInt32) -> String {
        switch value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return String(Unicode.Scalar(UInt8(value)))
        default:
            let hex = String(value, radix: 16, uppercase: true)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }
}
