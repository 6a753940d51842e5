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

    private let patterns: [Pattern]

    init(routes: [Route]) {
        patterns = routes.map { Pattern(route: $0, segments: $0.path.split(separator: "/")) }
    }

    func match(method: String, path: String) -> Match {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods: [String] = []
        for pattern in patterns where pattern.segments.count == segments.count {
            var parameters: [String: String] = [:]
            var matches = true
            for (expected, actual) in zip(pattern.segments, segments) {
                if expected.first == "{", expected.last == "}" {
                    parameters[String(expected.dropFirst().dropLast())] = String(actual).removingPercentEncoding
                } else if expected != actual {
                    matches = false
                    break
                }
            }
            guard matches else { continue }
            if pattern.route.method == method { return .found(pattern.route, parameters: parameters) }
            methods.append(pattern.route.method)
        }
        return methods.isEmpty ? .notFound : .methodNotAllowed(methods)
    }
}

extension String {
    /// `%2F` → `/`; malformed escapes are kept as written (the handler's validation then refuses the value).
    var removingPercentEncoding: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return self }
            bytes.append(value)
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}
