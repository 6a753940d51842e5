/// What an API key may be used for. Every route that needs a caller names the one scope a key must hold to call it
/// (``Route/scope``); `admin` is the owner's full rights: every other scope, the account's own routes (profile,
/// password, keys) and, for an admin owner, the admin routes.
public enum APIKeyScope: String, Sendable, CaseIterable, Comparable {
    /// `POST /predict/{model}` and the Open Inference Protocol's model routes.
    case predict
    /// The prediction log: `/logs`, its stream, socket and export.
    case logsRead = "logs:read"
    /// The model registry, read only.
    case modelsRead = "models:read"
    /// `/chat/*` and the OpenAI API's `/v1/*`.
    case chat
    /// Training jobs, and writing the registry (import, delete).
    case train
    /// Everything the owner may do.
    case admin

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// `predict,logs:read`: a comma-separated list, each scope once, in the order of ``allCases``; 422 naming
    /// `field` for an empty list or an unknown scope.
    public static func list(_ text: String, field: String = "scopes") throws(XalorraError) -> [APIKeyScope] {
        var scopes: Set<APIKeyScope> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(part).trimmingCharacters(in: " ")
            guard let scope = APIKeyScope(rawValue: name) else {
                let names = allCases.map(\.rawValue).joined(separator: ", ")
                throw XalorraError.invalid(field, "'\(name.prefix(40))' is not a scope (expected \(names))")
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else { throw XalorraError.invalid(field, "name at least one scope") }
        return scopes.sorted()
    }

    /// Whether a key holding `scopes` may call a route that needs this scope.
    public func isGranted(by scopes: [APIKeyScope]) -> Bool { scopes.contains(self) || scopes.contains(.admin) }
}

extension String {
    /// The string without `character` at either end.
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var text = Substring(self)
        while text.first == character { text.removeFirst() }
        while text.last == character { text.removeLast() }
        return String(text)
    }
}
