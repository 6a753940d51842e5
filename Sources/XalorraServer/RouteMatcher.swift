import XalorraCore

/// Finds the route for a method and path, with its `{name}` parameters, from the route table.
struct RouteMatcher: Sendable {
    /// What a lookup found.
    enum Match {
        case found(Route, parameters: [String: String])
        /// The path exists, but not for this method; the methods it has.
        case methodNotAllowed([String])
        case notFound
    }

    private struct Pattern: Sendable {
        let route: Route
        let segments: [Substring]
    }

    /// Patterns by segment count, then by first segment; those starting with a parameter apart. A lookup checks a
    /// handful of routes, not the whole table, and builds no strings.
    private let byFirst: [[Substring: [Pattern]]]
    private let parameterFirst: [[Pattern]]

    init(routes: [Route]) {
        let patterns = routes.map { Pattern(route: $0, segments: $0.path.split(separator: "/")) }
        let longest = patterns.map(\.segments.count).max() ?? 0
        var byFirst = [[Substring: [Pattern]]](repeating: [:], count: longest + 1)
        var parameterFirst = [[Pattern]](repeating: [], count: longest + 1)
        for pattern in patterns {
            let count = pattern.segments.count
            if let first = pattern.segments.first, first.hasPrefix("{") {
                parameterFirst[count].append(pattern)
            } else {
                byFirst[count][pattern.segments.first ?? "", default: []].append(pattern)
            }
        }
        self.byFirst = byFirst
        self.parameterFirst = parameterFirst
    }

    func match(method: String, path: String) -> Match {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let count = segments.count
        guard count < byFirst.count else { return .notFound }
        let candidates = (byFirst[count][segments.first ?? ""] ?? []) + parameterFirst[count]
        var methods: [String] = []
        for pattern in candidates {
            let matches = zip(pattern.segments, segments).allSatisfy { expected, actual in
                expected.first == "{" || expected == actual
            }
            guard matches else { continue }
            if pattern.route.method == method {
                var parameters: [String: String] = [:]
                for (expected, actual) in zip(pattern.segments, segments) where expected.first == "{" {
                    parameters[String(expected.dropFirst().dropLast())] = Self.parameter(actual)
                }
                return .found(pattern.route, parameters: parameters)
            }
            methods.append(pattern.route.method)
        }
        return methods.isEmpty ? .notFound : .methodNotAllowed(methods)
    }

    /// A path segment's value: `%2F` → `/` (``Route/percentDecoded(_:)``). A segment whose escapes are malformed
    /// (`%zz`, `%`) or do not decode to UTF-8 (`%FF`) is kept as written, so the handler's validation refuses the value
    /// the client sent by its name. (Not Foundation's `removingPercentEncoding`, which answers `nil` for those: the
    /// parameter was then missing, and the refusal named `''`.)
    static func parameter(_ segment: Substring) -> String {
        guard segment.utf8.contains(UInt8(ascii: "%")) else { return String(segment) }
        return Route.percentDecoded(segment).flatMap { String(validating: $0, as: UTF8.self) } ?? String(segment)
    }
}
