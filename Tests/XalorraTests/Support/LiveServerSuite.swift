import Foundation
import NIOHTTP1
import XalorraCore

/// Helpers for black-box suites against a live `xalorra serve` (the `Isolation*Tests`): JSON texts in and out,
/// accounts registered and logged in over HTTP, and concrete paths for the route table's `{parameter}` paths.
protocol LiveServerSuite {}

extension LiveServerSuite {
    typealias Response = (status: Int, headers: HTTPHeaders, body: String)

    /// `text` parsed, or `null` when it is not JSON.
    func json(_ text: String) -> JSONValue { (try? JSONParser.parse(text)) ?? .null }

    /// A JSON number as a double.
    func number(_ value: JSONValue?) -> Double? { value?.numberValue?.doubleValue }

    /// A JSON object's compact text.
    func body(_ members: [(String, JSONValue)]) -> String { JSONWriter.compact(.object(members)) }

    /// `path` with each `{parameter}` replaced from `values` (else a harmless stand-in).
    static func concrete(_ path: String, _ values: [String: String] = [:]) -> String {
        var out = path
        while let open = out.firstIndex(of: "{"), let close = out[open...].firstIndex(of: "}") {
            let name = String(out[out.index(after: open)..<close])
            out.replaceSubrange(open...close, with: values[name] ?? (name == "version" ? "1" : "probe"))
        }
        return out
    }

    /// `POST /users/register` with an address and a full name made up from `name`, and `extra` members.
    func register(_ server: LiveServer, _ name: String, password: String, extra: [(String, JSONValue)] = [])
        async throws -> Response
    {
        try await server.request(
            "POST", "/users/register",
            body: body([("username", .string(name)), ("email", .string("\(name)@x.io")), ("nama_lengkap", "Test User"),
                ("password", .string(password))] + extra))
    }

    /// `POST /users/login`, with `token` as a bearer token if one is given.
    func login(_ server: LiveServer, _ name: String, password: String, token: String? = nil) async throws
        -> Response
    {
        try await server.request(
            "POST", "/users/login", token: token, body: body([("username", .string(name)), ("password", .string(password))]))
    }
}
