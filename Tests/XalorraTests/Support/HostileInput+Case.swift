import Testing
import XalorraCore

extension HostileInput {
    /// One request and what it may answer.
    struct Case: Sendable, CustomStringConvertible {
        let label: String
        let method: String
        let path: String
        let bytes: [UInt8]
        /// Well-formed input that a route may accept (free text, a filter): then any status below 500 will do.
        var mayAccept = false
        /// Malformed at the HTTP level: the server may close the connection without an answer.
        var mayDrop = false
        /// A Server-Sent Events route: only the head is read.
        var stream = false
        /// The only acceptable status, if one is.
        var expected: Int?

        var description: String { "\(label): \(method) \(path.prefix(120))" }
        var isInference: Bool { path == "/v2" || path.hasPrefix("/v2/") || path.hasPrefix("/v2?") }
        var isOpenAI: Bool { path == "/v1" || path.hasPrefix("/v1/") || path.hasPrefix("/v1?") }
    }

    /// What is wrong with the answer to `request`, if anything.
    static func problem(_ request: Case, _ response: RawHTTP.Response?) -> String? {
        guard let response else {
            return request.mayDrop ? nil : "\(request): no answer"
        }
        if let expected = request.expected, response.status != expected {
            return "\(request): \(response.status), expected \(expected): \(response.text.prefix(200))"
        }
        guard response.status < 500 else { return "\(request): \(response)" }
        guard response.status >= 400 else {
            return request.mayAccept ? nil : "\(request): accepted with \(response.status): \(response.text.prefix(200))"
        }
        if request.mayDrop, response.body.isEmpty { return nil }
        guard let json = try? JSONParser.parse(response.body) else {
            return "\(request): \(response.status) without a JSON error body: \(response.text.prefix(200))"
        }
        if request.isInference {
            guard case .string? = json["error"] else { return "\(request): not {\"error\": …}: \(response)" }
        } else if request.isOpenAI {
            guard case .string? = json["error"]?["message"], case .string? = json["error"]?["type"] else {
                return "\(request): not the OpenAI error object: \(response)"
            }
        } else {
            guard case .string? = json["error"]?["code"], case .string? = json["error"]?["message"],
                case .string? = json["timestamp"]
            else { return "\(request): not the error envelope: \(response)" }
        }
        return nil
    }

    /// Runs `cases` four at a time; the problems found.
    static func run(_ cases: [Case], port: Int) async -> [String] {
        await withTaskGroup(of: String?.self) { group in
            var problems: [String] = []
            var pending = cases.makeIterator()
            func probe(_ request: Case) -> @Sendable () async -> String? {
                {
                    do {
                        let response = try await RawHTTP.exchange(port: port, request.bytes, headOnly: request.stream)
                        return problem(request, response)
                    } catch {
                        return "\(request): \(error)"
                    }
                }
            }
            for _ in 0..<4 {
                if let next = pending.next() { group.addTask(operation: probe(next)) }
            }
            while let result = await group.next() {
                if let result { problems.append(result) }
                if let next = pending.next() { group.addTask(operation: probe(next)) }
            }
            return problems
        }
    }
}
