extension LocalAPI {
    public func audit(_ query: AuditQuery) async throws(XalorraError) -> Page<AuditEntry> {
        guard caller.role == .admin else {
            throw XalorraError(.insufficientPermissions, "The audit log is for admins")
        }
        return try await store().audit.list(query)
    }

    /// Runs `change` and writes its audit row (who, from where, `action` on `object`, and how it ended), whether it
    /// succeeded or was refused. A row that cannot be written does not undo the change; it is reported as a warning.
    func audited<T: Sendable>(
        _ action: String, object: String, _ change: () async throws(XalorraError) -> T
    ) async throws(XalorraError) -> T {
        do {
            let result = try await change()
            await recordAudit(action, object: object, outcome: "success")
            return result
        } catch {
            await recordAudit(action, object: object, outcome: "failure: \(error.code.name)")
            throw error
        }
    }

    /// Writes the audit row of a login the rate limiter refused: the client at `origin` went past the login limit.
    public func auditRefusedLogin(origin: String) async {
        var anonymous = Caller(user: "anonymous", role: .user, tenant: caller.tenant)
        anonymous.origin = origin
        await acting(as: anonymous).recordAudit(
            "users.login", object: "login", outcome: "failure: \(XalorraError.Code.rateLimited.name)")
    }

    /// Writes one audit row for the caller.
    func recordAudit(_ action: String, object: String, outcome: String) async {
        do {
            try await store().audit.append(
                at: .now(), actor: caller.user, keyID: caller.key?.id, origin: caller.origin ?? "local",
                action: action, object: APIKeySecret.redacted(String(object.prefix(200))), outcome: outcome)
        } catch {
            warn("the audit log was not written for \(action): \(error.message)")
        }
    }
}
